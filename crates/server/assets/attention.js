// New alerts cannot be missed: the arrival banner (stays until closed or clicked; a click opens
// the alert), one spoken announcement per new alert (a visually hidden status region: the queue
// itself is not a live region, or every redraw would be read out), desktop notifications once
// the operator allowed them, a signal repeated while an urgent alert stays new and unheld (mute
// for the session), and the `vigie:unhandled` event that marks the cameras' tiles on the wall.
import { session } from './api.js';
import { $ } from './dom.js';
import { register, t } from './i18n.js';

register({
  'New alert: {what}': 'Nouvelle alerte : {what}',
  '(+{n} more)': '(+{n} autres)',
  'Close the banner': 'Fermer le bandeau',
  'Vigie: new alert': 'Vigie : nouvelle alerte',
  'Mute the signal': 'Couper le signal',
  'Signal muted: unmute': 'Signal coupé : le rétablir',
  'Signal on: {n} urgent alerts wait unhandled': 'Signal actif : {n} alertes urgentes non prises en charge',
  'Signal off: no urgent alert waits': 'Signal arrêté : aucune alerte urgente en attente',
  'Signal muted for this session': 'Signal coupé pour cette session',
  'Enable desktop notifications': 'Activer les notifications du bureau',
  'Desktop notifications on': 'Notifications du bureau activées',
  'Desktop notifications blocked by the browser': 'Notifications du bureau bloquées par le navigateur',
  'This browser has no desktop notifications': "Ce navigateur n'a pas de notifications du bureau",
});

/** What the operator is being told, for the tests and the toolbar. `intervalMs`: the repeat. */
export const attention = {
  muted: false, intervalMs: 10_000, beeps: 0, notified: 0, announced: 0,
  urgent: 0, unhandled: [], bannerIds: [],
};

let opener = () => {};
/** `fn(id)` opens an alert (banner and notification clicks). */
export function onOpen(fn) { opener = fn; }

const cued = new Set();

/** A new alert: banner, announcement, one beep and a desktop notification, once per alert id
 * (a feed that replays what a reconnecting console missed must not cue twice). */
export function arrived(a, what) {
  if (cued.has(a.id)) return;
  cued.add(a.id);
  attention.bannerIds.push(a.id);
  showBanner(what);
  announce(t('New alert: {what}', { what }));
  beep(a.urgency >= 6);
  notify(a, what);
}

function showBanner(what) {
  const banner = $('#arrival');
  const more = attention.bannerIds.length - 1;
  $('#arrival-open').textContent = t('New alert: {what}', { what }) + (more > 0 ? ` ${t('(+{n} more)', { n: more })}` : '');
  $('#arrival-close').setAttribute('aria-label', t('Close the banner'));
  banner.hidden = false;
}

export function closeBanner() {
  attention.bannerIds = [];
  $('#arrival').hidden = true;
}

/** Whoever opens an alert by another way also lets the banner go when it was the only one. */
export function seen(id) {
  attention.bannerIds = attention.bannerIds.filter((x) => x !== id);
  if (!attention.bannerIds.length) $('#arrival').hidden = true;
}

function openFromBanner() {
  const id = attention.bannerIds[attention.bannerIds.length - 1];
  closeBanner();
  if (id) opener(id);
}

/** Appended, not replaced: two alerts a second apart are both read out. */
export function announce(text) {
  const region = $('#queue-announce');
  if (!region) return;
  const p = document.createElement('p');
  p.textContent = text;
  region.append(p);
  while (region.children.length > 5) region.firstChild.remove();
  attention.announced += 1;
}

