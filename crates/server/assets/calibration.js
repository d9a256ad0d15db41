// Rules in calibration: the supervisors' review queue (mark each alert right or wrong) and each
// rule's figures, with the admin's switch to live. Calibration alerts never reach the operators'
// queue; this page is the only place they are seen.
import { api, can } from './api.js';
import { $, enc, fmtTime, h, round } from './dom.js';

const pct = (v) => (v === null || v === undefined ? '—' : `${Math.round(v * 1000) / 10} %`);

export async function loadCalibration(message = '') {
  const msg = $('#calibration-msg');
  msg.textContent = message;
  try {
    const r = await api('GET', '/api/calibration/rules');
    $('#calibration-definitions').textContent = r.definitions;
    $('#calibration-rules tbody').replaceChildren(...(r.rules.length ? r.rules.map(ruleRow)
      : [h('tr', {}, h('td', { colspan: 9, text: 'No rule is in calibration.' }))]));
  } catch (e) { msg.textContent = e.message; }
  if (can('calibration_review')) await loadQueue();
  $('#calibration-queue-section').hidden = !can('calibration_review');
}

function ruleRow(r) {
  const f = r.figures;
  const live = can('config_edit')
    ? h('td', {}, h('button', { type: 'button', class: 'go-live', 'data-rule': `${r.camera}/${r.rule}`, onclick: () => goLive(r), text: 'Set live…' }))
    : h('td', { text: '' });
  return h('tr', { 'data-rule': `${r.camera}/${r.rule}` },
    h('td', { text: r.camera }), h('td', { text: `${r.rule} (v${r.version})` }), h('td', { text: r.type }),
    h('td', { text: f.alerts }), h('td', { text: `${f.right} / ${f.wrong} / ${f.unreviewed}` }),
    h('td', { class: 'precision', text: pct(f.precision) }),
    h('td', { text: f.false_alarms_per_camera_day === null ? '—' : round(f.false_alarms_per_camera_day) }),
    h('td', { text: f.first_ms ? `${fmtTime(f.first_ms)} → ${fmtTime(f.last_ms)} (${round(f.span_days)} d)` : '—' }),
    live);
}

async function goLive(r) {
  const reason = window.prompt(`Set rule ${r.rule} of ${r.camera} live? Its figures (precision ${pct(r.figures.precision)}, ${r.figures.wrong} false alarms) are recorded in the audit trail. Reason:`);
  if (!reason) return;
  try {
    const res = await api('POST', `/api/calibration/rules/${enc(r.camera)}/${enc(r.rule)}/live`, { reason });
    loadCalibration(`Rule ${res.rule} of ${res.camera} is live (version ${res.version}).`);
  } catch (e) { $('#calibration-msg').textContent = e.message; }
}

async function loadQueue() {
  const list = $('#calibration-queue');
  try {
    const r = await api('GET', '/api/calibration/alerts');
    list.replaceChildren(...(r.alerts.length ? r.alerts.map(queueItem) : [h('li', { text: 'Nothing to review.' })]));
  } catch (e) { list.replaceChildren(h('li', { text: e.message })); }
}

function queueItem(a) {
  const mark = (verdict) => async () => {
    try { await api('POST', `/api/calibration/alerts/${enc(a.id)}/review`, { verdict }); await loadCalibration(); }
    catch (e) { $('#calibration-msg').textContent = e.message; }
  };
  const state = a.review ? `marked ${a.review.verdict} by ${a.review.by}` : 'not reviewed';
  return h('li', { class: 'calibration-alert', 'data-id': a.id },
    a.snapshot_url ? h('img', { src: a.snapshot_url, alt: `Evidence of ${a.type} on ${a.camera} (people pixelated)`, width: 240 }) : null,
    h('div', {},
      h('strong', { text: `${a.type} · ${a.camera} · ${a.rule} v${a.rule_version}` }),
      h('div', { class: 'small', text: `${fmtTime(a.started_at_ms)} · ${state}` }),
      h('button', { type: 'button', class: 'mark-right', onclick: mark('right'), text: 'Right' }),
      h('button', { type: 'button', class: 'mark-wrong', onclick: mark('wrong'), text: 'Wrong (false alarm)' })));
}

/** Live feed messages about calibration alerts (supervisors' feeds only). */
export function onCalibrationEvent() {
  if (!$('#view-calibration').hidden) loadQueue();
}
