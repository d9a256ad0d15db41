// End-to-end tests of the operators' console in Debian's Chromium (playwright-core drives the
// system browser; nothing is downloaded). The server under test is a command:
//   VIGIE_SERVER_CMD    shell command started from the repository root, with $VIGIE_DATA set
//                       (default: `vigie run` with config/demo.toml on 127.0.0.1:18080)
//   VIGIE_USER_ADD_CMD  creates a user; {role} and {name} are replaced, password on stdin
//   VIGIE_URL           where the console answers (default http://127.0.0.1:18080)
//   CHROMIUM            browser binary (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.VIGIE_DATA || mkdtempSync(join(tmpdir(), 'vigie-e2e-'));
const VIGIE = process.env.VIGIE_BIN || join(ROOT, 'target/release/vigie');
const URL = process.env.VIGIE_URL || 'http://127.0.0.1:18080';
// A copy of the demo config: the configuration tests save through the console, which writes the file.
const CONFIG = join(DATA, 'vigie.toml');
const SERVER_CMD = process.env.VIGIE_SERVER_CMD
  || `"${VIGIE}" run --config "${CONFIG}" --data "$VIGIE_DATA" --listen 127.0.0.1:18080`;
const USER_ADD_CMD = process.env.VIGIE_USER_ADD_CMD || `"${VIGIE}" user add --data "$VIGIE_DATA" --role {role} {name}`;
const CAMERA = process.env.VIGIE_TEST_CAMERA || 'plaza';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const USERS = { op: 'operator', sup: 'supervisor', aud: 'auditor', adm: 'admin' };
const pw = (name) => `e2e-password-of-${name}`;
const env = { ...process.env, VIGIE_DATA: DATA };

let server, browser, serverLog;
const shared = { alertId: null };

async function waitForServer(deadlineMs) {
  while (Date.now() < deadlineMs) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}:\n${readFileSync(serverLog, 'utf8')}`);
    try { const r = await fetch(`${URL}/`); if (r.ok) return; } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer on ${URL}:\n${readFileSync(serverLog, 'utf8')}`);
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!process.env.VIGIE_SERVER_CMD) copyFileSync(join(ROOT, 'config/demo.toml'), CONFIG);
  for (const [name, role] of Object.entries(USERS)) {
    const cmd = USER_ADD_CMD.replaceAll('{role}', role).replaceAll('{name}', name);
    const r = spawnSync('sh', ['-c', cmd], { cwd: ROOT, env, input: `${pw(name)}\n`, encoding: 'utf8' });
    assert.equal(r.status, 0, `user add ${name} failed: ${r.stderr}`);
  }
  serverLog = join(ARTIFACTS, 'server.log');
  const log = openSync(serverLog, 'w');
  server = spawn('sh', ['-c', `exec ${SERVER_CMD}`], { cwd: ROOT, env, detached: true, stdio: ['ignore', log, log] });
  await waitForServer(Date.now() + 90_000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) { try { process.kill(-server.pid, 'SIGTERM'); } catch (_) { /* gone */ } }
});

async function login(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => { page.__errors = (page.__errors || []).concat(String(e)); });
  await page.goto(URL);
  await page.fill('#username', name);
  await page.fill('#password', pw(name));
  await page.click('#login-btn');
  await page.waitForSelector('#app:not([hidden])');
  return { context, page };
}

async function shoot(page, name) { await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }); }

test('wrong password is refused with a message', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(URL);
  await page.fill('#username', 'op');
  await page.fill('#password', 'not-the-password');
  await page.click('#login-btn');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  assert.equal(await page.textContent('#login-error'), 'wrong username or password');
  assert.equal(await page.isHidden('#app'), true);
  await context.close();
});

