//! The servers of one bridge, by name.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::config::ServerConfig;
use crate::server::McpServer;

/// Every MCP server the bridge serves.
pub struct Bridge {
    servers: BTreeMap<String, McpServer>,
}

/// One server as `GET /servers` lists it.
#[derive(Serialize)]
pub struct Listing {
    /// Its name, the last segment of its path.
    pub name: String,
    /// Its path on the bridge.
    pub path: String,
    /// Where it stands, in a few words.
    pub state: String,
}

impl Bridge {
    /// A bridge for these servers, each waiting `timeout` for an answer.
    pub fn new(servers: BTreeMap<String, ServerConfig>, timeout: Duration) -> Self {
        Self {
            servers: servers
                .into_iter()
                .map(|(name, config)| {
                    let server = McpServer::new(name.clone(), config, timeout);
                    (name, server)
                })
                .collect(),
        }
    }

    /// The server of that name.
    pub fn server(&self, name: &str) -> Option<&McpServer> {
        self.servers.get(name)
    }

    /// The servers' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.servers.keys().map(String::as_str).collect()
    }

    /// Every server, with where it stands.
    pub fn list(&self) -> Vec<Listing> {
        self.servers
            .iter()
            .map(|(name, server)| Listing {
                name: name.clone(),
                path: format!("/servers/{name}"),
                state: server.state(),
            })
            .collect()
    }

    /// Stops every server's program and waits until each has ended.
    pub async fn stop(&self) {
        for server in self.servers.values() {
            server.stop().await;
        }
    }
}
