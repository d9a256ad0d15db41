// Rules in calibration: the supervisors' review queue (mark each alert right or wrong) and each
// rule's figures, with the admin's switch to live. Calibration alerts never reach the operators'
// queue; this page is the only place they are seen.
import { api, can } from './api.js';
import { $, enc, fmtTime, h, round } from './dom.js';
import { register, t } from './i18n.js';

register({
  'No rule is in calibration.': "Aucune règle n'est en calibrage.",
  'Set live…': 'Passer en service…',
  'Set live: rule {rule} of {camera}': 'Passer en service : règle {rule} de {camera}',
  'Set rule {rule} of {camera} live? Its figures (precision {precision}, {wrong} false alarms) are recorded in the audit trail. Reason:':
    "Passer en service la règle {rule} de {camera} ? Ses chiffres (précision {precision}, {wrong} fausses alertes) sont consignés dans le journal d'audit. Motif :",
  'Rule {rule} of {camera} is live (version {version}).': 'La règle {rule} de {camera} est en service (version {version}).',
  'Nothing to review.': 'Rien à revoir.',
  'marked {verdict} by {user}': 'marquée {verdict} par {user}',
  right: 'juste', wrong: 'fausse',
  'not reviewed': 'non revue',
  'Evidence of {type} on {camera} (people pixelated)': 'Preuve de {type} sur {camera} (personnes pixelisées)',
  Right: 'Juste', 'Wrong (false alarm)': 'Fausse (fausse alerte)',
  '{d} d': '{d} j',
});

const pct = (v) => (v === null || v === undefined ? '—' : `${Math.round(v * 1000) / 10} %`);

export async function loadCalibration(message = '') {
  const msg = $('#calibration-msg');
  msg.textContent = message;
  try {
    const r = await api('GET', '/api/calibration/rules');
    $('#calibration-definitions').textContent = r.definitions;
    $('#calibration-rules tbody').replaceChildren(...(r.rules.length ? r.rules.map(ruleRow)
      : [h('tr', {}, h('td', { colspan: 9, text: t('No rule is in calibration.') }))]));
  } catch (e) { msg.textContent = e.message; }
  if (can('calibration_review')) await loadQueue();
  $('#calibration-queue-section').hidden = !can('calibration_review');
}

function ruleRow(r) {
  const f = r.figures;
  const live = can('config_edit')
    ? h('td', {}, h('button', {
      type: 'button', class: 'go-live', 'data-rule': `${r.camera}/${r.rule}`, onclick: () => goLive(r), text: t('Set live…'),
      'aria-label': t('Set live: rule {rule} of {camera}', { rule: r.rule, camera: r.camera }),
    }))
    : h('td', { text: '' });
  return h('tr', { 'data-rule': `${r.camera}/${r.rule}` },
    h('td', { text: r.camera }), h('td', { text: `${r.rule} (v${r.version})` }), h('td', { text: r.type }),
    h('td', { text: f.alerts }), h('td', { text: `${f.right} / ${f.wrong} / ${f.unreviewed}` }),
    h('td', { class: 'precision', text: pct(f.precision) }),
    h('td', { text: f.false_alarms_per_camera_day === null ? '—' : round(f.false_alarms_per_camera_day) }),
    h('td', { text: f.first_ms ? `${fmtTime(f.first_ms)} → ${fmtTime(f.last_ms)} (${t('{d} d', { d: round(f.span_days) })})` : '—' }),
    live);
}

async function goLive(r) {
  const reason = window.prompt(t('Set rule {rule} of {camera} live? Its figures (precision {precision}, {wrong} false alarms) are recorded in the audit trail. Reason:',
    { rule: r.rule, camera: r.camera, precision: pct(r.figures.precision), wrong: r.figures.wrong }));
  if (!reason) return;
  try {
    const res = await api('POST', `/api/calibration/rules/${enc(r.camera)}/${enc(r.rule)}/live`, { reason });
    loadCalibration(t('Rule {rule} of {camera} is live (version {version}).', { rule: res.rule, camera: res.camera, version: res.version }));
  } catch (e) { $('#calibration-msg').textContent = e.message; }
}

async function loadQueue() {
  const list = $('#calibration-queue');
  try {
    const r = await api('GET', '/api/calibration/alerts');
    list.replaceChildren(...(r.alerts.length ? r.alerts.map(queueItem) : [h('li', { text: t('Nothing to review.') })]));
  } catch (e) { list.replaceChildren(h('li', { text: e.message })); }
}

function queueItem(a) {
  const mark = (verdict) => async () => {
    try { await api('POST', `/api/calibration/alerts/${enc(a.id)}/review`, { verdict }); await loadCalibration(); }
    catch (e) { $('#calibration-msg').textContent = e.message; }
  };
  const state = a.review ? t('marked {verdict} by {user}', { verdict: t(a.review.verdict), user: a.review.by }) : t('not reviewed');
  return h('li', { class: 'calibration-alert', 'data-id': a.id },
    a.snapshot_url ? h('img', { src: a.snapshot_url, alt: t('Evidence of {type} on {camera} (people pixelated)', { type: a.type, camera: a.camera }), width: 240 }) : null,
    h('div', {},
      h('strong', { text: `${a.type} · ${a.camera} · ${a.rule} v${a.rule_version}` }),
      h('div', { class: 'small', text: `${fmtTime(a.started_at_ms)} · ${state}` }),
      h('button', { type: 'button', class: 'mark-right', onclick: mark('right'), text: t('Right') }),
      h('button', { type: 'button', class: 'mark-wrong', onclick: mark('wrong'), text: t('Wrong (false alarm)') })));
}

/** Live feed messages about calibration alerts (supervisors' feeds only). */
export function onCalibrationEvent() {
  if (!$('#view-calibration').hidden) loadQueue();
}
