// MJPEG (multipart/x-mixed-replace) unpacking. Pure functions over bytes and no DOM, so that
// Node's test runner can feed it real pictures cut at awkward places (tests/browser/mjpeg.test.mjs).
// A part's end is its Content-Length when it has one (JPEG bytes may contain anything, even
// "\r\n--"), otherwise the next delimiter line.

const CR = 13;
const LF = 10;
const DASH = 45;
const CRLF = Uint8Array.of(CR, LF);
const CRLF2 = Uint8Array.of(CR, LF, CR, LF);
const ascii = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** The boundary parameter of a multipart Content-Type, or null when there is none. */
export function boundaryOf(contentType) {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  return m ? m[1] || m[2] : null;
}

/** First index of `needle` in `hay` at or after `from`, or -1. */
export function indexOf(hay, needle, from = 0) {
  const last = hay.length - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function concat(a, b) {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Header lines (without the blank line) as an object keyed by lower-case name. */
export function parseHeaders(bytes) {
  const out = {};
  for (const line of latin1.decode(bytes).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** A JPEG starts with SOI (FF D8) followed by a marker. */
export const isJpeg = (bytes) => bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/**
 * Feeds chunks as they arrive from the network; `push` returns the parts completed by each chunk,
 * as `{ headers, body }`, and keeps what is incomplete for the next one.
 */
export class MjpegParser {
  constructor(boundary) {
    if (!boundary) throw new Error('multipart stream without a boundary');
    this.delimiter = ascii.encode(`--${boundary}`);
    this.bodyEnd = ascii.encode(`\r\n--${boundary}`);
    this.buf = new Uint8Array(0);
    this.state = 'seek';
    this.headers = null;
    this.finished = false;
  }

  push(chunk) {
    const parts = [];
    if (this.finished) return parts;
    this.buf = concat(this.buf, chunk);
    while (this.step(parts));
    return parts;
  }

  /** One state transition; false when more bytes are needed. */
  step(parts) {
    const buf = this.buf;
    if (this.state === 'seek') {
      const at = indexOf(buf, this.delimiter);
      if (at < 0) {
        // Whatever precedes a delimiter is preamble or padding; keep only a possible start of one.
        this.buf = buf.slice(Math.max(0, buf.length - this.delimiter.length + 1));
        return false;
      }
      const after = at + this.delimiter.length;
      if (buf.length < after + 2) { this.buf = buf.slice(at); return false; }
      if (buf[after] === DASH && buf[after + 1] === DASH) {
        this.finished = true;
        this.buf = new Uint8Array(0);
        return false;
      }
      const eol = indexOf(buf, CRLF, after);
      if (eol < 0) { this.buf = buf.slice(at); return false; }
      this.buf = buf.slice(eol + 2);
      this.state = 'headers';
      return true;
    }
    if (this.state === 'headers') {
      if (buf.length >= 2 && buf[0] === CR && buf[1] === LF) {
        this.headers = {};
        this.buf = buf.slice(2);
      } else {
        const end = indexOf(buf, CRLF2);
        if (end < 0) return false;
        this.headers = parseHeaders(buf.subarray(0, end));
        this.buf = buf.slice(end + 4);
      }
      this.state = 'body';
      return true;
    }
    const declared = this.headers['content-length'];
    const len = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
    let body;
    if (len !== null) {
      if (buf.length < len) return false;
      body = buf.slice(0, len);
      this.buf = buf.slice(len);
    } else {
      const end = indexOf(buf, this.bodyEnd);
      if (end < 0) return false;
      body = buf.slice(0, end);
      this.buf = buf.slice(end + 2);
    }
    parts.push({ headers: this.headers, body });
    this.headers = null;
    this.state = 'seek';
    return true;
  }
}
