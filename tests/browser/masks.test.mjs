// An administrator draws a privacy mask on the camera picture in Debian's Chromium against the
// real node (`vigie run` on a copy of config/demo.toml, its own data folder and port): points
// clicked on the picture, the outline closed, named and saved; the server then holds it as
// version 1 in the camera's pixels, the live picture is flat inside it, and a bad outline is
// refused with the error shown next to the field its key names.
//   VIGIE_BIN  the vigie binary (default target/release/vigie)
//   CHROMIUM   browser binary (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = mkdtempSync(join(tmpdir(), 'vigie-masks-'));
const VIGIE = process.env.VIGIE_BIN || join(ROOT, 'target/release/vigie');
const PORT = 18091;
const URL = `http://127.0.0.1:${PORT}`;
const CONFIG = join(DATA, 'vigie.toml');
const CAMERA = 'plaza';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const PASSWORD = 'e2e-password-of-masks-admin';

let server, browser, serverLog;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  copyFileSync(join(ROOT, 'config/demo.toml'), CONFIG);
  const r = spawnSync(VIGIE, ['user', 'add', '--data', DATA, '--role', 'admin', 'madm'], { cwd: ROOT, input: `${PASSWORD}\n`, encoding: 'utf8' });
  assert.equal(r.status, 0, `user add failed: ${r.stderr}`);
  serverLog = join(ARTIFACTS, 'masks-server.log');
  const log = openSync(serverLog, 'w');
  server = spawn(VIGIE, ['run', '--config', CONFIG, '--data', DATA, '--listen', `127.0.0.1:${PORT}`],
    { cwd: ROOT, detached: true, stdio: ['ignore', log, log] });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited:\n${readFileSync(serverLog, 'utf8')}`);
    try { if ((await fetch(`${URL}/`)).ok) break; } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not answer:\n${readFileSync(serverLog, 'utf8')}`);
    await new Promise((res) => setTimeout(res, 250));
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

/** Spread of the luma over a box of the live picture given in camera pixels (0 = flat). */
function spreadIn(page, box) {
  return page.evaluate(async ({ camera, box: [x1, y1, x2, y2] }) => {
    const [cam] = (await (await fetch('/api/cameras')).json()).cameras.filter((c) => c.id === camera);
    const blob = await (await fetch(`/api/cameras/${camera}/live?at=${Date.now()}`)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(bmp, 0, 0);
    const s = bmp.width / cam.width;
    const d = ctx.getImageData(Math.ceil(x1 * s), Math.ceil(y1 * s), Math.floor((x2 - x1) * s), Math.floor((y2 - y1) * s)).data;
    let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4) { const l = (d[i] + d[i + 1] + d[i + 2]) / 3; lo = Math.min(lo, l); hi = Math.max(hi, l); }
    return hi - lo;
  }, { camera: CAMERA, box });
}

test('admin draws a mask on the picture, saves it, and it hides that part of every picture', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(URL);
  await page.fill('#username', 'madm');
  await page.fill('#password', PASSWORD);
  await page.click('#login-btn');
  await page.waitForSelector('#app:not([hidden])');
  await page.click('#nav-config');
  await page.waitForSelector('#config-forms .camera-form');
  await page.selectOption('#config-camera', CAMERA);
  // The picture size arrives with the camera's first frame.
  await page.waitForFunction(() => document.querySelector('#masks-size').textContent.startsWith('Picture'), null, { timeout: 60_000 });
  await page.waitForFunction(() => { const i = document.querySelector('#masks-img'); return i.complete && i.naturalWidth > 0; }, null, { timeout: 30_000 });
  assert.equal(await page.textContent('#masks-version'), 'No mask yet (version 0).');

  // Four clicks on the picture, then a click on the first point closes the outline.
  const { width, height } = await page.evaluate(async (c) => (await (await fetch(`/api/cameras/${c}/privacy_masks`)).json()).picture, CAMERA);
  await page.click('#masks-new');
  await page.locator('#masks-stage').scrollIntoViewIfNeeded();
  let box = await page.locator('#masks-svg').boundingBox();
  const at = (x, y) => [box.x + (x / width) * box.width, box.y + (y / height) * box.height];
  for (const [x, y] of [[40, 40], [260, 40], [260, 200], [40, 200]]) await page.mouse.click(...at(x, y));
  await page.mouse.click(...at(40, 40));
  assert.equal(await page.isDisabled('#masks-finish'), true, 'the outline is closed');
  await page.fill('#masks-list .mask[data-index="0"] input[name="name"]', 'window of no. 12');
  // Drag the third point a little further.
  await page.click('#masks-list .mask[data-index="0"] .mask-select');
  // The form grew above the picture while the mask was named: measure the picture again.
  await page.locator('#masks-stage').scrollIntoViewIfNeeded();
  box = await page.locator('#masks-svg').boundingBox();
  const handle = page.locator('#masks-svg circle[data-point="2"]');
  const hb = await handle.boundingBox();
  await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
  await page.mouse.down();
  await page.mouse.move(...at(300, 230), { steps: 5 });
  await page.mouse.up();
  await page.click('#masks-save');
  await page.waitForFunction(() => document.querySelector('#masks-msg').textContent.startsWith('Saved'), null, { timeout: 15_000 });
  await shoot(page, 'masks-drawn');

  const saved = await page.evaluate(async (c) => (await fetch(`/api/cameras/${c}/privacy_masks`)).json(), CAMERA);
  assert.equal(saved.version, 1);
  assert.equal(saved.masks.length, 1);
  assert.equal(saved.masks[0].name, 'window of no. 12');
  const near = (a, b) => Math.abs(a[0] - b[0]) <= 4 && Math.abs(a[1] - b[1]) <= 4;
  const want = [[40, 40], [260, 40], [300, 230], [40, 200]];
  saved.masks[0].polygon.forEach((p, i) => assert.ok(near(p, want[i]), `point ${i}: ${p} instead of about ${want[i]}`));
  assert.match(await page.textContent('#masks-version'), /^Version 1, saved .* by madm\.$/);

  // Applied live: the next pictures are flat inside the mask.
  let spread = 255;
  for (let i = 0; i < 20 && spread > 30; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    spread = await spreadIn(page, [60, 60, 240, 180]);
  }
  assert.ok(spread <= 30, `the live picture still shows detail inside the mask (spread ${spread})`);
  assert.ok(readFileSync(CONFIG, 'utf8').includes('window of no. 12'), 'written back to the config file');

  // A point outside the picture, typed: refused, the error next to the outline, nothing saved.
  const outline = page.locator('#masks-list .mask[data-index="0"] textarea[name="polygon"]');
  await outline.fill(`40, 40\n${width + 50}, 40\n260, 200`);
  await page.click('#masks-save');
  await page.waitForFunction(() => document.querySelector('#masks-msg').textContent.startsWith('Not saved'), null, { timeout: 15_000 });
  const fieldError = await page.textContent('#masks-list .mask[data-index="0"] .field[data-field="polygon"] .field-error');
  assert.match(fieldError, /polygon\[1\].*outside/);
  await shoot(page, 'masks-error');
  const after = await page.evaluate(async (c) => (await fetch(`/api/cameras/${c}/privacy_masks`)).json(), CAMERA);
  assert.equal(after.version, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

async function shoot(page, name) { await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }); }
