//! A small HTTP server on 127.0.0.1 serving "releases" a test made: archives, checksum
//! lists, and the ways a download goes wrong (an error status, a stall, a cut).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// This status, with an empty body.
    Status(u16),
    /// Announces all of these bytes, sends the first `n`, then sends nothing more.
    StallAfter(Vec<u8>, usize),
    /// Announces all of these bytes, sends the first `n`, then closes the connection.
    CutAfter(Vec<u8>, usize),
}

/// The server; it stops with the test's runtime.
pub struct ReleaseServer {
    port: u16,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl ReleaseServer {
    /// Starts serving `routes` (path → reply); any other path answers 404.
    pub async fn start(routes: impl IntoIterator<Item = (&'static str, Reply)>) -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        let routes: BTreeMap<String, Reply> = routes
            .into_iter()
            .map(|(path, reply)| (path.to_string(), reply))
            .collect();
        let server = ReleaseServer {
            port,
            routes: Arc::new(Mutex::new(routes)),
            hits: Arc::default(),
        };
        let (routes, hits) = (Arc::clone(&server.routes), Arc::clone(&server.hits));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&routes), Arc::clone(&hits)));
            }
        });
        server
    }

    /// The address of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replaces what `path` answers.
    pub fn set(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), reply);
    }

    /// How many requests `path` had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

async fn answer(
    mut stream: TcpStream,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
    let reply = routes.lock().expect("routes").get(&path).cloned();
    let head = |status: &str, length: usize| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")
    };
    let _ = match reply {
        Some(Reply::Bytes(bytes)) => {
            let _ = stream
                .write_all(head("200 OK", bytes.len()).as_bytes())
                .await;
            stream.write_all(&bytes).await
        }
        Some(Reply::Status(status)) => {
            let line = match status {
                404 => "404 Not Found".to_string(),
                500 => "500 Internal Server Error".to_string(),
                other => other.to_string(),
            };
            stream.write_all(head(&line, 0).as_bytes()).await
        }
        Some(Reply::StallAfter(bytes, sent)) => {
            let _ = stream
                .write_all(head("200 OK", bytes.len()).as_bytes())
                .await;
            let _ = stream.write_all(&bytes[..sent]).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Some(Reply::CutAfter(bytes, sent)) => {
            let _ = stream
                .write_all(head("200 OK", bytes.len()).as_bytes())
                .await;
            stream.write_all(&bytes[..sent]).await
        }
        None => stream.write_all(head("404 Not Found", 0).as_bytes()).await,
    };
    let _ = stream.shutdown().await;
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A tar.gz archive of `files` (path → (mode, content)).
pub fn tar_gz(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    for (path, mode, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_cksum();
        archive
            .append_data(&mut header, path, *content)
            .expect("an archive entry");
    }
    archive
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .expect("a finished archive")
}

/// A zip archive of `files` (path → (mode, content)).
pub fn zip(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, mode, content) in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        archive.start_file(*path, options).expect("a zip entry");
        archive.write_all(content).expect("its content");
    }
    archive.finish().expect("a finished archive").into_inner()
}

/// A `sha256sum`-style list: one `HASH  NAME` line per file.
pub fn checksums(files: &[(&str, &[u8])]) -> Vec<u8> {
    files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256(bytes)))
        .collect::<String>()
        .into_bytes()
}
