//! Measurement clients for benchmarks: follow the live feed and time each alert's arrival, and
//! load the API while the pipeline runs. They talk HTTP to a running server like a console does.

use http_body_util::BodyExt;
use serde::Serialize;
use std::time::{Duration, Instant};
use vigie_core::UnixMs;
use vigie_server::http_client::{HttpConn, HttpResponse};

/// A logged-in API session.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub base: String,
    pub cookie: String,
    pub csrf_token: String,
}

impl ApiClient {
    /// `base` is `http://host:port`.
    pub async fn login(base: &str, username: &str, password: &str) -> Result<ApiClient, String> {
        let mut c = HttpConn::connect(base).await?;
        let body = serde_json::to_vec(&serde_json::json!({"username": username, "password": password})).unwrap();
        let r = c.send("POST", "/api/login", &[("content-type", "application/json")], body).await?;
        if r.status != 200 {
            return Err(format!("login as {username} failed: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)));
        }
        let cookie = r
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .ok_or("login answered without a session cookie")?
            .to_string();
        let csrf_token = r.json()?["csrf_token"].as_str().ok_or("login answer has no csrf_token")?.to_string();
        Ok(ApiClient { base: base.trim_end_matches('/').to_string(), cookie, csrf_token })
    }

    pub async fn connect(&self) -> Result<HttpConn, String> {
        HttpConn::connect(&self.base).await
    }

    pub async fn get(&self, conn: &mut HttpConn, path: &str) -> Result<HttpResponse, String> {
        conn.send("GET", path, &[("cookie", &self.cookie)], Vec::new()).await
    }

    pub async fn post_json(
        &self,
        conn: &mut HttpConn,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, String> {
        let headers = [
            ("cookie", self.cookie.as_str()),
            ("x-csrf-token", self.csrf_token.as_str()),
            ("content-type", "application/json"),
        ];
        conn.send("POST", path, &headers, serde_json::to_vec(body).unwrap()).await
    }
}

/// One alert as received on the live feed.
#[derive(Debug, Clone, Serialize)]
pub struct StreamSample {
    pub alert_id: String,
    pub camera: String,
    /// Capture time of the frame in which the rule fired, when the pipeline gave it.
    pub fired_at_ms: Option<UnixMs>,
    pub published_at_ms: Option<UnixMs>,
    pub received_at_ms: UnixMs,
    pub alert: serde_json::Value,
}

impl StreamSample {
    /// Frame-to-console latency, ms (needs `fired_at_ms`).
    pub fn latency_ms(&self) -> Option<i64> {
        self.fired_at_ms.map(|f| self.received_at_ms.ms_since(f))
    }
}

/// Follows `/api/alerts/stream` until `count` new alerts arrived or `timeout` passed. `on_ready`
/// runs once the server confirms the subscription (so a benchmark can start producing).
pub async fn watch_alerts(
    client: &ApiClient,
    count: usize,
    timeout: Duration,
    mut on_ready: impl FnMut(),
) -> Result<Vec<StreamSample>, String> {
    let mut conn = client.connect().await?;
    let resp = conn
        .send_streaming(
            "GET",
            "/api/alerts/stream",
            &[("cookie", &client.cookie), ("accept", "text/event-stream")],
            Vec::new(),
        )
        .await?;
    if resp.status() != 200 {
        return Err(format!("live feed refused: HTTP {}", resp.status()));
    }
    let mut body = resp.into_body();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while out.len() < count {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => break,
            Ok(None) => return Err("live feed closed by the server".into()),
            Ok(Some(Err(e))) => return Err(format!("live feed broken: {e}")),
            Ok(Some(Ok(f))) => f,
        };
        let received_at_ms = UnixMs::now();
        let Ok(data) = frame.into_data() else { continue };
        buf.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = "message";
            let mut payload = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = if v.trim() == "ready" {
                        "ready"
                    } else if v.trim() == "alert" {
                        "alert"
                    } else {
                        "other"
                    };
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !payload.is_empty() {
                        payload.push('\n');
                    }
                    payload.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            match event {
                "ready" => on_ready(),
                "alert" => {
                    let alert: serde_json::Value =
                        serde_json::from_str(&payload).map_err(|e| format!("alert is not JSON: {e}: {payload}"))?;
                    out.push(StreamSample {
                        alert_id: alert["id"].as_str().unwrap_or_default().to_string(),
                        camera: alert["camera"].as_str().unwrap_or_default().to_string(),
                        fired_at_ms: alert["fired_at_ms"].as_i64().map(UnixMs),
                        published_at_ms: alert["published_at_ms"].as_i64().map(UnixMs),
                        received_at_ms,
                        alert,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Nearest-rank percentiles.
pub fn summarize(values: &mut [f64]) -> Summary {
    if values.is_empty() {
        return Summary { n: 0, p50: f64::NAN, p99: f64::NAN, max: f64::NAN };
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Summary { n: values.len(), p50: rank(0.50), p99: rank(0.99), max: values[values.len() - 1] }
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub path: String,
    pub latency_ms: Summary,
    pub errors: usize,
    pub requests_per_s: f64,
}

/// `n` GETs of `path` over `concurrency` keep-alive connections; latency per request in ms.
pub async fn api_load(client: &ApiClient, path: &str, n: usize, concurrency: usize) -> Result<LoadReport, String> {
    let concurrency = concurrency.max(1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, path) = (client.clone(), path.to_string());
        let share = n / concurrency + usize::from(w < n % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut conn = client.connect().await?;
            let mut lat = Vec::with_capacity(share);
            let mut errors = 0;
            for _ in 0..share {
                let t = Instant::now();
                match client.get(&mut conn, &path).await {
                    Ok(r) if r.status == 200 => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = client.connect().await?;
                    }
                }
            }
            Ok::<_, String>((lat, errors))
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.map_err(|e| format!("load worker failed: {e}"))??;
        all.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(LoadReport {
        path: path.to_string(),
        requests_per_s: all.len() as f64 / secs,
        latency_ms: summarize(&mut all),
        errors,
    })
}
