// End-to-end test of the statistics page in Debian's Chromium, against the real node counting
// the highway clip (`vigie run` on a copy of config/demo.toml: line zone "pk12" on camera
// "rocade"). Same environment variables as console.test.mjs; the node listens on its own port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { isoDate, isoMinute } from '../../crates/server/assets/chart.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.VIGIE_STATS_DATA || mkdtempSync(join(tmpdir(), 'vigie-stats-e2e-'));
const VIGIE = process.env.VIGIE_BIN || join(ROOT, 'target/release/vigie');
const URL = process.env.VIGIE_STATS_URL || 'http://127.0.0.1:18081';
const CONFIG = join(DATA, 'vigie.toml');
const SERVER_CMD = process.env.VIGIE_STATS_SERVER_CMD
  || `"${VIGIE}" run --config "${CONFIG}" --data "$VIGIE_DATA" --listen 127.0.0.1:18081`;
const USER_ADD_CMD = process.env.VIGIE_USER_ADD_CMD || `"${VIGIE}" user add --data "$VIGIE_DATA" --role {role} {name}`;
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const USERS = { ana: 'analyst', sup: 'supervisor' };
const LINE = { camera: 'rocade', zone: 'pk12' };
const TZ = 'Europe/Paris';
const pw = (name) => `e2e-password-of-${name}`;
const env = { ...process.env, VIGIE_DATA: DATA };

let server, browser, serverLog, startedAt;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!process.env.VIGIE_STATS_SERVER_CMD) copyFileSync(join(ROOT, 'config/demo.toml'), CONFIG);
  for (const [name, role] of Object.entries(USERS)) {
    const cmd = USER_ADD_CMD.replaceAll('{role}', role).replaceAll('{name}', name);
    const r = spawnSync('sh', ['-c', cmd], { cwd: ROOT, env, input: `${pw(name)}\n`, encoding: 'utf8' });
    assert.equal(r.status, 0, `user add ${name} failed: ${r.stderr}`);
  }
  serverLog = join(ARTIFACTS, 'stats-server.log');
  const log = openSync(serverLog, 'w');
  startedAt = Date.now();
  server = spawn('sh', ['-c', `exec ${SERVER_CMD}`], { cwd: ROOT, env, detached: true, stdio: ['ignore', log, log] });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}:\n${readFileSync(serverLog, 'utf8')}`);
    try { if ((await fetch(`${URL}/`)).ok) break; } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not answer on ${URL}:\n${readFileSync(serverLog, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) { try { process.kill(-server.pid, 'SIGTERM'); } catch (_) { /* gone */ } }
});

async function login(name) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { page.__errors = (page.__errors || []).concat(String(e)); });
  await page.goto(URL);
  await page.fill('#username', name);
  await page.fill('#password', pw(name));
  await page.click('#login-btn');
  await page.waitForSelector('#app:not([hidden])');
  return { context, page };
}

const statuses = (page, paths) => page.evaluate(async (ps) => Promise.all(ps.map(async (p) => (await fetch(p)).status)), paths);

test('an analyst sees the statistics page and nothing else', async () => {
  const { context, page } = await login('ana');
  assert.deepEqual(await page.$$eval('#nav a', (as) => as.map((a) => a.id)), ['nav-stats']);
  await page.waitForSelector('#view-stats:not([hidden])');
  assert.equal(await page.isHidden('#feed-status'), true, 'no live alert feed');
  // Typing another view's address changes nothing.
  await page.goto(`${URL}/#/alerts`);
  await page.waitForSelector('#view-stats:not([hidden])');
  assert.equal(await page.isHidden('#view-alerts'), true);
  assert.equal(await page.isHidden('#view-wall'), true);
  assert.equal(await page.locator('img').count(), 0, 'no picture anywhere on the analyst console');
  assert.deepEqual(
    await statuses(page, ['/api/alerts', '/api/alerts/stream', '/api/alerts/x/snapshot', '/api/cameras', `/api/cameras/${LINE.camera}/live`,
      `/api/cameras/${LINE.camera}/clip`, '/api/search?q=car', '/api/reports/transparency?from=2026-01-01&to=2026-01-02', '/api/audit',
      '/api/users', '/api/config', '/api/notifications', '/api/stats/zones']),
    [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200]);
  // The hours of the profile are the city's: the server names its zone and the page shows it.
  const me = await page.evaluate(async () => (await fetch('/api/me')).json());
  assert.equal(me.timezone, TZ);
  await page.waitForFunction((tz) => document.querySelector('#stats-tz').textContent === tz, TZ);
  const zones = await page.$$eval('#stats-zone option', (os) => os.map((o) => o.value));
  assert.ok(zones.length > 0, 'the zone list is filled');
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

/** Crossings of the highway line the API reports now over [from, to), per minute. */
const lineTotals = (page, from, to) => page.evaluate(async ({ camera, zone, f, t }) => {
  const r = await (await fetch(`/api/stats?camera=${camera}&zone=${zone}&from=${f}&to=${t}&step=60`)).json();
  return { in: r.points.reduce((a, p) => a + p.in, 0), out: r.points.reduce((a, p) => a + p.out, 0), last: r.points.filter((p) => p.in + p.out > 0).map((p) => p.t).pop() };
}, { ...LINE, f: from, t: to });

const tableSums = (page, selector) => page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent) || 0)));

