// The live alert feed: the server's event stream (`/api/alerts/stream`), applied to the queue,
// and the status label that says whether the console is live.
import { api } from './api.js';
import { $ } from './dom.js';
import { cue, listeners, loadAlerts, queue, renderQueue } from './alerts.js';

const feedState = { source: null };

export function openFeed() {
  closeFeed();
  const es = new EventSource('/api/alerts/stream');
  feedState.source = es;
  const status = $('#feed-status');
  es.addEventListener('ready', () => { status.textContent = 'live'; status.classList.add('live'); });
  es.addEventListener('alert', (m) => { const a = JSON.parse(m.data); a._fresh = true; queue.alerts.set(a.id, a); renderQueue(); cue(a); });
  es.addEventListener('update', (m) => {
    const a = JSON.parse(m.data);
    queue.alerts.set(a.id, a);
    renderQueue();
    listeners.update(a.id);
  });
  // Calibration alerts (supervisors' feeds only) never enter the operators' queue.
  es.addEventListener('calibration', () => { if (listeners.calibration) listeners.calibration(); });
  es.addEventListener('resync', loadAlerts);
  es.onerror = async () => {
    status.textContent = 'reconnecting'; status.classList.remove('live');
    if (es.readyState === EventSource.CLOSED) {
      try { await api('GET', '/api/me'); setTimeout(openFeed, 2000); } catch (_) { /* the login form is already shown */ }
    }
  };
}

export function closeFeed() { if (feedState.source) { feedState.source.close(); feedState.source = null; } }

