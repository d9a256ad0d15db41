// The alert detail pane: evidence, facts, the operator's actions and the decision history.
import { api, can } from './api.js';
import { clipPlayer } from './clip.js';
import { $, enc, fmtTime, h, round } from './dom.js';
import { putAlert, queue } from './alerts.js';

// Evidence is fetched (and audited) once per alert and unmask state, not on every update.
const shown = { mediaKey: null, media: null };

export async function refreshDetail(id) {
  const pane = $('#detail');
  let d;
  try { d = await api('GET', `/api/alerts/${enc(id)}`); } catch (e) { pane.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  if (queue.selected !== id) return;
  const a = d.alert;
  queue.alerts.set(a.id, Object.assign(queue.alerts.get(a.id) || {}, a));
  const grant = d.unmask;
  const mediaKey = `${a.id}|${grant ? 'unmasked' : 'blurred'}`;
  let media = shown.mediaKey === mediaKey ? shown.media : null;
  if (!media) {
    media = h('div', { class: 'media' });
    if (can('evidence')) {
      const q = grant ? '?unmasked=true' : '';
      if (a.snapshot_url) media.append(h('div', {}, h('h3', { text: grant ? 'Snapshot (UNMASKED)' : 'Snapshot' }),
        h('img', { id: 'evidence-img', class: 'evidence' + (grant ? ' unmasked' : ''), src: a.snapshot_url + q, alt: 'evidence snapshot' })));
      media.append(h('div', {}, h('h3', { text: grant ? 'Clip (UNMASKED)' : 'Clip' }), clipPlayer(a.clip_url + q, { exportOf: { camera: a.camera, from: d.clip.from_ms, to: d.clip.to_ms } })));
    }
    shown.mediaKey = mediaKey; shown.media = media;
  }
  const info = h('dl', {},
    h('dt', { text: 'Type' }), h('dd', { text: a.type }),
    h('dt', { text: 'Camera / zone' }), h('dd', { text: `${a.camera} / ${a.zone}` }),
    h('dt', { text: 'Started' }), h('dd', { text: fmtTime(a.started_at_ms) }),
    h('dt', { text: 'Ended' }), h('dd', { text: a.ended_at_ms ? fmtTime(a.ended_at_ms) : 'ongoing' }),
    h('dt', { text: 'Peak' }), h('dd', { text: `${a.peak.kind} ${round(a.peak.value)}` }),
    h('dt', { text: 'Rule' }), h('dd', { text: `${a.rule} (version ${a.rule_version})` }),
    h('dt', { text: 'Legal basis' }), h('dd', { id: 'legal-basis', text: a.legal_basis }),
    h('dt', { text: 'Model' }), h('dd', { class: 'small', text: a.model_sha256 }),
    h('dt', { text: 'State' }), h('dd', {}, h('span', { id: 'detail-state', class: `state ${a.state}`, text: a.state })));
  const history = h('ul', { id: 'decisions', class: 'small' }, d.decisions.map((x) =>
    h('li', { text: `${fmtTime(x.at_ms)} — ${x.actor}: ${x.action} (${x.from_state} → ${x.to_state})${x.reason ? ' · ' + x.reason : ''}${x.text ? ' · ' + x.text : ''}` })));
  pane.replaceChildren(h('h2', { text: a.type.replaceAll('_', ' ') }), media, info, actionsFor(a, d, grant), h('h3', { text: 'Decisions' }), history);
}

function actionsFor(a, d, grant) {
  const box = h('div', { class: 'actions' });
  const msg = h('p', { id: 'action-msg', class: 'error small' });
  const run = async (path, body) => {
    msg.textContent = '';
    try { putAlert(await api('POST', `/api/alerts/${enc(a.id)}/${path}`, body)); await refreshDetail(a.id); }
    catch (e) { msg.textContent = e.message; }
  };
  if (can('alerts_act')) {
    const reason = h('select', { id: 'dismiss-reason' }, d.dismiss_reasons.map((r) => h('option', { value: r, text: r.replaceAll('_', ' ') })));
    const reasonText = h('input', { id: 'dismiss-text', placeholder: 'explanation (required for other)' });
    const unit = h('input', { id: 'dispatch-unit', placeholder: 'patrol name or instructions' });
    const note = h('input', { id: 'resolve-note', placeholder: 'resolution note' });
    box.append(
      h('div', { class: 'row' }, h('button', { id: 'btn-confirm', class: 'primary', onclick: () => run('confirm') }, 'Confirm')),
      h('div', { class: 'row' }, reason, reasonText, h('button', { id: 'btn-dismiss', onclick: () => run('dismiss', { reason: reason.value, text: reasonText.value || null }) }, 'Dismiss')),
      h('div', { class: 'row' }, unit, h('button', { id: 'btn-dispatch', onclick: () => run('dispatch', { unit: unit.value }) }, 'Dispatch')),
      h('div', { class: 'row' }, note, h('button', { id: 'btn-resolve', onclick: () => run('resolve', { note: note.value }) }, 'Resolve')));
  }
  if (can('unmask')) {
    if (grant) box.append(h('p', { class: 'small', text: `Unmasked until ${fmtTime(grant.expires_at_ms)} — reason: ${grant.reason}` }));
    else {
      const why = h('input', { id: 'unmask-reason', placeholder: 'reason for unmasking (recorded)', size: 30 });
      box.append(h('div', { class: 'row' }, why, h('button', { id: 'btn-unmask', class: 'danger', onclick: async () => {
        msg.textContent = '';
        try { await api('POST', `/api/alerts/${enc(a.id)}/unmask`, { reason: why.value }); await refreshDetail(a.id); } catch (e) { msg.textContent = e.message; }
      } }, 'Unmask evidence')));
    }
  }
  box.append(msg);
  return box;
}
