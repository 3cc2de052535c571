//! The engine's HTTP clients (program downloads, health checks), and how they speak HTTPS:
//! the platform's own TLS on Windows and macOS; on Linux, rustls with the ring provider,
//! built into the program instead of OpenSSL loaded at every start.

use reqwest::{Client, ClientBuilder};

/// A client configured by `configure`, able to speak HTTPS. It trusts the system's
/// certificate authorities; on a Linux system that has none (a minimal install without
/// ca-certificates), it trusts the list Mozilla keeps, built into the program, rather than
/// failing.
pub fn build(configure: impl Fn(ClientBuilder) -> ClientBuilder) -> Result<Client, reqwest::Error> {
    #[cfg(target_os = "linux")]
    {
        // The first call installs ring as the process's provider; later calls find one
        // installed (Err), which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
        configure(Client::builder()).build().or_else(|error| {
            tracing::warn!(
                "{error:?}; HTTPS trusts the certificate authorities built into this program"
            );
            configure(Client::builder())
                .tls_certs_only(built_in_authorities())
                .build()
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        configure(Client::builder()).build()
    }
}

/// The certificate authorities Mozilla trusts, as built into this program.
#[cfg(target_os = "linux")]
fn built_in_authorities() -> Vec<reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Sends a GET to `https://ADDRESS/` from `client` and returns the first bytes the
    /// server received; the server answers a TLS greeting with plain text, so the client
    /// must have tried TLS (its ClientHello arrives) and say why it failed, not panic or
    /// send plain HTTP.
    async fn greeting_from(client: reqwest::Client) -> [u8; 3] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut first = [0u8; 3];
            stream.read_exact(&mut first).await.expect("read");
            let _ = stream.write_all(b"HTTP/1.1 400 no\r\n\r\n").await;
            first
        });
        let result = client.get(format!("https://{address}/")).send().await;
        assert!(result.is_err(), "plain text is no TLS answer");
        server.await.expect("the server ran")
    }

    #[tokio::test]
    async fn clients_speak_tls_to_https_addresses() {
        let client =
            super::build(|builder| builder.timeout(Duration::from_secs(30))).expect("a client");
        let first = greeting_from(client).await;
        // 0x16: a TLS handshake record; 0x03: its major version.
        assert_eq!(&first[..2], &[0x16, 0x03], "a TLS ClientHello arrived");
    }

    /// What a system without certificate authorities gets (`up` is tested on one in
    /// tests/up.rs): Mozilla's list, and a client that speaks TLS with it.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_built_in_authorities_make_a_client_that_speaks_tls() {
        let authorities = super::built_in_authorities();
        assert!(
            authorities.len() > 100,
            "Mozilla trusts more than 100 authorities, not {}",
            authorities.len()
        );
        let client = super::build(|builder| {
            builder
                .timeout(Duration::from_secs(30))
                .tls_certs_only(super::built_in_authorities())
        })
        .expect("a client");
        let first = greeting_from(client).await;
        assert_eq!(&first[..2], &[0x16, 0x03], "a TLS ClientHello arrived");
    }
}
