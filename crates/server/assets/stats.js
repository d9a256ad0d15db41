// The statistics page: anonymous counts of the counting zones (lines: crossings in and out;
// areas: entries and mean occupancy), per class, as a time series, an hour-of-day profile and a
// comparison of two days. Every chart has its data table; times are the city's (the node's
// events time zone, given by /api/me), whatever the browser's own zone.
import { api, session } from './api.js';
import { $, enc, h } from './dom.js';
import { onLangChange, register, t } from './i18n.js';
import {
  METRICS, PALETTE, chartTree, dayBounds, fillSteps, hourProfile, isoDate, isoMinute, parseLocal, totals, zonedParts,
} from './chart.js';

register({
  '1 minute': '1 minute', '5 minutes': '5 minutes', '15 minutes': '15 minutes', '1 hour': '1 heure', '1 day': '1 jour',
  '{zone} (line)': '{zone} (ligne)', '{zone} (area)': '{zone} (zone)', 'all classes': 'toutes classes',
  'No counting zone is configured: a zone with kind = "line", or an area zone with count = true.':
    "Aucune zone de comptage n'est configurée : une zone avec kind = \"line\", ou une zone de surface avec count = true.",
  'choose a counting zone': 'choisissez une zone de comptage',
  'from: enter a date and time': 'du : saisissez une date et une heure',
  'to: enter a date and time': 'au : saisissez une date et une heure',
  'to: must be after from': 'au : doit être après du',
  'Loading…': 'Chargement…',
  in: 'entrées', out: 'sorties', entries: 'entrées', 'mean occupancy': 'occupation moyenne',
  '{n} entries': '{n} entrées', '{in} in, {out} out': '{in} entrées, {out} sorties',
  '{what}: {summary} from {from} to {to} ({tz}).': '{what} : {summary} du {from} au {to} ({tz}).',
  '{n} s': '{n} s', ' and ': ' et ',
  '{metrics} per {step}': '{metrics} par pas de {step}',
  '{what}, {n} steps; totals: {summary}.': '{what}, {n} pas ; totaux : {summary}.',
  'step start': 'début du pas', '{what} per step ({tz})': '{what} par pas ({tz})',
  '{metrics}: mean per hour of the day ({tz})': '{metrics} : moyenne par heure de la journée ({tz})',
  '{what}: mean of each hour of the day over the chosen range.': '{what} : moyenne de chaque heure de la journée sur la période choisie.',
  '{what}, mean per hour of the day ({tz})': '{what}, moyenne par heure de la journée ({tz})',
  hour: 'heure', 'hours in range': 'heures dans la période',
  'choose a zone first': "choisissez d'abord une zone",
  'day: "{day}" is not a date': "jour : « {day} » n'est pas une date",
  '{metrics}: {a} and {b} compared ({tz})': '{metrics} : {a} et {b} comparés ({tz})',
  '{what}: {a} and {b} by time of day ({tz})': '{what} : {a} et {b} selon l\'heure ({tz})',
  time: 'heure', 'Data table: {caption}': 'Tableau des données : {caption}',
});

const SVG_NS = 'http://www.w3.org/2000/svg';
const STEPS = [[60, '1 minute'], [300, '5 minutes'], [900, '15 minutes'], [3600, '1 hour'], [86400, '1 day']];
const DAY_MS = 86_400_000;

const st = { zones: null, query: null, run: 0 };

