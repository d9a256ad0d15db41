// The alert detail pane: evidence, facts, who holds the alert, the operator's actions and the
// decision history. The pane is built once per alert (and language); live updates change only
// the parts that differ (state, holder, end, decisions, which buttons apply), so what an operator
// is typing keeps its value and focus while other consoles work.
import { api, can, session } from './api.js';
import { clipPlayer } from './clip.js';
import { $, enc, fmtTime, h, round } from './dom.js';
import { putAlert, queue } from './alerts.js';
import { i18n, locale, register, t } from './i18n.js';

register({
  'Type': 'Type',
  'Camera / zone': 'Caméra / zone',
  'Started': 'Début',
  'Ended': 'Fin',
  'ongoing': 'en cours',
  'Peak': 'Pic',
  'Rule': 'Règle',
  '{rule} (version {version})': '{rule} (version {version})',
  'Legal basis': 'Base légale',
  'Model': 'Modèle',
  'State': 'État',
  'Decisions': 'Décisions',
  'Snapshot': 'Image',
  'Snapshot (UNMASKED)': 'Image (DÉMASQUÉE)',
  'Clip': 'Séquence',
  'Clip (UNMASKED)': 'Séquence (DÉMASQUÉE)',
  'evidence snapshot': 'image de l’alerte',
  'new': 'nouvelle',
  'confirmed': 'confirmée',
  'dispatched': 'patrouille envoyée',
  'resolved': 'résolue',
  'dismissed': 'écartée',
  'confirm': 'confirmation',
  'dismiss': 'rejet',
  'dispatch': 'envoi',
  'resolve': 'résolution',
  'false detection': 'fausse détection',
  'authorised activity': 'activité autorisée',
  'duplicate': 'doublon',
  'other': 'autre',
  'Confirm': 'Confirmer',
  'Dismiss': 'Écarter',
  'Dispatch': 'Envoyer',
  'Resolve': 'Résoudre',
  'Dismissal reason': 'Motif du rejet',
  'Explanation (required for other)': 'Explication (obligatoire pour « autre »)',
  'Patrol or instructions': 'Patrouille ou consignes',
  'Resolution note': 'Note de résolution',
  'Take': 'Prendre',
  'Take over': 'Reprendre',
  'Release': 'Libérer',
  'Not held': 'Non prise en charge',
  'Held by {user} since {time}': 'Prise en charge par {user} depuis {time}',
  'Held by you since {time}': 'Prise en charge par vous depuis {time}',
  '{user} holds this alert since {time}. Take it over? They will see that you did.':
    '{user} traite cette alerte depuis {time}. La reprendre ? Cette personne verra que vous l’avez reprise.',
  'Unmasked until {time} — reason: {reason}': 'Démasquée jusqu’à {time} — motif : {reason}',
  'Reason for unmasking (recorded)': 'Motif du démasquage (enregistré)',
  'Unmask evidence': 'Démasquer',
});

/** The pane on screen: which alert (and language) it was built for, and the parts that change. */
const pane = { key: null, id: null, parts: null, mediaKey: null, decisionsKey: null, grantKey: null };

/** Fields and buttons of the keyboard contract, by action. */
const FOCUS = { take: '#btn-take', confirm: '#btn-confirm', dismiss: '#dismiss-reason', dispatch: '#dispatch-unit', resolve: '#resolve-note' };

/** Focuses the field (or button) where the operator acts next for `name` ('take', 'confirm',
 * 'dismiss', 'dispatch', 'resolve'); false when the pane offers no such action now. */
export function focusAction(name) {
  const sel = FOCUS[name];
  const el = sel && $(sel);
  if (!el || el.closest('[hidden]')) return false;
  el.focus();
  return document.activeElement === el;
}

const OPEN = ['new', 'confirmed', 'dispatched'];
const hhmm = (ms) => new Date(ms).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });

/** Writes text only when it differs: an unchanged node is left alone (no redraw, no announcement). */
function setText(el, text) { if (el.textContent !== text) el.textContent = text; }
function setHidden(el, hidden) { if (el.hidden !== hidden) el.hidden = hidden; }

export async function refreshDetail(id) {
  const root = $('#detail');
  let d;
  try { d = await api('GET', `/api/alerts/${enc(id)}`); } catch (e) {
    if (queue.selected !== id) return;
    // A pane already showing this alert keeps what was typed; the error goes under the actions.
    if (pane.id === id && pane.parts) pane.parts.msg.textContent = e.message;
    else { pane.key = null; pane.id = null; root.replaceChildren(h('p', { class: 'error', text: e.message })); }
    return;
  }
  if (queue.selected !== id) return;
  const a = d.alert;
  queue.alerts.set(a.id, Object.assign(queue.alerts.get(a.id) || {}, a));
  const key = `${a.id}|${i18n.lang}|${session.me ? session.me.username : ''}`;
  if (pane.key !== key || !root.contains(pane.parts.title)) build(root, a, d, key);
  update(a, d);
}

