//! A plain HTTP client for the engine's API (unix socket or named pipe, TCP or TLS as `DOCKER_HOST` and
//! `DOCKER_CERT_PATH` say), for the calls whose streams bollard does not give in full.

use http_body_util::Full;

use super::{DockerError, EngineEndpoint};

pub(super) async fn send_to_engine(
    engine: &EngineEndpoint,
    request: hyper::Request<Full<bytes::Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, DockerError> {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    // An `ssh://` engine is spoken to through the socket that runs ssh per connection.
    let bridged = match engine.address.starts_with("ssh://") {
        true => Some(format!(
            "unix://{}",
            super::ssh::local_socket(&engine.address)?.display()
        )),
        false => None,
    };
    let address = bridged.as_deref().unwrap_or(engine.address.as_str());
    let unreachable = |reason: String| DockerError::Unreachable {
        address: address.to_owned(),
        reason,
    };
    let failed =
        |error: hyper_util::client::legacy::Error| unreachable(super::plain_reason(&crate::error::error_chain(&error)));
    let local = address
        .strip_prefix("unix://")
        .or_else(|| address.strip_prefix("npipe://"));
    if let Some(path) = local {
        return send_local(path, request)
            .await
            .map_err(|error| unreachable(super::plain_reason(&crate::error::error_chain(&error))));
    }
    let host = address
        .strip_prefix("tcp://")
        .or_else(|| address.strip_prefix("http://"))
        .or_else(|| address.strip_prefix("https://"))
        .ok_or_else(|| unreachable("the address must start with unix://, tcp:// or https://".to_owned()))?;
    let scheme = if engine.tls_dir.is_some() { "https" } else { "http" };
    let uri: hyper::Uri = format!("{scheme}://{host}{}", request.uri())
        .parse()
        .map_err(|error: hyper::http::uri::InvalidUri| unreachable(error.to_string()))?;
    let (mut parts, body) = request.into_parts();
    parts.uri = uri;
    let request = hyper::Request::from_parts(parts, body);
    match &engine.tls_dir {
        None => {
            let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            client.request(request).await.map_err(failed)
        }
        Some(dir) => {
            let config = tls_config(dir)
                .map_err(|reason| unreachable(format!("the TLS files in {}: {reason}", dir.display())))?;
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            let connector = hyper_rustls::HttpsConnector::from((http, config));
            let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
            client.request(request).await.map_err(failed)
        }
    }
}

/// One request on a connection of its own to the engine's local socket (unix) or named pipe
/// (Windows).
async fn send_local(
    path: &str,
    request: hyper::Request<Full<bytes::Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, std::io::Error> {
    #[cfg(unix)]
    let stream = tokio::net::UnixStream::connect(path).await?;
    #[cfg(windows)]
    let stream = tokio::net::windows::named_pipe::ClientOptions::new().open(path)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    // HTTP/1.1 needs a Host, which the engine checks; a socket has no name, so the CLI's.
    parts
        .headers
        .entry(hyper::header::HOST)
        .or_insert(hyper::header::HeaderValue::from_static("localhost"));
    sender
        .send_request(hyper::Request::from_parts(parts, body))
        .await
        .map_err(std::io::Error::other)
}

/// The engine's CA and this client's certificate and key, from Docker's cert folder.
fn tls_config(dir: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("ca.pem")).map_err(|error| format!("ca.pem: {error}"))? {
        roots
            .add(cert.map_err(|error| format!("ca.pem: {error}"))?)
            .map_err(|error| format!("ca.pem: {error}"))?;
    }
    let chain = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .map_err(|error| format!("cert.pem: {error}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cert.pem: {error}"))?;
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).map_err(|error| format!("key.pem: {error}"))?;
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|error| error.to_string())
}
