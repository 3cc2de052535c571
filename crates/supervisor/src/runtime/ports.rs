//! Is a port free, and if not, who holds it? Never clears a port by force.

use std::net::{SocketAddr, TcpListener};

use crate::definitions::{PortMapping, Protocol};

/// `Some(sentence)` when the service's TCP port is already taken, naming the holder when
/// the OS tells: "port 8091 is in use by pid 4242 (llama-server)".
pub fn in_use(port: &PortMapping) -> Option<String> {
    if port.protocol != Protocol::Tcp {
        return None;
    }
    let address = SocketAddr::new(port.host_ip, port.host_port);
    match TcpListener::bind(address) {
        Ok(_) => None,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            Some(match holder(port.host_port) {
                Some((pid, name)) => {
                    format!("port {} is in use by pid {pid} ({name})", port.host_port)
                }
                None => format!("port {} is in use by another program", port.host_port),
            })
        }
        // Other errors (an address this machine does not have…) surface when the service binds.
        Err(_) => None,
    }
}

fn holder(port: u16) -> Option<(u32, String)> {
    listeners::get_process_by_port(port, listeners::Protocol::TCP)
        .ok()
        .map(|process| (process.pid, process.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_reported_with_its_holder() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let port = listener.local_addr().expect("address").port();
        let mapping = PortMapping {
            host_ip: "127.0.0.1".parse().expect("IP"),
            host_port: port,
            container_port: port,
            protocol: Protocol::Tcp,
            location: None,
        };
        let message = in_use(&mapping).expect("taken");
        let expected_start = format!("port {port} is in use by pid {} (", std::process::id());
        assert!(
            message.starts_with(&expected_start)
                || message == format!("port {port} is in use by another program"),
            "{message}"
        );
        drop(listener);
        assert_eq!(in_use(&mapping), None);
    }
}