/** The pane's skeleton for one alert: everything that does not change while it is shown. */
function build(root, a, d, key) {
  const p = {};
  p.title = h('h2', { text: t(a.type.replaceAll('_', ' ')) });
  p.media = h('div', { class: 'media' });
  p.state = h('span', { id: 'detail-state' });
  p.ended = h('dd');
  p.peak = h('dd');
  const info = h('dl', {},
    h('dt', { text: t('Type') }), h('dd', { text: a.type }),
    h('dt', { text: t('Camera / zone') }), h('dd', { text: `${a.camera} / ${a.zone}` }),
    h('dt', { text: t('Started') }), h('dd', { text: fmtTime(a.started_at_ms) }),
    h('dt', { text: t('Ended') }), p.ended,
    h('dt', { text: t('Peak') }), p.peak,
    h('dt', { text: t('Rule') }), h('dd', { text: t('{rule} (version {version})', { rule: a.rule, version: a.rule_version }) }),
    h('dt', { text: t('Legal basis') }), h('dd', { id: 'legal-basis', text: a.legal_basis }),
    h('dt', { text: t('Model') }), h('dd', { class: 'small', text: a.model_sha256 }),
    h('dt', { text: t('State') }), h('dd', {}, p.state));
  // Announced politely when someone takes or releases the alert, not on every update.
  p.held = h('p', { id: 'hold-status', role: 'status' });
  p.msg = h('p', { id: 'action-msg', class: 'error small', role: 'alert' });
  const actions = h('div', { class: 'actions' }, p.held);
  if (can('alerts_act')) {
    const run = (path, body) => act(a.id, path, body);
    p.take = h('button', { id: 'btn-take', onclick: () => takeClicked(a.id) });
    p.release = h('button', { id: 'btn-release', onclick: () => run('release') }, t('Release'));
    const reason = h('select', { id: 'dismiss-reason' }, d.dismiss_reasons.map((r) => h('option', { value: r, text: t(r.replaceAll('_', ' ')) })));
    const reasonText = h('input', { id: 'dismiss-text', size: 28 });
    const unit = h('input', { id: 'dispatch-unit', size: 28 });
    const note = h('input', { id: 'resolve-note', size: 28 });
    const field = (input, label) => h('label', { class: 'field', for: input.id }, h('span', { class: 'field-label', text: label }), input);
    p.confirmRow = h('div', { class: 'row' }, h('button', { id: 'btn-confirm', class: 'primary', onclick: () => run('confirm') }, t('Confirm')));
    p.dismissRow = h('div', { class: 'row' }, field(reason, t('Dismissal reason')), field(reasonText, t('Explanation (required for other)')),
      h('button', { id: 'btn-dismiss', onclick: () => run('dismiss', { reason: reason.value, text: reasonText.value || null }) }, t('Dismiss')));
    p.dispatchRow = h('div', { class: 'row' }, field(unit, t('Patrol or instructions')),
      h('button', { id: 'btn-dispatch', onclick: () => run('dispatch', { unit: unit.value }) }, t('Dispatch')));
    p.resolveRow = h('div', { class: 'row' }, field(note, t('Resolution note')),
      h('button', { id: 'btn-resolve', onclick: () => run('resolve', { note: note.value }) }, t('Resolve')));
    actions.append(h('div', { class: 'row' }, p.take, p.release), p.confirmRow, p.dismissRow, p.dispatchRow, p.resolveRow);
  }
  p.unmask = h('div');
  actions.append(p.unmask, p.msg);
  p.decisions = h('ul', { id: 'decisions', class: 'small' });
  root.replaceChildren(p.title, p.media, info, actions, h('h3', { text: t('Decisions') }), p.decisions);
  Object.assign(pane, { key, id: a.id, parts: p, mediaKey: null, decisionsKey: null, grantKey: null });
}

