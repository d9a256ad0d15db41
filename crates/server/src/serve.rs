//! The accept loop: HTTP/1.1 with time limits on headers and bodies, a cap on open connections,
//! and graceful shutdown. `axum::serve` has neither timeouts nor a cap, so a client holding
//! many half-open connections could use up the process's file descriptors, which the recorder
//! and the databases need.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Descriptors kept out of the connections' reach: segment files being written and read,
/// SQLite databases and their journals, camera sockets, the detector's files.
pub const FD_RESERVE: u64 = 256;

/// How long a stop waits for requests in flight before closing what is left (an alert stream
/// never ends on its own).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json\r\n\
Content-Length: 56\r\nConnection: close\r\n\r\n{\"error\":\"too many open connections: try again shortly\"}";

/// Limits of the accept loop, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl ConnLimits {
    /// `max_connections` from the configuration, lowered to leave [`FD_RESERVE`] descriptors
    /// under the soft RLIMIT_NOFILE (see [`raise_fd_limit`]).
    pub fn new(cfg: &crate::ServerConfig) -> Self {
        let mut max = cfg.max_connections as usize;
        if let Some(fds) = fd_limit() {
            // Each connection is one descriptor; the rest of the node keeps the reserve.
            let room = fds.saturating_sub(FD_RESERVE).max(16) as usize;
            if room < max {
                tracing::warn!(
                    "server.max_connections {max} lowered to {room}: the file-descriptor limit is {fds} and \
                     {FD_RESERVE} are kept for recording and the databases"
                );
                max = room;
            }
        }
        Self {
            max_connections: max,
            header_timeout: Duration::from_secs(cfg.header_timeout_s as u64),
            body_timeout: Duration::from_secs(cfg.body_timeout_s as u64),
        }
    }
}

/// The soft limit on open files, or `None` if unlimited or unknown.
pub fn fd_limit() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(r.rlim_cur)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (the default soft limit, often 1024, is
/// what a connection flood exhausts first). Returns the soft limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit { rlim_cur: r.rlim_max, rlim_max: r.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                tracing::warn!("cannot raise the open-file limit from {} to {}", r.rlim_cur, r.rlim_max);
            }
        }
    }
    fd_limit()
}

/// Serves `router` until `shutdown` completes, then lets requests in flight finish (up to
/// [`SHUTDOWN_GRACE`]) and closes whatever is still open: when this returns, no connection is
/// left, so nothing more reaches a console from a stopping node. Accept errors (such as running
/// out of descriptors) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    // Owned here, not detached: a connection outliving the grace is dropped (its socket closed,
    // its handler cancelled) instead of streaming on while the node stops.
    let mut conns = JoinSet::new();
    loop {
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("console: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Finished connections are reaped as new ones come, so the set stays as large as what
        // is open.
        while conns.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Refused at once rather than queued: a queue is what a flood fills. The socket is
            // fresh, so the short answer fits its send buffer.
            let _ = stream.try_write(BUSY);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, mut stop) = (router.clone(), stop_rx.clone());
        conns.spawn(async move {
            let _slot = slot;
            let svc = TowerToHyperService::new(router);
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(|b| Body::new(BodyDeadline::new(b, limits.body_timeout)));
                // The login limiter and the audit trail need the client's address.
                req.extensions_mut().insert(ConnectInfo(addr));
                hyper::service::Service::call(&svc, req)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("console connection from {addr}: {e}");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(
            "console: closing the {} connection(s) still open {} s after the stop began",
            conns.len(),
            SHUTDOWN_GRACE.as_secs()
        );
    }
    // Aborts what is left and waits for it to be dropped.
    conns.shutdown().await;
    Ok(())
}

/// A request body that must arrive in full within `limit` of its headers: a client trickling
/// it would otherwise hold its connection (and a worker) as long as it likes.
struct BodyDeadline {
    inner: Incoming,
    limit: Duration,
    // Created on the first poll: requests without a body never arm a timer.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl BodyDeadline {
    fn new(inner: Incoming, limit: Duration) -> Self {
        Self { inner, limit, timer: None }
    }
}

impl hyper::body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(f) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(f.map(|r| r.map_err(Into::into)));
        }
        let limit = this.limit;
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                "request body not received within {} s (server.body_timeout_s)",
                limit.as_secs()
            )
            .into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_below_the_descriptor_limit_less_the_reserve() {
        raise_fd_limit();
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
        // (An unlimited hard limit cannot be the soft one: the kernel caps open files anyway.)
        assert!(r.rlim_cur == r.rlim_max || r.rlim_max == libc::RLIM_INFINITY, "soft limit raised to the hard one");
        let cfg = crate::ServerConfig { max_connections: 100_000, ..Default::default() };
        let limits = ConnLimits::new(&cfg);
        match fd_limit() {
            Some(fds) => assert!(limits.max_connections as u64 <= fds.saturating_sub(FD_RESERVE).max(16), "{fds}"),
            None => assert_eq!(limits.max_connections, 100_000),
        }
        let small = ConnLimits::new(&crate::ServerConfig { max_connections: 8, ..Default::default() });
        assert_eq!(small.max_connections, 8, "a lower configured cap is kept");
    }
}
