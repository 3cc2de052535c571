//! The engine's HTTP clients (program downloads, health checks), and how they speak HTTPS:
//! the platform's own TLS on Windows and macOS; on Linux, rustls with the ring provider,
//! built into the program instead of OpenSSL loaded at every start.

/// A client builder whose clients can speak HTTPS.
pub fn builder() -> reqwest::ClientBuilder {
    #[cfg(target_os = "linux")]
    {
        // The first call installs ring as the process's provider; later calls find one
        // installed (Err), which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server that answers a TLS greeting with plain text: the client must have tried
    /// TLS (its ClientHello arrives) and say why it failed, not panic or send plain HTTP.
    #[tokio::test]
    async fn clients_speak_tls_to_https_addresses() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut first = [0u8; 3];
            stream.read_exact(&mut first).await.expect("read");
            let _ = stream.write_all(b"HTTP/1.1 400 no\r\n\r\n").await;
            first
        });
        let client = super::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        let result = client.get(format!("https://{address}/")).send().await;
        assert!(result.is_err(), "plain text is no TLS answer");
        let first = server.await.expect("the server ran");
        // 0x16: a TLS handshake record; 0x03: its major version.
        assert_eq!(&first[..2], &[0x16, 0x03], "a TLS ClientHello arrived");
    }
}