/** Brings the built pane up to date, touching only what changed. */
function update(a, d) {
  const p = pane.parts;
  const grant = d.unmask;
  const mediaKey = grant ? 'unmasked' : 'blurred';
  // Evidence is fetched (and audited) once per alert and unmask state, not on every update.
  if (pane.mediaKey !== mediaKey) {
    pane.mediaKey = mediaKey;
    const kids = [];
    if (can('evidence')) {
      const q = grant ? '?unmasked=true' : '';
      if (a.snapshot_url) kids.push(h('div', {}, h('h3', { text: t(grant ? 'Snapshot (UNMASKED)' : 'Snapshot') }),
        h('img', { id: 'evidence-img', class: 'evidence' + (grant ? ' unmasked' : ''), src: a.snapshot_url + q, alt: t('evidence snapshot') })));
      kids.push(h('div', {}, h('h3', { text: t(grant ? 'Clip (UNMASKED)' : 'Clip') }), clipPlayer(a.clip_url + q, { exportOf: { camera: a.camera, from: d.clip.from_ms, to: d.clip.to_ms } })));
    }
    p.media.replaceChildren(...kids);
  }
  setText(p.state, t(a.state));
  const cls = `state ${a.state}`;
  if (p.state.className !== cls) p.state.className = cls;
  setText(p.ended, a.ended_at_ms ? fmtTime(a.ended_at_ms) : t('ongoing'));
  setText(p.peak, `${a.peak.kind} ${round(a.peak.value)}`);

  const me = session.me && session.me.username;
  const open = OPEN.includes(a.state);
  if (!a.held_by) setText(p.held, t('Not held'));
  else if (a.held_by === me) setText(p.held, t('Held by you since {time}', { time: hhmm(a.held_at_ms) }));
  else setText(p.held, t('Held by {user} since {time}', { user: a.held_by, time: hhmm(a.held_at_ms) }));
  if (p.take) {
    const other = a.held_by && a.held_by !== me;
    setText(p.take, t(other ? 'Take over' : 'Take'));
    p.take.dataset.holder = other ? a.held_by : '';
    p.take.dataset.since = other ? String(a.held_at_ms) : '';
    setHidden(p.take, !open || a.held_by === me);
    setHidden(p.release, a.held_by !== me);
    // Closed alerts take no action; open ones keep every action (the server says why one is refused).
    for (const row of [p.confirmRow, p.dismissRow, p.dispatchRow, p.resolveRow]) setHidden(row, !open);
  }

  const decisionsKey = JSON.stringify(d.decisions);
  if (pane.decisionsKey !== decisionsKey) {
    pane.decisionsKey = decisionsKey;
    p.decisions.replaceChildren(...d.decisions.map((x) => h('li', {
      text: `${fmtTime(x.at_ms)} — ${x.actor}: ${t(x.action)} (${t(x.from_state)} → ${t(x.to_state)})${x.reason ? ' · ' + t(x.reason.replaceAll('_', ' ')) : ''}${x.text ? ' · ' + x.text : ''}`,
    })));
  }

  const grantKey = grant ? `${grant.expires_at_ms}|${grant.reason}` : (can('unmask') ? 'none' : 'n/a');
  if (pane.grantKey !== grantKey) {
    pane.grantKey = grantKey;
    if (grant) p.unmask.replaceChildren(h('p', { class: 'small', text: t('Unmasked until {time} — reason: {reason}', { time: fmtTime(grant.expires_at_ms), reason: grant.reason }) }));
    else if (can('unmask')) {
      const why = h('input', { id: 'unmask-reason', size: 30, 'aria-label': t('Reason for unmasking (recorded)'), placeholder: t('Reason for unmasking (recorded)') });
      p.unmask.replaceChildren(h('div', { class: 'row' }, why, h('button', { id: 'btn-unmask', class: 'danger', onclick: async () => {
        p.msg.textContent = '';
        try { await api('POST', `/api/alerts/${enc(a.id)}/unmask`, { reason: why.value }); await refreshDetail(a.id); } catch (e) { p.msg.textContent = e.message; }
      } }, t('Unmask evidence'))));
    } else p.unmask.replaceChildren();
  }
}

async function act(id, path, body) {
  const msg = pane.parts.msg;
  msg.textContent = '';
  try { putAlert(await api('POST', `/api/alerts/${enc(id)}/${path}`, body)); await refreshDetail(id); }
  catch (e) { if (pane.id === id) pane.parts.msg.textContent = e.message; }
}

/** Take, or take over after saying whose work it is: the other operator sees the takeover. */
function takeClicked(id) {
  const b = pane.parts.take;
  const holder = b.dataset.holder;
  if (!holder) return act(id, 'take');
  const q = t('{user} holds this alert since {time}. Take it over? They will see that you did.', { user: holder, time: hhmm(Number(b.dataset.since)) });
  if (!window.confirm(q)) return undefined;
  return act(id, 'take', { takeover: true });
}
