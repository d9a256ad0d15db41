// The live alert feed: the server's event stream (`/api/alerts/stream`), applied to the queue,
// and what tells the operator whether the console is live.
//
// Nothing raised during a cut may be missing: every message carries an id, and a reconnection
// sends the last one seen (the browser's own `Last-Event-ID`, or `?last_event_id=` for a feed
// reopened here) so the server replays what was missed. On top of that, every (re)connection
// reloads the list and applies the feed's messages after it (they are held back meanwhile): the
// server subscribes before it answers, so whatever the reloaded list lacks comes on the feed.
//
// A dead connection does not always say so (cable pulled, NAT forgetting it): the server sends a
// heartbeat every 5 s when it has nothing else to say, and a feed silent for longer than
// SILENT_MS is treated as cut.
import { api } from './api.js';
import { $ } from './dom.js';
import { locale, register, t } from './i18n.js';
import { cue, listeners, loadAlerts, queue, renderQueue } from './alerts.js';

register({
  'live': 'en direct',
  'connecting…': 'connexion…',
  'not live': 'pas en direct',
  'live alert feed': 'flux d’alertes en direct',
  'Not live since {time} — alerts may be missing; reconnecting…':
    'Pas en direct depuis {time} — des alertes peuvent manquer ; reconnexion…',
  'Live again — {n} alerts recovered': 'De nouveau en direct — {n} alertes récupérées',
  'Live again — 1 alert recovered': 'De nouveau en direct — 1 alerte récupérée',
  'Live again — no alert was missed': 'De nouveau en direct — aucune alerte manquée',
});

/** No message (heartbeats included) for this long: the connection is taken as cut. */
const SILENT_MS = 12_000;
/** How long "live again" stays on screen. */
const RECOVERED_SHOWN_MS = 5_000;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 15_000;

const feed = {
  source: null,
  /** Id of the last message seen: where a reconnection resumes. */
  lastId: null,
  /** When a message last arrived (Date.now()). */
  heardAt: 0,
  /** Live: connected, `ready` received and the list reconciled. */
  live: false,
  ready: false,
  synced: false,
  /** Messages held back while the list reloads: [kind, alert] in arrival order. */
  held: null,
  /** Since when the console is not live (ms), null while live or before the first connection. */
  downSince: null,
  /** Alert ids the queue held when the feed went down: those found after it are "recovered". */
  before: null,
  /** Bumped by each (re)connection, so that a slow reload of an older one is ignored. */
  generation: 0,
  retryTimer: null,
  retryMs: RETRY_FIRST_MS,
  watchdog: null,
  bannerTimer: null,
  /** How many alerts the last reconnection brought that the queue did not hold. */
  recovered: 0,
  stopped: true,
};

export function openFeed() {
  closeFeed();
  feed.stopped = false;
  feed.retryMs = RETRY_FIRST_MS;
  feed.watchdog = setInterval(checkSilence, 2_000);
  connect();
}

export function closeFeed() {
  feed.stopped = true;
  feed.generation += 1;
  if (feed.source) { feed.source.close(); feed.source = null; }
  clearTimeout(feed.retryTimer); feed.retryTimer = null;
  clearInterval(feed.watchdog); feed.watchdog = null;
  clearTimeout(feed.bannerTimer);
  Object.assign(feed, { live: false, ready: false, synced: false, held: null, downSince: null, before: null });
  const banner = $('#feed-banner');
  if (banner) banner.hidden = true;
  setPill('not live');
}

function connect() {
  if (feed.stopped) return;
  clearTimeout(feed.retryTimer); feed.retryTimer = null;
  if (feed.source) feed.source.close();
  const q = feed.lastId ? `?last_event_id=${encodeURIComponent(feed.lastId)}` : '';
  const es = new EventSource(`/api/alerts/stream${q}`);
  feed.source = es;
  feed.heardAt = Date.now();
  if (!feed.live) setPill('connecting…');
  const on = (name, fn) => es.addEventListener(name, (m) => {
    if (feed.source !== es) return;
    feed.heardAt = Date.now();
    if (m.lastEventId) feed.lastId = m.lastEventId;
    fn(m);
  });
  // Also after the browser reconnected by itself: each opening reconciles.
  es.onopen = () => { if (feed.source === es) { feed.heardAt = Date.now(); reconcile(); } };
  on('ready', () => { feed.ready = true; maybeLive(); });
  on('alert', (m) => arrive('alert', JSON.parse(m.data)));
  on('update', (m) => arrive('update', JSON.parse(m.data)));
  // Calibration alerts (supervisors' feeds only) never enter the operators' queue.
  on('calibration', () => { if (listeners.calibration) listeners.calibration(); });
  // Fell behind, or the cut was longer than the server's memory of the feed: reload the list.
  on('resync', () => { if (feed.held === null) reconcile(); });
  on('heartbeat', () => {});
  es.onerror = () => {
    if (feed.source !== es) return;
    wentDown();
    // CONNECTING: the browser retries by itself (the server asked for 1 s). CLOSED: it gave up
    // (an HTTP error: the node restarting behind a proxy, the session gone): retry from here.
    if (es.readyState === EventSource.CLOSED) { feed.source = null; retryLater(); }
  };
}

