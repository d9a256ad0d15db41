//! A minimal HTTP/1.1 client on hyper (already built for axum) for webhooks and the probes
//! of `vigie-eval`.
//! Plain http only: webhooks go to a receiver or TLS relay on the control-room network.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("response is not JSON: {e}"))
    }
}

/// One keep-alive connection to a server.
pub struct HttpConn {
    host: String,
    sender: SendRequest<Full<Bytes>>,
}

fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let u = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    if u.scheme() != "http" {
        return Err(format!("'{url}': only http:// is supported"));
    }
    let host = u.host_str().ok_or_else(|| format!("'{url}' has no host"))?.to_string();
    let port = u.port().unwrap_or(80);
    let mut path = u.path().to_string();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok((host, port, path))
}

impl HttpConn {
    /// `base` is `http://host:port` (any path is ignored).
    pub async fn connect(base: &str) -> Result<HttpConn, String> {
        let (host, port, _) = split_url(base)?;
        let addr = format!("{host}:{port}");
        let stream = TcpStream::connect(&addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr} failed: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(HttpConn { host: addr, sender })
    }

    /// Sends a request and returns the response head with its body still streaming.
    pub async fn send_streaming(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let mut b = Request::builder().method(method).uri(path).header("host", &self.host);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body))).map_err(|e| format!("bad request: {e}"))?;
        self.sender.ready().await.map_err(|e| format!("connection to {} closed: {e}", self.host))?;
        self.sender.send_request(req).await.map_err(|e| format!("request to {} failed: {e}", self.host))
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpResponse, String> {
        let resp = self.send_streaming(method, path, headers, body).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body =
            resp.into_body().collect().await.map_err(|e| format!("reading response body failed: {e}"))?.to_bytes();
        Ok(HttpResponse { status, headers, body })
    }
}

/// One request on a fresh connection, bounded by `timeout`.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<HttpResponse, String> {
    let (_, _, path) = split_url(url)?;
    let fut = async {
        let mut c = HttpConn::connect(url).await?;
        c.send(method, &path, headers, body).await
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| format!("no answer from {url} within {timeout:?}"))?
}
