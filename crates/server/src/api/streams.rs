//! Open live feeds (`/api/alerts/stream`) by session, so that a feed ends with its session:
//! logout, the user disabled or their password changed (signalled here by the handlers), expiry
//! and changes made outside the server, such as `vigie user disable` writing the catalogue
//! directly (found by re-checking the session every [`SESSION_RECHECK`]), and server shutdown
//! (graceful shutdown would otherwise wait for every console forever).

use super::AppState;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use vigie_store::SessionLookup;

/// How often an open feed checks that its session is still valid in the catalogue.
pub(crate) const SESSION_RECHECK: Duration = Duration::from_secs(2);

struct SessionFeeds {
    username: String,
    end: watch::Sender<bool>,
    open: usize,
}

pub(crate) struct FeedRegistry {
    shutdown: watch::Sender<bool>,
    sessions: Mutex<HashMap<String, SessionFeeds>>,
}

/// Held by an open feed; unregisters it when the feed is dropped.
pub(crate) struct FeedGuard {
    reg: Arc<FeedRegistry>,
    token: String,
}

impl Drop for FeedGuard {
    fn drop(&mut self) {
        let mut m = self.reg.sessions.lock();
        if let Some(f) = m.get_mut(&self.token) {
            f.open = f.open.saturating_sub(1);
            if f.open == 0 {
                m.remove(&self.token);
            }
        }
    }
}

impl FeedRegistry {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { shutdown: watch::channel(false).0, sessions: Mutex::new(HashMap::new()) })
    }

    pub fn register(self: &Arc<Self>, token: &str, username: &str) -> (watch::Receiver<bool>, FeedGuard) {
        let mut m = self.sessions.lock();
        let f = m.entry(token.to_string()).or_insert_with(|| SessionFeeds {
            username: username.to_string(),
            end: watch::channel(false).0,
            open: 0,
        });
        f.open += 1;
        (f.end.subscribe(), FeedGuard { reg: self.clone(), token: token.to_string() })
    }

    /// Ends the feeds of one session (logout).
    pub fn end_session(&self, token: &str) {
        if let Some(f) = self.sessions.lock().remove(token) {
            f.end.send_replace(true);
        }
    }

    /// Ends the feeds of every session of a user (disabled, password changed).
    pub fn end_user(&self, username: &str) {
        self.end_user_except(username, None)
    }

    /// Ends the feeds of a user's other sessions: a user changing their own password keeps the
    /// session they did it from, and the catalogue ends the others.
    pub fn end_user_except(&self, username: &str, keep: Option<&str>) {
        self.sessions.lock().retain(|token, f| {
            if f.username == username && Some(token.as_str()) != keep {
                f.end.send_replace(true);
                false
            } else {
                true
            }
        });
    }

    /// Resolves once the server is stopping: long responses (a clip played as MJPEG) end with
    /// it rather than hold the stop until its grace runs out.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// Ends every feed, and any opened from now on (the server is stopping).
    pub fn end_all(&self) {
        self.shutdown.send_replace(true);
        for (_, f) in self.sessions.lock().drain() {
            f.end.send_replace(true);
        }
    }
}

/// Resolves when the feed of session `token` must end: signalled, expired (`expires_in`), or no
/// longer valid in the catalogue. Registered at once, so a logout right after opening counts.
pub(crate) fn session_ended(
    st: Arc<AppState>,
    token: String,
    username: &str,
    expires_in: Duration,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let (end, guard) = st.feeds.register(&token, username);
    let shutdown = st.feeds.shutdown.subscribe();
    wait_end(st, token, expires_in, end, shutdown, guard)
}

async fn wait_end(
    st: Arc<AppState>,
    token: String,
    expires_in: Duration,
    mut end: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    _guard: FeedGuard,
) {
    let recheck = async {
        loop {
            tokio::time::sleep(SESSION_RECHECK).await;
            let (s, t) = (st.accounts.clone(), token.clone());
            match tokio::task::spawn_blocking(move || s.session(&t)).await {
                Ok(Ok(SessionLookup::Valid(_))) => {}
                Ok(Ok(_)) => return,
                // A catalogue hiccup does not cut a console off; the next check decides.
                _ => {}
            }
        }
    };
    // A closed channel (sender dropped) also ends the feed: it means the session was removed.
    tokio::select! {
        _ = tokio::time::sleep(expires_in) => {}
        _ = end.wait_for(|e| *e) => {}
        _ = shutdown.wait_for(|e| *e) => {}
        _ = recheck => {}
    }
}
