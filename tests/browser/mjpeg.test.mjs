// Unit tests of the console's MJPEG unpacking (crates/server/assets/mjpeg.js), with real JPEG
// files cut where networks cut them. No browser and no server: `node --test mjpeg.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MjpegParser, boundaryOf, indexOf, isJpeg, parseHeaders } from '../../crates/server/assets/mjpeg.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const DOG = new Uint8Array(readFileSync(join(ROOT, 'testdata/images/dog.jpg')));
const BARS = new Uint8Array(readFileSync(join(HERE, 'fixtures/testsrc-160x120.jpg')));
const enc = (s) => new TextEncoder().encode(s);
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

// Exactly what the server writes (crates/server/src/api/alerts.rs, `mjpeg`).
const part = (jpeg) => cat(enc(`--vigieframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, enc('\r\n'));
const stream = (...jpegs) => cat(...jpegs.map(part), enc('--vigieframe--\r\n'));

function feed(chunks, boundary = 'vigieframe') {
  const p = new MjpegParser(boundary);
  const got = chunks.flatMap((c) => p.push(c));
  return { parser: p, bodies: got.map((x) => x.body), parts: got };
}

function splitAt(bytes, ...cuts) {
  const out = [];
  let from = 0;
  for (const c of cuts) { out.push(bytes.slice(from, c)); from = c; }
  out.push(bytes.slice(from));
  return out;
}

test('the fixtures are real JPEGs, and the big one holds bytes that look like line ends', () => {
  assert.ok(isJpeg(DOG) && isJpeg(BARS));
  assert.ok(indexOf(DOG, enc('\r\n')) >= 0, 'dog.jpg should contain CR LF, the case a naive parser gets wrong');
  assert.equal(isJpeg(enc('--vigieframe')), false);
});

test('boundary from the Content-Type, quoted or not', () => {
  assert.equal(boundaryOf('multipart/x-mixed-replace; boundary=vigieframe'), 'vigieframe');
  assert.equal(boundaryOf('multipart/x-mixed-replace;boundary="a b"'), 'a b');
  assert.equal(boundaryOf('multipart/x-mixed-replace; charset=x; BOUNDARY=xyz; foo=1'), 'xyz');
  assert.equal(boundaryOf('image/jpeg'), null);
  assert.equal(boundaryOf(null), null);
  assert.throws(() => new MjpegParser(null), /boundary/);
});

test('headers are read case-insensitively', () => {
  assert.deepEqual(parseHeaders(enc('Content-Type: image/jpeg\r\ncontent-LENGTH:  42 ')), { 'content-type': 'image/jpeg', 'content-length': '42' });
});

test('two frames in one chunk come out whole and in order', () => {
  const { parser, bodies } = feed([stream(DOG, BARS)]);
  assert.equal(bodies.length, 2);
  assert.deepEqual(bodies[0], DOG);
  assert.deepEqual(bodies[1], BARS);
  assert.equal(parser.finished, true);
});

test('one byte at a time gives the same frames', () => {
  const all = stream(BARS, DOG, BARS);
  const { bodies, parts } = feed([...all].map((b) => Uint8Array.of(b)));
  assert.deepEqual(bodies, [BARS, DOG, BARS]);
  assert.equal(parts[1].headers['content-type'], 'image/jpeg');
  assert.equal(parts[1].headers['content-length'], String(DOG.length));
});

test('a boundary split across chunks', () => {
  const all = stream(BARS, DOG);
  const second = indexOf(all, enc('--vigieframe'), 10);
  for (const cut of [second + 1, second + 2, second + 7, second + 12, second + 13]) {
    const { bodies } = feed(splitAt(all, cut));
    assert.deepEqual(bodies, [BARS, DOG], `cut at ${cut - second} bytes into the delimiter`);
  }
});

test('headers split across chunks, and a chunk ending between the blank line\'s CR and LF', () => {
  const all = stream(DOG);
  const blank = indexOf(all, enc('\r\n\r\n'));
  const length = indexOf(all, enc('Content-Length'));
  for (const cuts of [[length + 5], [blank + 1], [blank + 3], [length + 3, blank + 2, blank + 4]]) {
    const { bodies } = feed(splitAt(all, ...cuts));
    assert.deepEqual(bodies, [DOG], `cuts ${cuts}`);
  }
});

test('a picture split across many reads is emitted once, when complete', () => {
  const all = stream(DOG);
  const p = new MjpegParser('vigieframe');
  const start = indexOf(all, enc('\r\n\r\n')) + 4;
  assert.deepEqual(p.push(all.slice(0, start + 1000)), []);
  assert.deepEqual(p.push(all.slice(start + 1000, start + DOG.length - 1)), []);
  const done = p.push(all.slice(start + DOG.length - 1));
  assert.equal(done.length, 1);
  assert.deepEqual(done[0].body, DOG);
});

test('garbage before the first boundary is skipped', () => {
  const junk = cat(enc('preamble text\r\n--vigie not yet\r\n'), DOG.slice(0, 300));
  const { bodies } = feed(splitAt(cat(junk, stream(BARS, DOG)), 5, junk.length + 3));
  assert.deepEqual(bodies, [BARS, DOG]);
});

test('parts without Content-Length end at the next delimiter line', () => {
  const all = cat(enc('--b\r\nContent-Type: image/jpeg\r\n\r\n'), BARS, enc('\r\n--b\r\n\r\n'), DOG, enc('\r\n--b--\r\n'));
  const { bodies, parser } = feed(splitAt(all, 20, 40 + BARS.length, 60 + BARS.length), 'b');
  assert.deepEqual(bodies, [BARS, DOG]);
  assert.equal(parser.finished, true);
});

test('nothing is taken from bytes after the closing delimiter, nor from an unfinished part', () => {
  const { bodies, parser } = feed([stream(BARS), part(DOG)]);
  assert.deepEqual(bodies, [BARS]);
  assert.equal(parser.finished, true);
  const cut = feed([part(DOG).slice(0, 500)]);
  assert.deepEqual(cut.bodies, []);
  assert.equal(cut.parser.finished, false);
});