let audioCtx = null;
function beep(urgent) {
  if (attention.muted || !session.me) return;
  attention.beeps += 1;
  try {
    audioCtx = audioCtx || new AudioContext();
    const o = audioCtx.createOscillator(), g = audioCtx.createGain();
    o.frequency.value = urgent ? 1040 : 760;
    g.gain.setValueAtTime(0.15, audioCtx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audioCtx.currentTime + 0.4);
    o.connect(g).connect(audioCtx.destination);
    o.start(); o.stop(audioCtx.currentTime + 0.4);
  } catch (_) { /* no audio device: the banner and the announcement remain */ }
}

function notify(a, what) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(t('Vigie: new alert'), { body: what, tag: a.id });
    n.onclick = () => { window.focus(); opener(a.id); n.close(); };
    attention.notified += 1;
  } catch (_) { /* a platform without page notifications: the banner remains */ }
}

let timer = null;

/** Called after every queue change with every alert the console holds (filters aside). */
export function refresh(alerts) {
  const cams = new Set();
  let urgent = 0;
  for (const a of alerts) {
    if (a.state !== 'new' || a.held_by) continue;
    cams.add(a.camera);
    if (a.urgency >= 6) urgent += 1;
  }
  const list = [...cams].sort();
  if (list.join('\n') !== attention.unhandled.join('\n')) {
    attention.unhandled = list;
    document.dispatchEvent(new CustomEvent('vigie:unhandled', { detail: { cameras: list } }));
  }
  attention.urgent = urgent;
  schedule();
}

/** The wall listens only while shown: it is told the current set again when it opens. */
export function resendUnhandled() {
  document.dispatchEvent(new CustomEvent('vigie:unhandled', { detail: { cameras: attention.unhandled } }));
}

function schedule() {
  const want = attention.urgent > 0 && !attention.muted && !!session.me;
  if (want && !timer) timer = setInterval(() => { if (attention.urgent > 0) beep(true); else schedule(); }, attention.intervalMs);
  if (!want && timer) { clearInterval(timer); timer = null; }
  showSignal();
}

/** For the tests (and a site that wants another pace). */
export function setSignalInterval(ms) {
  attention.intervalMs = ms;
  if (timer) { clearInterval(timer); timer = null; }
  schedule();
}

export function setMuted(muted) { attention.muted = muted; schedule(); }

/** Stops everything at logout. */
export function stopAttention() {
  if (timer) { clearInterval(timer); timer = null; }
  closeBanner();
}

function showSignal() {
  const state = $('#signal-state'), btn = $('#signal-mute');
  if (!state || !btn) return;
  state.textContent = attention.muted ? t('Signal muted for this session')
    : attention.urgent > 0 ? t('Signal on: {n} urgent alerts wait unhandled', { n: attention.urgent })
      : t('Signal off: no urgent alert waits');
  btn.textContent = attention.muted ? t('Signal muted: unmute') : t('Mute the signal');
  btn.setAttribute('aria-pressed', String(attention.muted));
}

function showNotifyButton() {
  const btn = $('#notify-enable');
  if (!btn) return;
  if (!('Notification' in window)) { btn.textContent = t('This browser has no desktop notifications'); btn.disabled = true; return; }
  const p = Notification.permission;
  btn.textContent = p === 'granted' ? t('Desktop notifications on') : p === 'denied' ? t('Desktop notifications blocked by the browser')
    : t('Enable desktop notifications');
  btn.disabled = p !== 'default';
}

export function initAttention() {
  $('#arrival-close').setAttribute('aria-label', t('Close the banner'));
  $('#arrival-open').addEventListener('click', openFromBanner);
  $('#arrival-close').addEventListener('click', closeBanner);
  $('#signal-mute').addEventListener('click', () => setMuted(!attention.muted));
  $('#notify-enable').addEventListener('click', async () => {
    if ('Notification' in window) await Notification.requestPermission();
    showNotifyButton();
  });
  // The wall draws its tiles after fetching the camera list: told now and once they are likely there.
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/wall')) { setTimeout(resendUnhandled, 0); setTimeout(resendUnhandled, 1500); }
  });
  showSignal();
  showNotifyButton();
}