/** The city's time zone; the browser's own only when the server does not say. */
export const cityZone = () => (session.me && session.me.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone;

function svg(node) {
  const e = document.createElementNS(SVG_NS, node.tag);
  for (const [k, v] of Object.entries(node.attrs)) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  if (node.text !== undefined) e.textContent = node.text;
  for (const kid of node.kids) e.append(svg(kid));
  return e;
}

const fmt = (v) => (v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(2));

/** The charts, and the same numbers as one table for those who cannot see them. */
function figure(target, trees, caption, head, rows) {
  const table = h('table', { class: 'stats-table small' },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row', text: c }) : h('td', { text: fmt(c) })))))));
  $(target).replaceChildren(...trees.map(svg), h('details', {}, h('summary', { text: t('Data table: {caption}', { caption }) }), table));
}

/**
 * The charts of a zone kind's metrics, each metric in its own colour: a line's in and out share
 * one chart; an area's entries (a count) and occupancy (a mean) get one each, on their own scale.
 */
function charts(kind, metrics, make) {
  const colored = metrics.map((m, i) => ({ ...m, label: t(m.label), color: PALETTE[i] }));
  const groups = kind === 'area' ? colored.map((m) => [m]) : [colored];
  return groups.map((g, i) => make(g, i));
}

const zoneOf = (camera, zone) => (st.zones || []).find((z) => z.camera === camera && z.zone === zone);

function fillZones() {
  const f = $('#stats-form');
  const names = (st.zones || []).filter((z) => z.camera === f.camera.value)
    .map((z) => h('option', { value: z.zone, text: t(z.kind === 'line' ? '{zone} (line)' : '{zone} (area)', { zone: z.zone }) }));
  f.zone.replaceChildren(...names);
  fillClasses();
}

function fillClasses() {
  const f = $('#stats-form');
  const z = zoneOf(f.camera.value, f.zone.value);
  f.class.replaceChildren(h('option', { value: '', text: t('all classes') }), ...(z ? z.classes : []).map((c) => h('option', { value: c, text: c })));
}

/**
 * Each opening asks for the counting zones again (the configuration or the user may have
 * changed); the form is reset only when they did: to the last 24 hours, ending at the next minute.
 */
export async function initStats() {
  $('#stats-tz').textContent = cityZone();
  const msg = $('#stats-msg');
  let zones;
  try { zones = await api('GET', '/api/stats/zones'); } catch (e) { msg.textContent = e.message; return; }
  if (st.zones && JSON.stringify(zones) === JSON.stringify(st.zones)) return;
  st.zones = zones;
  st.query = null;
  for (const s of ['#stats-series', '#stats-profile', '#stats-compare', '#stats-summary']) $(s).replaceChildren();
  $('#stats-csv').hidden = true;
  if (!st.zones.length) {
    $('#stats-camera').replaceChildren();
    fillZones();
    msg.textContent = t('No counting zone is configured: a zone with kind = "line", or an area zone with count = true.');
    return;
  }
  const f = $('#stats-form');
  const cams = [...new Map(st.zones.map((z) => [z.camera, z.camera_name || z.camera])).entries()];
  f.camera.replaceChildren(...cams.map(([id, name]) => h('option', { value: id, text: name && name !== id ? `${id} — ${name}` : id })));
  fillZones();
  const tz = cityZone();
  const to = Math.ceil(Date.now() / 60000) * 60000;
  f.to.value = isoMinute(to, tz);
  f.from.value = isoMinute(to - DAY_MS, tz);
  f.step.value = '900';
  $('#stats-day-a').value = isoDate(Date.now(), tz);
  $('#stats-day-b').value = isoDate(Date.now() - DAY_MS, tz);
  await showStats();
}

/** The form as a query, or a message naming the field that cannot be read. */
function readForm() {
  const f = $('#stats-form');
  const tz = cityZone();
  const from = parseLocal(f.from.value, tz);
  const to = parseLocal(f.to.value, tz);
  if (!f.zone.value) return { error: t('choose a counting zone') };
  if (from === null) return { error: t('from: enter a date and time') };
  if (to === null) return { error: t('to: enter a date and time') };
  if (to <= from) return { error: t('to: must be after from') };
  return aligned({ camera: f.camera.value, zone: f.zone.value, cls: f.class.value, from, to, step: Number(f.step.value) });
}

/**
 * Steps of up to an hour start on whole steps (whole minutes, quarters, hours), so that an hour
 * in the charts is an hour of the clock (in every zone whose offset from UTC is whole hours);
 * daily steps start at the city's midnight (the server's steps are 24 hours long: across a
 * change of clocks they start an hour off). The range grows to the steps it touches.
 */
function aligned(q) {
  if (q.step === 86400) {
    const tz = cityZone();
    const first = dayBounds(isoDate(q.from, tz), tz).from;
    const last = dayBounds(isoDate(q.to - 1, tz), tz).to;
    return { ...q, from: first, to: first + Math.ceil((last - first) / DAY_MS) * DAY_MS };
  }
  if (q.step > 3600) return q;
  const ms = q.step * 1000;
  return { ...q, from: Math.floor(q.from / ms) * ms, to: Math.ceil(q.to / ms) * ms };
}

const statsUrl = (q, extra = '') => `/api/stats?camera=${enc(q.camera)}&zone=${enc(q.zone)}${q.cls ? `&class=${enc(q.cls)}` : ''}`
  + `&from=${q.from}&to=${q.to}&step=${q.step}${extra}`;

const describe = (q) => `${q.camera} · ${q.zone} · ${q.cls || t('all classes')}`;
const metricNames = (g) => g.map((m) => m.label).join(t(' and '));

function stepLabel(t, stepS, tz) {
  const p = zonedParts(t, tz);
  const hm = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
  return stepS >= 86400 ? isoDate(t, tz) : `${isoDate(t, tz).slice(5)} ${hm}`;
}

export async function showStats(ev) {
  if (ev) ev.preventDefault();
  const msg = $('#stats-msg');
  const q = readForm();
  if (q.error) { msg.textContent = q.error; return; }
  msg.textContent = t('Loading…');
  const run = ++st.run;
  st.query = q;
  $('#stats-csv').href = statsUrl(q, '&format=csv');
  $('#stats-csv').hidden = false;
  try {
    // The profile needs whole hours whatever the chosen step; the server refuses a range too
    // long for the step, and says which step would do.
    const [series, hourly] = await Promise.all([api('GET', statsUrl(q)), api('GET', statsUrl(aligned({ ...q, step: 3600 })))]);
    if (run !== st.run) return;
    drawSeries(q, series);
    drawProfile(q, hourly);
    msg.textContent = '';
    await compareDays();
  } catch (e) { if (run === st.run) msg.textContent = e.message; }
}

function drawSeries(q, r) {
  const tz = cityZone();
  const metrics = METRICS[r.kind] || METRICS.line;
  const keys = metrics.map((m) => m.key);
  const rows = fillSteps(r.points, r.from, r.to, r.step_s * 1000, keys);
  const labels = rows.map((row) => stepLabel(row.t, r.step_s, tz));
  const sum = totals(rows, keys);
  const summary = r.kind === 'area'
    ? t('{n} entries', { n: sum.entries })
    : t('{in} in, {out} out', { in: sum.in, out: sum.out });
  $('#stats-summary').textContent = t('{what}: {summary} from {from} to {to} ({tz}).', {
    what: describe(q), summary, from: isoMinute(r.from, tz).replace('T', ' '), to: isoMinute(r.to, tz).replace('T', ' '), tz,
  });
  const stepName = t(STEPS.find(([v]) => v === r.step_s)?.[1] || t('{n} s', { n: r.step_s }));
  const trees = charts(r.kind, metrics, (g, i) => chartTree({
    id: `stats-series-chart-${i}`,
    title: t('{metrics} per {step}', { metrics: metricNames(g), step: stepName }),
    desc: t('{what}, {n} steps; totals: {summary}.', { what: describe(q), n: rows.length, summary }),
    labels, series: g.map((m) => ({ name: m.label, color: m.color, values: rows.map((row) => row[m.key]) })),
  }));
  const head = [t('step start'), ...metrics.map((m) => t(m.label))];
  const body = rows.map((row) => [isoMinute(row.t, tz).replace('T', ' '), ...keys.map((k) => row[k])]);
  figure('#stats-series', trees, t('{what} per step ({tz})', { what: describe(q), tz }), head, body);
}

function drawProfile(q, r) {
  const tz = cityZone();
  const metrics = METRICS[r.kind] || METRICS.line;
  const keys = metrics.map((m) => m.key);
  const prof = hourProfile(r.points, r.from, r.to, tz, keys);
  const labels = prof.map((p) => `${String(p.hour).padStart(2, '0')}h`);
  const trees = charts(r.kind, metrics, (g, i) => chartTree({
    id: `stats-profile-chart-${i}`, type: 'bar', ticks: 12,
    title: t('{metrics}: mean per hour of the day ({tz})', { metrics: metricNames(g), tz }),
    desc: t('{what}: mean of each hour of the day over the chosen range.', { what: describe(q) }),
    labels, series: g.map((m) => ({ name: m.label, color: m.color, values: prof.map((p) => p[m.key]) })),
  }));
  figure('#stats-profile', trees, t('{what}, mean per hour of the day ({tz})', { what: describe(q), tz }),
    [t('hour'), ...metrics.map((m) => t(m.label)), t('hours in range')], prof.map((p) => [labels[p.hour], ...keys.map((k) => p[k]), p.n]));
}

/** Two days of the same zone and class, hour by hour (or finer), on one time-of-day axis. */
export async function compareDays(ev) {
  if (ev) ev.preventDefault();
  const q = st.query || readForm();
  const msg = $('#stats-compare-msg');
  msg.textContent = '';
  if (!q || q.error) { msg.textContent = (q && q.error) || t('choose a zone first'); return; }
  const tz = cityZone();
  const days = ['#stats-day-a', '#stats-day-b'].map((s) => [$(s).value, dayBounds($(s).value, tz)]);
  const bad = days.find(([, b]) => !b);
  if (bad) { msg.textContent = t('day: "{day}" is not a date', { day: bad[0] }); return; }
  const step = Math.min(q.step, 3600);
  try {
    const got = await Promise.all(days.map(([, b]) => api('GET', statsUrl({ ...q, from: b.from, to: b.to, step }))));
    const metrics = METRICS[got[0].kind] || METRICS.line;
    const keys = metrics.map((m) => m.key);
    const rows = got.map((r) => fillSteps(r.points, r.from, r.to, step * 1000, keys));
    // Slots by time since local midnight; a 25-hour day has one more.
    const n = Math.max(...rows.map((r) => r.length));
    const labels = Array.from({ length: n }, (_, i) => {
      const min = (i * step) / 60;
      return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
    });
    const seriesOf = (g) => days.flatMap(([day], d) => g.map((m) => ({
      name: `${day} ${t(m.label)}`, color: m.color, dashed: d === 1, values: labels.map((_, i) => (rows[d][i] ? rows[d][i][m.key] : null)),
    })));
    // Occupancy is a mean: its day total would mean nothing.
    const counted = metrics.filter((m) => m.key !== 'occupancy');
    const trees = charts(got[0].kind, metrics, (g, i) => chartTree({
      id: `stats-compare-chart-${i}`, title: t('{metrics}: {a} and {b} compared ({tz})', { metrics: metricNames(g), a: days[0][0], b: days[1][0], tz }),
      desc: `${describe(q)}: ${days.map(([day], d) => `${day} ${counted.map((m) => `${fmt(totals(rows[d], [m.key])[m.key])} ${t(m.label)}`).join(', ')}`).join('; ')}.`,
      labels, series: seriesOf(g),
    }));
    const all = seriesOf(metrics);
    figure('#stats-compare', trees, t('{what}: {a} and {b} by time of day ({tz})', { what: describe(q), a: days[0][0], b: days[1][0], tz }),
      [t('time'), ...all.map((s) => s.name)], labels.map((l, i) => [l, ...all.map((s) => s.values[i])]));
  } catch (e) { msg.textContent = e.message; }
}

export function initStatsView() {
  $('#stats-form').addEventListener('submit', showStats);
  $('#stats-camera').addEventListener('change', fillZones);
  $('#stats-zone').addEventListener('change', fillClasses);
  $('#stats-days').addEventListener('submit', compareDays);
  fillStepChoices();
  onLangChange(relabel);
}

function fillStepChoices() {
  const pick = $('#stats-step');
  const was = pick.value;
  pick.replaceChildren(...STEPS.map(([s, label]) => h('option', { value: s, text: t(label) })));
  if (was) pick.value = was;
}

/** A switch of language: the choices keep their values, and what is drawn is drawn again. */
function relabel() {
  const f = $('#stats-form');
  const [zone, cls] = [f.zone.value, f.class.value];
  fillStepChoices();
  if (st.zones) {
    fillZones();
    f.zone.value = zone;
    fillClasses();
    f.class.value = cls;
  }
  if (st.query) showStats();
}