/** A message from the feed: applied now, or after the list has been reloaded. */
function arrive(kind, a) {
  if (feed.held !== null) { feed.held.push([kind, a]); return; }
  apply(kind, a);
  renderQueue();
  if (kind === 'alert') cue(a);
  else listeners.update(a.id);
}

function apply(kind, a) {
  const known = queue.alerts.get(a.id);
  if (kind === 'alert' || (known && known._fresh)) a._fresh = true;
  queue.alerts.set(a.id, a);
}

/** Reloads the list, then applies what the feed brought meanwhile. */
async function reconcile() {
  const gen = ++feed.generation;
  feed.synced = false;
  feed.held = [];
  const before = feed.before || new Set(queue.alerts.keys());
  await loadAlerts();
  if (gen !== feed.generation || feed.stopped) return;
  const held = feed.held;
  feed.held = null;
  for (const [kind, a] of held) apply(kind, a);
  const recovered = [...queue.alerts.values()].filter((a) => !before.has(a.id));
  // The list as the server has it now, after a cut: what the operator has not seen is marked
  // and announced once (not once per alert: a long cut could bring dozens).
  if (feed.downSince !== null) {
    for (const a of recovered) a._fresh = true;
    const newest = recovered.filter((a) => ['new', 'confirmed', 'dispatched'].includes(a.state))
      .sort((x, y) => y.started_at_ms - x.started_at_ms)[0];
    renderQueue();
    if (newest) cue(newest);
  } else {
    renderQueue();
    for (const [kind, a] of held) if (kind === 'alert') cue(a);
  }
  for (const [kind, a] of held) if (kind === 'update') listeners.update(a.id);
  feed.synced = true;
  feed.recovered = recovered.length;
  maybeLive();
}

function maybeLive() {
  if (!feed.ready || !feed.synced || feed.live) return;
  feed.live = true;
  feed.retryMs = RETRY_FIRST_MS;
  setPill('live');
  const banner = $('#feed-banner');
  clearTimeout(feed.bannerTimer);
  if (feed.downSince !== null) {
    const n = feed.recovered || 0;
    banner.textContent = n === 0 ? t('Live again — no alert was missed')
      : n === 1 ? t('Live again — 1 alert recovered') : t('Live again — {n} alerts recovered', { n });
    banner.classList.remove('down');
    banner.classList.add('recovered');
    banner.hidden = false;
    feed.bannerTimer = setTimeout(() => { banner.hidden = true; }, RECOVERED_SHOWN_MS);
  } else {
    banner.hidden = true;
  }
  feed.downSince = null;
  feed.before = null;
}

/** The console stops being live: said at once, in words, with the time it was last known live. */
function wentDown() {
  if (feed.stopped) return;
  const wasLive = feed.live;
  feed.live = false; feed.ready = false; feed.synced = false;
  feed.generation += 1;
  feed.held = null;
  if (feed.downSince === null) {
    feed.downSince = wasLive && feed.heardAt ? Math.min(feed.heardAt, Date.now()) : Date.now();
    feed.before = new Set(queue.alerts.keys());
  }
  setPill('not live');
  const banner = $('#feed-banner');
  clearTimeout(feed.bannerTimer);
  const time = new Date(feed.downSince).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  banner.textContent = t('Not live since {time} — alerts may be missing; reconnecting…', { time });
  banner.classList.remove('recovered');
  banner.classList.add('down');
  banner.hidden = false;
}

/** Opens a new feed after a pause that grows while the server does not answer; a session that
 * has ended brings the login form instead (the API client does that on its 401). */
function retryLater() {
  if (feed.stopped || feed.retryTimer) return;
  const wait = feed.retryMs;
  feed.retryMs = Math.min(feed.retryMs * 2, RETRY_MAX_MS);
  feed.retryTimer = setTimeout(async () => {
    feed.retryTimer = null;
    try { await api('GET', '/api/me'); } catch (e) {
      if (e.status === 401 || feed.stopped) return;
      // The server does not answer yet: try again later.
      retryLater();
      return;
    }
    connect();
  }, wait);
}

function checkSilence() {
  // A retry already waits its turn (the server does not answer): the backoff decides.
  if (feed.stopped || feed.retryTimer || !feed.source) return;
  if (Date.now() - feed.heardAt > SILENT_MS) {
    wentDown();
    connect();
  }
}

function setPill(state) {
  const pill = $('#feed-status');
  pill.textContent = t(state);
  pill.title = t('live alert feed');
  pill.classList.toggle('live', state === 'live');
  pill.classList.toggle('down', state === 'not live');
}

// The browser knows before any timeout when the network goes (and comes back). A connection that
// survives it (the browser keeps it open while its network is down) is not trusted: the feed is
// reopened from its last id once the network is back.
window.addEventListener('offline', () => {
  if (feed.stopped) return;
  wentDown();
  if (feed.source) { feed.source.close(); feed.source = null; }
  retryLater();
});
window.addEventListener('online', () => { if (!feed.stopped && !feed.live) { feed.retryMs = RETRY_FIRST_MS; connect(); } });
