// DOM helpers shared by the console's views. Text from the server is always inserted with
// textContent (the `text` attribute or string children), never as HTML.
import { i18n, locale } from './i18n.js';

export const $ = (sel, root = document) => root.querySelector(sel);

export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : String(kid));
  return el;
}

/**
 * A time as the city reads it: in its time zone (the node's, once /api/me said it; the
 * browser's until then), so that a console in another zone shows the times the cameras saw,
 * written the way the console's language writes them.
 */
export function fmtTime(ms) {
  if (!ms) return '';
  const opts = { dateStyle: 'short', timeStyle: 'medium' };
  try { return new Date(ms).toLocaleString(locale(), { ...opts, timeZone: i18n.timeZone || undefined }); }
  catch (_) { return new Date(ms).toLocaleString(locale(), opts); } // a zone this browser does not know
}
export const enc = encodeURIComponent;
export const round = (v) => (Math.round(v * 100) / 100).toString();
