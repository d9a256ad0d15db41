// The transparency report and the audit trail: what auditors read.
import { api } from './api.js';
import { $, enc, fmtTime, h, round } from './dom.js';
import { register, t } from './i18n.js';

// The transparency report's French (the audit trail's is beside its own code).
register({
  camera: 'caméra', 'event type': "type d'événement", alerts: 'alertes', confirmed: 'confirmées', dismissed: 'écartées',
  undecided: 'non décidées', precision: 'précision', 'false alarms per camera day': 'fausses alertes par caméra et par jour',
  'median time to decision s': 'délai médian de décision (s)', 'dismissed by reason': 'écartées par motif',
  'Models: {models} · Rules: {rules} · Audit trail head: entry {seq}, hash {hash}':
    "Modèles : {models} · Règles : {rules} · Tête du journal d'audit : entrée {seq}, empreinte {hash}",
  ' · Legal holds: {active} active at the end, {placed} placed, {released} released, {expired} expired in the period':
    ' · Réquisitions : {active} actives en fin de période, {placed} placées, {released} levées, {expired} expirées sur la période',
  '(none)': '(aucun)',
});

export function initReports() {
  const f = $('#report-form');
  if (!f.from.value) {
    const to = new Date(), from = new Date(Date.now() - 30 * 86400000);
    f.to.value = new Date(to.getTime() + 86400000).toISOString().slice(0, 10);
    f.from.value = from.toISOString().slice(0, 10);
  }
  loadReport();
}

export async function loadReport(ev) {
  if (ev) ev.preventDefault();
  const f = $('#report-form');
  const qs = `from=${f.from.value}&to=${f.to.value}`;
  $('#report-csv').href = `/api/reports/transparency?${qs}&format=csv`;
  try {
    const r = await api('GET', `/api/reports/transparency?${qs}`);
    const cols = ['camera', 'event_type', 'alerts', 'confirmed', 'dismissed', 'undecided', 'precision', 'false_alarms_per_camera_day', 'median_time_to_decision_s'];
    $('#report-table thead').replaceChildren(h('tr', {}, cols.map((c) => h('th', { text: t(c.replaceAll('_', ' ')) })), h('th', { text: t('dismissed by reason') })));
    $('#report-table tbody').replaceChildren(...r.rows.map((row) => h('tr', {},
      cols.map((c) => h('td', { text: row[c] === null ? '—' : typeof row[c] === 'number' ? round(row[c]) : row[c] })),
      h('td', { class: 'small', text: Object.entries(row.dismissed_by_reason).map(([k, v]) => `${k}: ${v}`).join(', ') }))));
    $('#report-models').textContent = t('Models: {models} · Rules: {rules} · Audit trail head: entry {seq}, hash {hash}',
      { models: r.models.join(', ') || '—', rules: r.rule_versions.join(', ') || '—', seq: r.audit_head.seq, hash: r.audit_head.hash });
    const hd = r.holds;
    if (hd) $('#report-models').textContent += t(' · Legal holds: {active} active at the end, {placed} placed, {released} released, {expired} expired in the period', hd);
    showMasks(r.privacy_masks || []);
  } catch (e) { $('#report-models').textContent = e.message; }
}

/** Each camera's privacy masks in force: one row per mask (a camera whose masks were all removed, one row). */
function showMasks(cams) {
  const pct = (v) => (v === null || v === undefined ? '—' : `${round(v)} %`);
  $('#report-masks tbody').replaceChildren(...cams.flatMap((c) => (c.masks.length ? c.masks : [null]).map((m) => h('tr', {},
    h('td', { text: c.camera }), h('td', { text: m ? m.name : t('(none)') }), h('td', { text: c.version }),
    h('td', { text: fmtTime(c.in_force_since_ms) }), h('td', { text: c.changes_in_period }),
    h('td', { text: m ? m.points : 0 }), h('td', { text: m ? pct(m.area_percent) : '—' }), h('td', { text: pct(c.hidden_percent) })))));
  $('#report-masks-empty').hidden = cams.length > 0;
}

register({
  'Page {n}: entries {first} to {last}': 'Page {n} : entrées {first} à {last}',
  'No entry matches.': 'Aucune entrée ne correspond.',
});

/** The filters as shown (none sent empty), and the cursors of the pages seen so far. */
const audit = { pages: [undefined], page: 0, wired: false };

function auditFilters() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($('#audit-form'))) if (v && String(v).trim() && k !== 'limit') p.set(k, String(v).trim());
  return p;
}

function wireAudit() {
  if (audit.wired) return;
  audit.wired = true;
  $('#audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadAudit(); });
  $('#audit-older').addEventListener('click', () => showAuditPage(audit.page + 1));
  $('#audit-newer').addEventListener('click', () => showAuditPage(audit.page - 1));
  // The link always carries the filters shown, so the file holds what the table lists.
  for (const el of $('#audit-form').querySelectorAll('input, select')) el.addEventListener('input', updateCsvLink);
}

function updateCsvLink() { $('#audit-csv').href = `/api/audit/export?${auditFilters()}`; }

/** First page with the filters as they are now. */
export async function loadAudit() {
  wireAudit();
  audit.pages = [undefined];
  await showAuditPage(0);
}

async function showAuditPage(n) {
  if (n < 0 || n >= audit.pages.length) return;
  const p = auditFilters();
  updateCsvLink();
  p.set('limit', $('#audit-limit').value);
  if (audit.pages[n] !== undefined) p.set('before', audit.pages[n]);
  try {
    const r = await api('GET', `/api/audit?${p}`);
    audit.page = n;
    if (r.has_more) audit.pages[n + 1] = r.next_before; else audit.pages.length = n + 1;
    const list = $('#audit-actions');
    if (!list.options.length) list.replaceChildren(...(r.actions || []).map((a) => h('option', { value: a })));
    $('#audit-table tbody').replaceChildren(...r.entries.map((e) => h('tr', { 'data-seq': e.seq },
      h('td', { text: e.seq }), h('td', { text: fmtTime(e.at_ms) }), h('td', { class: 'actor', text: e.actor }),
      h('td', { class: 'action', text: e.action }), h('td', { class: 'target', text: e.target }), h('td', { class: 'details', text: e.details }))));
    $('#audit-page').textContent = r.entries.length
      ? t('Page {n}: entries {first} to {last}', { n: n + 1, first: r.entries[0].seq, last: r.entries[r.entries.length - 1].seq })
      : t('No entry matches.');
    $('#audit-older').disabled = !r.has_more;
    $('#audit-newer').disabled = n === 0;
    $('#audit-verdict').textContent = '';
  } catch (e) { $('#audit-verdict').textContent = e.message; $('#audit-verdict').className = 'bad'; }
}

export async function verifyAudit() {
  const v = $('#audit-verdict');
  try {
    const r = await api('GET', '/api/audit/verify');
    v.textContent = r.ok ? `intact: ${r.entries} entries, head ${r.head_hash.slice(0, 16)}…` : r.message;
    v.className = r.ok ? 'ok' : 'bad';
  } catch (e) { v.textContent = e.message; v.className = 'bad'; }
}