test('operator: an alert arrives without reload, is confirmed, and the audit trail shows it', async () => {
  const { context, page } = await login('op');
  await page.waitForFunction(() => document.querySelector('#feed-status').textContent === 'live', null, { timeout: 15_000 });
  await page.evaluate(() => { window.__sameDocument = true; });
  const known = await page.$$eval('#queue li', (els) => els.map((e) => e.dataset.id));
  // The server pushes the next alert; nothing in the page polls or reloads.
  const handle = await page.waitForFunction((ids) => {
    const li = [...document.querySelectorAll('#queue li')].find((l) => !ids.includes(l.dataset.id) && l.querySelector('.state.new'));
    return li ? li.dataset.id : null;
  }, known, { timeout: 60_000 });
  const id = await handle.jsonValue();
  shared.alertId = id;
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
  assert.equal(await page.isVisible('#arrival'), true, 'visual cue on arrival');
  const row = page.locator(`#queue li[data-id="${id}"]`);
  const rowText = await row.textContent();
  // The row shows what the server says about this alert: its type, camera and zone.
  const a = await page.evaluate(async (alertId) => (await (await fetch('/api/alerts?limit=300')).json()).alerts
    .find((x) => x.id === alertId), id);
  assert.ok(a && a.camera.length > 0 && a.zone.length > 0, `alert ${id} missing from /api/alerts`);
  assert.ok(rowText.includes(a.type.replaceAll('_', ' ')), `${rowText} does not name the type ${a.type}`);
  assert.ok(rowText.includes(`${a.camera} · ${a.zone}`), `${rowText} does not name camera ${a.camera} and zone ${a.zone}`);
  assert.ok(rowText.endsWith(a.state), `${rowText} does not end with the state ${a.state}`);
  await row.click();
  await page.waitForSelector('#btn-confirm');
  await page.waitForFunction(() => { const i = document.querySelector('#evidence-img'); return i && i.complete && i.naturalWidth > 0; });
  assert.ok((await page.textContent('#legal-basis')).length > 0, 'legal basis shown');
  await page.waitForFunction(() => { const i = document.querySelector('#clip-box img'); return i && i.naturalWidth > 0; }, null, { timeout: 15_000 });
  await shoot(page, 'alert-detail');
  await page.click('#btn-confirm');
  await page.waitForFunction(() => document.querySelector('#detail-state')?.textContent === 'confirmed');
  // The state machine's refusal is shown as a message.
  await page.click('#btn-confirm');
  await page.waitForFunction(() => document.querySelector('#action-msg')?.textContent.includes('already confirmed'));
  assert.deepEqual(page.__errors || [], []);
  await context.close();

  const aud = await login('aud');
  await aud.page.click('#nav-audit');
  await aud.page.waitForFunction((alertId) => [...document.querySelectorAll('#audit-table tbody tr')].some((tr) =>
    tr.querySelector('.action').textContent === 'alert.confirm' && tr.querySelector('.target').textContent === alertId
    && tr.querySelector('.actor').textContent === 'op'), id, { timeout: 10_000 });
  await aud.page.click('#audit-verify');
  await aud.page.waitForFunction(() => document.querySelector('#audit-verdict').textContent.startsWith('intact'));
  await shoot(aud.page, 'audit-trail');
  await aud.context.close();
});

test('auditor sees no snapshot, clip or live picture', async () => {
  const { context, page } = await login('aud');
  const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.id));
  assert.deepEqual(nav, ['nav-reports', 'nav-audit', 'nav-stats', 'nav-calibration', 'nav-holds']);
  await page.goto(`${URL}/#/alerts`);
  await page.waitForSelector('#view-reports:not([hidden])');
  assert.equal(await page.locator('img').count(), 0, 'no picture anywhere on the auditor console');
  const id = shared.alertId || 'demo-0';
  const statuses = await page.evaluate(async ([alertId, cam]) => Promise.all(
    [`/api/alerts/${alertId}/snapshot`, `/api/alerts/${alertId}/clip`, `/api/cameras/${cam}/live`, '/api/alerts'].map(async (p) => (await fetch(p)).status)), [id, CAMERA]);
  assert.deepEqual(statuses, [403, 403, 403, 403]);
  await shoot(page, 'auditor-reports');
  await context.close();
});

