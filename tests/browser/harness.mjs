// Shared harness of the console's browser tests: a real node (`vigie run` on a copy of a config,
// its own data folder and port), users made with `vigie user add`, Debian's Chromium driven by
// playwright-core, logins and screenshots kept as artifacts. Each test file starts its own node
// on its own port so files never share state.
//   VIGIE_BIN  the vigie binary (default target/release/vigie)
//   CHROMIUM   browser binary (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const VIGIE = process.env.VIGIE_BIN || join(ROOT, 'target/release/vigie');
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
export const pw = (name) => `e2e-password-of-${name}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Launches Debian's Chromium headless (nothing downloaded). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/**
 * A node under test. `name` labels its data folder and log; `port` is its own; `users` maps user
 * names to roles; `config` (default config/demo.toml) is copied into the data folder, and
 * `editConfig(text) -> text` may change the copy first; `prepare(node)` runs before the node starts
 * (for example to seed its databases with a `vigie` command).
 */
export class Node {
  constructor({ name, port, users = {}, config = 'config/demo.toml', editConfig = null, prepare = null }) {
    Object.assign(this, { name, port, users, configSource: config, editConfig, prepare });
    this.url = `http://127.0.0.1:${port}`;
    this.data = mkdtempSync(join(tmpdir(), `vigie-${name}-`));
    this.config = join(this.data, 'vigie.toml');
    this.log = join(ARTIFACTS, `${name}-server.log`);
    this.proc = null;
    this.browser = null;
  }

  /** Runs `vigie ARGS…` to completion (stdin optional) and returns its result. */
  vigie(args, input) {
    return spawnSync(VIGIE, args, { cwd: ROOT, input, encoding: 'utf8' });
  }

  async start() {
    mkdirSync(ARTIFACTS, { recursive: true });
    copyFileSync(join(ROOT, this.configSource), this.config);
    if (this.editConfig) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(this.config, this.editConfig(readFileSync(this.config, 'utf8')));
    }
    for (const [user, role] of Object.entries(this.users)) {
      const r = this.vigie(['user', 'add', '--data', this.data, '--role', role, user], `${pw(user)}\n`);
      assert.equal(r.status, 0, `user add ${user} failed: ${r.stderr}`);
    }
    if (this.prepare) await this.prepare(this);
    await this.spawn();
    this.browser = await launchBrowser();
    return this;
  }

  /** Starts (or restarts) the node process on the same data folder and waits until it answers. */
  async spawn(timeoutMs = 90_000) {
    const fd = openSync(this.log, 'a');
    this.proc = spawn(VIGIE, ['run', '--config', this.config, '--data', this.data, '--listen', `127.0.0.1:${this.port}`],
      { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd] });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`${this.name}: node exited with ${this.proc.exitCode}:\n${readFileSync(this.log, 'utf8')}`);
      try { if ((await fetch(`${this.url}/`)).ok) return; } catch (_) { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`${this.name}: node did not answer on ${this.url}:\n${readFileSync(this.log, 'utf8')}`);
      await sleep(250);
    }
  }

  /** Sends `signal` to the node and waits (up to `timeoutMs`) for it to exit; returns its exit code or null. */
  async stopProcess(signal = 'SIGTERM', timeoutMs = 30_000) {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p ? p.exitCode : null;
    const exited = new Promise((r) => p.once('exit', (code, sig) => r(code ?? sig)));
    try { process.kill(-p.pid, signal); } catch (_) { return p.exitCode; }
    // A pending timer would keep the test process alive for its full length after the exit.
    let timer;
    const late = new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); });
    try { return await Promise.race([exited, late]); } finally { clearTimeout(timer); }
  }

  /** A fresh browser context logged in as `user`; page errors are collected in `page.__errors`. */
  /** `init(context)`, when given, is awaited on the fresh context before its page opens (init
   * scripts standing in for browser APIs, routes). */
  async login(user, { locale, init } = {}) {
    const context = await this.browser.newContext(locale ? { locale } : {});
    if (init) await init(context);
    const page = await context.newPage();
    page.__errors = [];
    page.on('pageerror', (e) => page.__errors.push(String(e)));
    await page.goto(this.url);
    await page.fill('#username', user);
    await page.fill('#password', pw(user));
    await page.click('#login-btn');
    await page.waitForSelector('#app:not([hidden])');
    return { context, page };
  }

  /** A logged-in API client (cookie and CSRF token) for setting up or checking state without a browser. */
  async apiAs(user) {
    const r = await fetch(`${this.url}/api/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user, password: pw(user) }),
    });
    assert.equal(r.status, 200, `login ${user}: HTTP ${r.status}`);
    const me = await r.json();
    const cookie = r.headers.get('set-cookie').split(';')[0];
    const call = async (method, path, body) => {
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: { Cookie: cookie, 'X-CSRF-Token': me.csrf_token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const type = res.headers.get('content-type') || '';
      return { status: res.status, body: type.includes('json') ? await res.json() : await res.text() };
    };
    return { me, cookie, call };
  }

  async stop() {
    if (this.browser) await this.browser.close();
    await this.stopProcess('SIGTERM', 10_000);
    if (this.proc && this.proc.exitCode === null) { try { process.kill(-this.proc.pid, 'SIGKILL'); } catch (_) { /* gone */ } }
    rmSync(this.data, { recursive: true, force: true });
  }
}

export async function shoot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export { sleep };

/** The WCAG 2.0 and 2.1 success criteria at levels A and AA, as axe-core tags them. */
export const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe-core's WCAG 2.1 A and AA rules over the page as it is now and returns the violations,
 * each as `{ id, impact, help, nodes: ['selector: what is wrong', …] }`. axe.min.js comes from
 * node_modules; it is evaluated through the DevTools protocol because the console's
 * Content-Security-Policy (rightly) refuses the inline script `page.addScriptTag` would add,
 * which would then test a page without its real policy.
 */
export async function axeCheck(page, { tags = WCAG21AA } = {}) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    const { createRequire } = await import('node:module');
    const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(source);
  }
  return page.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  }, tags);
}
