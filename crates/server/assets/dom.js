// DOM helpers shared by the console's views. Text from the server is always inserted with
// textContent (the `text` attribute or string children), never as HTML.

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

export const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : '');
export const enc = encodeURIComponent;
export const round = (v) => (Math.round(v * 100) / 100).toString();