test('camera wall shows refreshed live pictures and camera health', async () => {
  const { context, page } = await login('op');
  await page.click('#nav-wall');
  await page.waitForFunction(() => {
    // Tiles out of view fetch nothing (wall.test.mjs): the pictures shown are the ones checked.
    const imgs = [...document.querySelectorAll('#wall img.live[src]')];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 20_000 });
  const first = await page.getAttribute('#wall img.live[src]', 'src');
  await page.waitForFunction((src) => document.querySelector('#wall img.live[src]').getAttribute('src') !== src, first, { timeout: 10_000 });
  const health = await page.$$eval('#wall .health', (els) => els.map((e) => e.textContent));
  // "disconnected" must not pass for "connected".
  assert.ok(health.length > 0 && health.every((t) => /^connected( · |$)/.test(t)), health.join(' | '));
  await shoot(page, 'camera-wall');
  await context.close();
});

test('a password set by an administrator leads to the change-password form first', async () => {
  const adm = await login('adm');
  const status = await adm.page.evaluate(async (csrf) => (await fetch('/api/users', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ username: 'newcomer', password: 'chosen-by-the-admin', role: 'operator' }),
  })).status, await adm.page.evaluate(async () => (await (await fetch('/api/me')).json()).csrf_token));
  assert.equal(status, 201);
  await adm.context.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(URL);
  await page.fill('#username', 'newcomer');
  await page.fill('#password', 'chosen-by-the-admin');
  await page.click('#login-btn');
  await page.waitForSelector('#password-view:not([hidden])');
  assert.equal(await page.isHidden('#app'), true, 'nothing but the form before the change');
  await page.fill('#old-password', 'chosen-by-the-admin');
  await page.fill('#new-password', 'my-own-password-1');
  await page.fill('#new-password2', 'my-own-password-2');
  await page.click('#password-btn');
  await page.waitForFunction(() => document.querySelector('#password-error').textContent === 'the two new passwords differ');
  await page.fill('#new-password2', 'my-own-password-1');
  await page.click('#password-btn');
  await page.waitForSelector('#app:not([hidden])');
  assert.equal(await page.textContent('#whoami'), 'newcomer (operator)');
  assert.equal(await page.isHidden('#password-view'), true);
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

const getConfig = (page) => page.evaluate(async () => (await fetch('/api/config')).json());

async function openRuleForm(page) {
  await page.click('#nav-config');
  await page.waitForSelector('#config-forms .camera-form');
  const cfg = await getConfig(page);
  const cam = cfg.cameras.find((c) => c.id === CAMERA);
  assert.ok(cam && cam.rules.length > 0, `camera ${CAMERA} has no rule to edit`);
  await page.selectOption('#config-camera', CAMERA);
  const rule = cam.rules[0];
  const form = page.locator(`#config-forms .camera-form[data-camera="${CAMERA}"] .rule[data-rule="${rule.id}"]`);
  await form.waitFor();
  return { cfg, cam, rule, form };
}

