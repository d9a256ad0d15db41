// The statistics page: anonymous counts of the counting zones (lines: crossings in and out;
// areas: entries and mean occupancy), per class, as a time series, an hour-of-day profile and a
// comparison of two days. Every chart has its data table; times are the city's (the node's
// events time zone, given by /api/me), whatever the browser's own zone.
import { api, session } from './api.js';
import { $, enc, h } from './dom.js';
import {
  METRICS, PALETTE, chartTree, dayBounds, fillSteps, hourProfile, isoDate, isoMinute, parseLocal, totals, zonedParts,
} from './chart.js';

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
  $(target).replaceChildren(...trees.map(svg), h('details', {}, h('summary', { text: `Data table: ${caption}` }), table));
}

/**
 * The charts of a zone kind's metrics, each metric in its own colour: a line's in and out share
 * one chart; an area's entries (a count) and occupancy (a mean) get one each, on their own scale.
 */
function charts(kind, metrics, make) {
  const colored = metrics.map((m, i) => ({ ...m, color: PALETTE[i] }));
  const groups = kind === 'area' ? colored.map((m) => [m]) : [colored];
  return groups.map((g, i) => make(g, i));
}

const zoneOf = (camera, zone) => (st.zones || []).find((z) => z.camera === camera && z.zone === zone);

function fillZones() {
  const f = $('#stats-form');
  const names = (st.zones || []).filter((z) => z.camera === f.camera.value)
    .map((z) => h('option', { value: z.zone, text: `${z.zone} (${z.kind === 'line' ? 'line' : 'area'})` }));
  f.zone.replaceChildren(...names);
  fillClasses();
}

function fillClasses() {
  const f = $('#stats-form');
  const z = zoneOf(f.camera.value, f.zone.value);
  f.class.replaceChildren(h('option', { value: '', text: 'all classes' }), ...(z ? z.classes : []).map((c) => h('option', { value: c, text: c })));
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
    msg.textContent = 'No counting zone is configured: a zone with kind = "line", or an area zone with count = true.';
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
  if (!f.zone.value) return { error: 'choose a counting zone' };
  if (from === null) return { error: 'from: enter a date and time' };
  if (to === null) return { error: 'to: enter a date and time' };
  if (to <= from) return { error: 'to: must be after from' };
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

const describe = (q) => `${q.camera} · ${q.zone} · ${q.cls || 'all classes'}`;

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
  msg.textContent = 'Loading…';
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
    ? `${sum.entries} entries`
    : `${sum.in} in, ${sum.out} out`;
  $('#stats-summary').textContent = `${describe(q)}: ${summary} from ${isoMinute(r.from, tz).replace('T', ' ')} to ${isoMinute(r.to, tz).replace('T', ' ')} (${tz}).`;
  const stepName = STEPS.find(([v]) => v === r.step_s)?.[1] || `${r.step_s} s`;
  const trees = charts(r.kind, metrics, (g, i) => chartTree({
    id: `stats-series-chart-${i}`,
    title: `${g.map((m) => m.label).join(' and ')} per ${stepName}`,
    desc: `${describe(q)}, ${rows.length} steps; totals: ${summary}.`,
    labels, series: g.map((m) => ({ name: m.label, color: m.color, values: rows.map((row) => row[m.key]) })),
  }));
  const head = ['step start', ...metrics.map((m) => m.label)];
  const body = rows.map((row) => [isoMinute(row.t, tz).replace('T', ' '), ...keys.map((k) => row[k])]);
  figure('#stats-series', trees, `${describe(q)} per step (${tz})`, head, body);
}

function drawProfile(q, r) {
  const tz = cityZone();
  const metrics = METRICS[r.kind] || METRICS.line;
  const keys = metrics.map((m) => m.key);
  const prof = hourProfile(r.points, r.from, r.to, tz, keys);
  const labels = prof.map((p) => `${String(p.hour).padStart(2, '0')}h`);
  const trees = charts(r.kind, metrics, (g, i) => chartTree({
    id: `stats-profile-chart-${i}`, type: 'bar', ticks: 12,
    title: `${g.map((m) => m.label).join(' and ')}: mean per hour of the day (${tz})`,
    desc: `${describe(q)}: mean of each hour of the day over the chosen range.`,
    labels, series: g.map((m) => ({ name: m.label, color: m.color, values: prof.map((p) => p[m.key]) })),
  }));
  figure('#stats-profile', trees, `${describe(q)}, mean per hour of the day (${tz})`,
    ['hour', ...metrics.map((m) => m.label), 'hours in range'], prof.map((p) => [labels[p.hour], ...keys.map((k) => p[k]), p.n]));
}

/** Two days of the same zone and class, hour by hour (or finer), on one time-of-day axis. */
export async function compareDays(ev) {
  if (ev) ev.preventDefault();
  const q = st.query || readForm();
  const msg = $('#stats-compare-msg');
  msg.textContent = '';
  if (!q || q.error) { msg.textContent = (q && q.error) || 'choose a zone first'; return; }
  const tz = cityZone();
  const days = ['#stats-day-a', '#stats-day-b'].map((s) => [$(s).value, dayBounds($(s).value, tz)]);
  const bad = days.find(([, b]) => !b);
  if (bad) { msg.textContent = `day: "${bad[0]}" is not a date`; return; }
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
      name: `${day} ${m.label}`, color: m.color, dashed: d === 1, values: labels.map((_, i) => (rows[d][i] ? rows[d][i][m.key] : null)),
    })));
    // Occupancy is a mean: its day total would mean nothing.
    const counted = metrics.filter((m) => m.key !== 'occupancy');
    const trees = charts(got[0].kind, metrics, (g, i) => chartTree({
      id: `stats-compare-chart-${i}`, title: `${g.map((m) => m.label).join(' and ')}: ${days[0][0]} and ${days[1][0]} compared (${tz})`,
      desc: `${describe(q)}: ${days.map(([day], d) => `${day} ${counted.map((m) => `${fmt(totals(rows[d], [m.key])[m.key])} ${m.label}`).join(', ')}`).join('; ')}.`,
      labels, series: seriesOf(g),
    }));
    const all = seriesOf(metrics);
    figure('#stats-compare', trees, `${describe(q)}: ${days[0][0]} and ${days[1][0]} by time of day (${tz})`,
      ['time', ...all.map((s) => s.name)], labels.map((l, i) => [l, ...all.map((s) => s.values[i])]));
  } catch (e) { msg.textContent = e.message; }
}

export function initStatsView() {
  $('#stats-form').addEventListener('submit', showStats);
  $('#stats-camera').addEventListener('change', fillZones);
  $('#stats-zone').addEventListener('change', fillClasses);
  $('#stats-days').addEventListener('submit', compareDays);
  $('#stats-step').replaceChildren(...STEPS.map(([s, label]) => h('option', { value: s, text: label })));
}