test('an analyst charts real crossings of the highway line and downloads them as CSV', async () => {
  const { context, page } = await login('ana');
  // The page's first drawing (last 24 hours) is finished before the form is changed.
  await page.waitForSelector('#stats-compare svg');
  const from = Math.floor(startedAt / 60000) * 60000 - 5 * 60000;
  const to = Math.ceil(Date.now() / 60000) * 60000 + 10 * 60000;
  // The node counts vehicles as soon as the clip plays; a minute's counts are kept when it ends.
  let seen = { in: 0, out: 0 };
  const deadline = Date.now() + 100_000;
  while (seen.in + seen.out === 0) {
    assert.ok(Date.now() < deadline, `no crossing of ${LINE.camera}/${LINE.zone} counted in time:\n${readFileSync(serverLog, 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 2000));
    seen = await lineTotals(page, from, to);
  }

  await page.selectOption('#stats-camera', LINE.camera);
  await page.selectOption('#stats-zone', LINE.zone);
  await page.selectOption('#stats-class', '');
  await page.selectOption('#stats-step', '60');
  await page.fill('#stats-from', isoMinute(from, TZ));
  await page.fill('#stats-to', isoMinute(to, TZ));
  // Day A: the day of the last counted minute (the comparison redraws with the chart).
  await page.fill('#stats-day-a', isoDate(seen.last, TZ));
  const before = await lineTotals(page, from, to);
  await page.click('#stats-show');
  // Drawn again: a row per minute of the range, and day A minute by minute.
  await page.waitForFunction((n) => document.querySelectorAll('#stats-series tbody tr').length === n
    && document.querySelectorAll('#stats-compare tbody tr').length >= 23 * 60
    && document.querySelector('#stats-series svg polyline, #stats-series svg circle') && document.querySelector('#stats-profile svg rect'),
  (to - from) / 60000, { timeout: 20_000 });
  const after = await lineTotals(page, from, to);
  assert.equal(await page.textContent('#stats-msg'), '');

  // The chart's table says what the API says (counts only grow while the node runs).
  const rows = await tableSums(page, '#stats-series');
  const shown = { in: rows.reduce((a, r) => a + r[0], 0), out: rows.reduce((a, r) => a + r[1], 0) };
  assert.ok(shown.in + shown.out > 0);
  for (const k of ['in', 'out']) assert.ok(before[k] <= shown[k] && shown[k] <= after[k], `${k}: ${before[k]} <= ${shown[k]} <= ${after[k]}`);
  assert.match(await page.textContent('#stats-summary'), new RegExp(`^${LINE.camera} · ${LINE.zone} · all classes: ${shown.in} in, ${shown.out} out`));
  // The chart is labelled for screen readers and drawn to scale: its highest mark is the largest count.
  assert.equal(await page.getAttribute('#stats-series-chart-0', 'role'), 'img');
  assert.match(await page.textContent('#stats-series-chart-0 desc'), /totals: \d+ in, \d+ out/);

  // Hour of the day: the range holds each hour once, so the means add up to the total.
  const prof = await tableSums(page, '#stats-profile');
  assert.equal(prof.length, 24);
  const profIn = prof.reduce((a, r) => a + r[0], 0);
  assert.ok(before.in <= profIn && profIn <= after.in, `profile in ${profIn}`);
  // Day comparison: day A holds the counted minutes.
  const cmp = await tableSums(page, '#stats-compare');
  assert.ok(cmp.reduce((a, r) => a + r[0] + r[1], 0) > 0, 'day A has crossings');
  await page.locator('#stats-series').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'statistics.png'), fullPage: true });

  // The CSV is the API's, for the same query.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#stats-csv')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  const head = csv[0].split(',');
  const [ci, co] = [head.indexOf('in'), head.indexOf('out')];
  assert.ok(ci >= 0 && co >= 0, `CSV header ${csv[0]}`);
  const body = csv.slice(1).map((l) => l.split(','));
  const csvIn = body.reduce((a, r) => a + Number(r[ci]), 0);
  const csvOut = body.reduce((a, r) => a + Number(r[co]), 0);
  const last = await lineTotals(page, from, to);
  assert.ok(shown.in <= csvIn && csvIn <= last.in && shown.out <= csvOut && csvOut <= last.out, `CSV ${csvIn}/${csvOut}, shown ${shown.in}/${shown.out}, now ${last.in}/${last.out}`);
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

test('a range the server refuses at one-minute steps is explained, and the chart stays', async () => {
  const { context, page } = await login('ana');
  await page.waitForSelector('#stats-series svg');
  const drawn = await page.innerHTML('#stats-series');
  await page.selectOption('#stats-step', '60');
  await page.fill('#stats-from', isoMinute(Date.now() - 400 * 86_400_000, TZ));
  await page.fill('#stats-to', isoMinute(Date.now(), TZ));
  const answer = page.waitForResponse((r) => r.url().includes('/api/stats?') && r.url().includes('step=60'));
  await page.click('#stats-show');
  const r = await answer;
  assert.equal(r.status(), 400);
  const { error } = await r.json();
  await page.waitForFunction((e) => document.querySelector('#stats-msg').textContent === e, error);
  assert.match(error, /step/);
  assert.equal(await page.innerHTML('#stats-series'), drawn, 'nothing redrawn from a refused query');
  // What the page can tell before asking: an end before the start.
  await page.fill('#stats-to', isoMinute(Date.now() - 500 * 86_400_000, TZ));
  await page.click('#stats-show');
  await page.waitForFunction(() => document.querySelector('#stats-msg').textContent === 'to: must be after from');
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

test('a supervisor finds Statistics next to the other menus', async () => {
  const { context, page } = await login('sup');
  const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.id));
  assert.ok(nav.includes('nav-alerts') && nav.includes('nav-stats'), nav.join());
  await page.click('#nav-stats');
  await page.waitForSelector('#view-stats:not([hidden])');
  await page.waitForFunction((z) => [...document.querySelectorAll('#stats-zone option')].some((o) => o.value === z), LINE.zone);
  assert.equal(await page.isHidden('#view-alerts'), true);
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});