test('administrator edits a rule through the form; the change is applied, written and shown after a reload', async () => {
  const { context, page } = await login('adm');
  const { cfg, rule, form } = await openRuleForm(page);
  // The form shows the rule as the server has it, and only the parameters of its type.
  assert.equal(await form.locator('[name="id"]').inputValue(), rule.id);
  assert.equal(await form.locator('select[name="type"]').inputValue(), rule.type);
  assert.equal(await form.locator('select[name="zone"]').inputValue(), rule.zone);
  assert.equal(await form.locator('[name="legal_basis"]').inputValue(), rule.legal_basis);
  const shownParams = await form.locator('.params [name]').evaluateAll((els) => els.map((e) => e.name));
  assert.ok(shownParams.includes('cooldown_s'), shownParams.join());
  if (rule.type !== 'person_down') assert.ok(!shownParams.includes('lying_aspect'), `${rule.type} shows lying_aspect`);
  if (rule.type !== 'crowd') assert.ok(!shownParams.includes('min_count'), `${rule.type} shows min_count`);
  const cooldown = (rule.cooldown_s ?? 30) + 15;
  await form.locator('[name="cooldown_s"]').fill(String(cooldown));
  await page.click('#config-save');
  await page.waitForFunction(() => document.querySelector('#config-msg').textContent === 'Applied.', null, { timeout: 15_000 });

  const after = await getConfig(page);
  const edited = after.cameras.find((c) => c.id === CAMERA).rules[0];
  assert.equal(edited.cooldown_s, cooldown);
  assert.equal(edited.version, rule.version + 1, 'an edited rule gets a new version');
  assert.deepEqual({ ...edited, cooldown_s: 0, version: 0 }, { ...rule, cooldown_s: 0, version: 0 }, 'nothing else in the rule changed');
  // The other cameras and the city-wide switches went back exactly as they came.
  assert.deepEqual(after.cameras.filter((c) => c.id !== CAMERA), cfg.cameras.filter((c) => c.id !== CAMERA));
  assert.deepEqual(after.events, cfg.events);
  if (!process.env.VIGIE_SERVER_CMD) assert.match(readFileSync(CONFIG, 'utf8'), new RegExp(`cooldown_s = ${cooldown}(\\.0)?(?![0-9])`));

  await page.reload();
  await page.waitForSelector('#app:not([hidden])');
  await page.selectOption('#config-camera', CAMERA);
  const again = page.locator(`#config-forms .camera-form[data-camera="${CAMERA}"] .rule[data-rule="${rule.id}"]`);
  await again.waitFor();
  assert.equal(await again.locator('[name="cooldown_s"]').inputValue(), String(cooldown));
  assert.equal(await again.locator('[name="version"]').inputValue(), String(rule.version + 1));
  await shoot(page, 'config-form');
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

test('a value the server refuses is shown next to its field, and nothing changes', async () => {
  const { context, page } = await login('adm');
  const { rule, form } = await openRuleForm(page);
  const before = await getConfig(page);
  await form.locator('[name="min_duration_s"]').fill('100000');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#config-save');
  const r = await answer;
  assert.equal(r.status(), 400);
  const body = await r.json();
  const err = body.errors.find((e) => e.key === `cameras.${CAMERA}.rules.${rule.id}.min_duration_s`);
  assert.ok(err, `the server named the key: ${JSON.stringify(body)}`);
  const fieldError = form.locator('.field[data-field="min_duration_s"] .field-error');
  await fieldError.waitFor();
  assert.equal(await fieldError.textContent(), err.message);
  assert.equal(await form.locator('.field[data-field="min_duration_s"]').getAttribute('class'), 'field invalid');
  assert.equal(await page.textContent('#config-msg'), body.error);
  assert.deepEqual(await getConfig(page), before, 'a refused edit changes nothing');

  // A city-wide key is shown at its own field, once, however many cameras repeat it.
  await form.locator('[name="min_duration_s"]').fill(rule.min_duration_s === undefined ? '' : String(rule.min_duration_s));
  await page.fill('#config-events [name="timezone"]', 'Mars/Olympus_Mons');
  const tzAnswer = page.waitForResponse((q) => q.url().endsWith('/api/config') && q.request().method() === 'PUT');
  await page.click('#config-save');
  const tzBody = await (await tzAnswer).json();
  const tzErr = tzBody.errors.find((e) => e.key === 'events.timezone');
  assert.ok(tzErr, JSON.stringify(tzBody));
  const tzField = page.locator('#config-events .field[data-field="timezone"] .field-error');
  await tzField.waitFor();
  assert.equal(await tzField.textContent(), tzErr.message);
  assert.equal(await form.locator('.field[data-field="min_duration_s"] .field-error').textContent(), '', 'the earlier error is cleared');
  assert.deepEqual(await getConfig(page), before);
  await page.fill('#config-events [name="timezone"]', before.events.timezone);

  // Text that is not a point is caught before anything is sent.
  await form.locator('[name="min_duration_s"]').fill('');
  const zone = page.locator(`#config-forms .camera-form[data-camera="${CAMERA}"] .zone`).first();
  await zone.locator('[name="polygon"]').fill('10, 10\n200, ten\n200, 200');
  let sent = false;
  page.on('request', (q) => { if (q.url().endsWith('/api/config') && q.method() === 'PUT') sent = true; });
  await page.click('#config-save');
  await zone.locator('.field[data-field="polygon"] .field-error').waitFor();
  assert.match(await zone.locator('.field[data-field="polygon"] .field-error').textContent(), /row 2: "200, ten" is not two numbers/);
  assert.equal(await tzField.textContent(), '', 'the old error is cleared');
  assert.equal(sent, false);
  await shoot(page, 'config-form-error');
  assert.deepEqual(page.__errors || [], []);
  await context.close();
});

test('a rule in calibration: its alerts reach only the supervisors\' review queue, an admin sets it live', async () => {
  const { context, page } = await login('sup');
  await page.click('#nav-calibration');
  const row = page.locator('#calibration-rules tr[data-rule="parking/allee-vehicles"]');
  await row.waitFor({ timeout: 15_000 });
  // The demo's parked cars raise it within seconds; it must never be in anyone's alert queue.
  const item = page.locator('#calibration-queue li.calibration-alert').first();
  await item.waitFor({ timeout: 120_000 });
  await item.locator('button.mark-wrong').click();
  await page.locator('#calibration-queue li.calibration-alert', { hasText: 'marked wrong by sup' }).first().waitFor();
  assert.match(await row.textContent(), /\b[1-9]\d* \/ /, 'the wrong mark is counted');
  const queue = await page.evaluate(async () => (await fetch('/api/alerts?limit=5000')).json());
  assert.ok(!queue.alerts.some((a) => a.rule === 'allee-vehicles'), 'calibration alerts stay out of the operators\' queue');
  await page.screenshot({ path: join(ARTIFACTS, 'calibration.png'), fullPage: true });
  assert.deepEqual(page.__errors || [], []);
  await context.close();

  const admin = await login('adm');
  await admin.page.click('#nav-calibration');
  const adminRow = admin.page.locator('#calibration-rules tr[data-rule="parking/allee-vehicles"]');
  await adminRow.waitFor({ timeout: 15_000 });
  admin.page.once('dialog', (d) => d.accept('calibrated over the demo: precision known'));
  await adminRow.locator('button.go-live').click();
  await admin.page.locator('#calibration-msg', { hasText: 'is live (version 2)' }).waitFor();
  assert.match(readFileSync(CONFIG, 'utf8'), /id = "allee-vehicles"[^[]*version = 2/s, 'written back, version bumped');
  assert.doesNotMatch(readFileSync(CONFIG, 'utf8'), /mode = "calibration"/);
  await admin.context.close();
});

test('sectors: the user sees which, and the wall groups and narrows cameras by sector', async () => {
  const adm = await login('adm');
  assert.equal(await adm.page.textContent('#my-sectors'), 'all sectors');
  await adm.page.click('#nav-wall');
  await adm.page.waitForSelector('#wall .sector-group');
  const groups = (page) => page.$$eval('#wall .sector-group', (els) => els.map((e) => e.dataset.sector));
  // config/demo.toml: the plaza is at the station, the hall in the centre, the third camera in
  // no sector (shown last, to city-wide users only).
  assert.deepEqual(await groups(adm.page), ['gare', 'centre', '']);
  await adm.page.selectOption('#wall-sector', 'centre');
  await adm.page.waitForFunction(() => [...document.querySelectorAll('#wall .sector-group')].map((e) => e.dataset.sector).join() === 'centre');
  assert.deepEqual(await adm.page.$$eval('#wall .card', (els) => els.map((e) => e.dataset.camera)), ['hall']);
  await shoot(adm.page, 'wall-by-sector');

  // The administrator assigns the operator to the station; an unknown sector is refused by name.
  await adm.page.click('#nav-users');
  const input = adm.page.locator('input[aria-label="sectors of op"]');
  await input.fill('plage');
  await input.locator('xpath=following-sibling::button').click();
  await adm.page.waitForFunction(() => /unknown sector 'plage'/.test(document.querySelector('#user-msg').textContent));
  await input.fill('gare');
  await input.locator('xpath=following-sibling::button').click();
  await adm.page.waitForFunction(() => document.querySelector('#user-msg').textContent === 'Sectors of op saved.');

  const { context, page } = await login('op');
  assert.equal(await page.textContent('#my-sectors'), 'sectors: Gare');
  await page.click('#nav-wall');
  await page.waitForSelector('#wall .sector-group');
  assert.deepEqual(await groups(page), ['gare']);
  assert.deepEqual(await page.$$eval('#wall .card', (els) => els.map((e) => e.dataset.camera)), ['plaza']);
  assert.equal(await page.isHidden('#wall-sector-pick'), true, 'one sector: nothing to choose');
  assert.equal(await page.evaluate(async () => (await fetch('/api/cameras/hall/live')).status), 404, "the centre's camera does not exist for them");
  await shoot(page, 'wall-one-sector');
  assert.deepEqual(page.__errors || [], []);
  await context.close();

  // Back to city-wide, for whatever runs next.
  await input.fill('');
  await input.locator('xpath=following-sibling::button').click();
  await adm.page.waitForFunction(() => document.querySelector('#user-msg').textContent === 'Sectors of op saved.' && document.querySelector('input[aria-label="sectors of op"]').value === '');
  assert.deepEqual(adm.page.__errors || [], []);
  await adm.context.close();
});

test('supervisor places a legal hold from the holds panel, sees it listed and releases it; the auditor reads it', async () => {
  const { context, page } = await login('sup');
  await page.click('#nav-holds');
  await page.waitForSelector('#hold-form:not([hidden])');
  const f = '#hold-form';
  const hour = new Date(Date.now() - 3600_000).toISOString().slice(0, 19);
  const now = new Date().toISOString().slice(0, 19);
  await page.fill(`${f} [name="cameras"]`, CAMERA);
  await page.fill(`${f} [name="from"]`, hour);
  await page.fill(`${f} [name="to"]`, now);
  await page.fill(`${f} [name="reference"]`, 'PV e2e-2026-42');
  await page.fill(`${f} [name="reason"]`, 'requisition for the e2e test');
  // A refused field is said, and nothing is listed.
  await page.fill(`${f} [name="until"]`, '2001-01-01T00:00:00');
  await page.click(`${f} button[type="submit"]`);
  await page.waitForFunction(() => document.querySelector('#hold-msg').textContent.startsWith('until:'));
  assert.equal(await page.locator('#holds-table tbody tr').count(), 0);
  await page.fill(`${f} [name="until"]`, '');
  await page.click(`${f} button[type="submit"]`);
  const row = page.locator('#holds-table tbody tr').filter({ hasText: 'PV e2e-2026-42' });
  await row.waitFor();
  assert.equal(await row.locator('.state').textContent(), 'active');
  assert.ok(await row.locator('a.export').count() >= 1, 'an export link per camera');
  await shoot(page, 'legal-holds');
  page.once('dialog', (d) => d.accept('procedure closed'));
  await row.locator('button.release').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#holds-table tbody tr .state')].some((td) => td.textContent === 'released'));
  assert.deepEqual(page.__errors || [], []);
  await context.close();

  const aud = await login('aud');
  await aud.page.click('#nav-holds');
  await aud.page.locator('#holds-table tbody tr').filter({ hasText: 'PV e2e-2026-42' }).waitFor();
  assert.equal(await aud.page.locator('#hold-form').isHidden(), true, 'auditors read, never place');
  assert.equal(await aud.page.locator('#holds-table a.export, #holds-table button.release').count(), 0);
  await aud.context.close();
});
