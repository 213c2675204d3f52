/**
 * Safe HTML strings: every value interpolated into `html` is escaped unless it is itself the
 * result of `html` (or `raw`). Arrays are joined. null, undefined and false render nothing.
 */
export class Html {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value) {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup produced by this code itself (never by data). */
export function raw(text) {
  return new Html(text);
}

export function pct(x, digits = 1) {
  return x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function ms(x) {
  return x === null || x === undefined ? '–' : `${Math.round(x)} ms`;
}

/** "3 h 20 min ago", from two ISO times (the server's clock, which may run faster than ours). */
export function since(iso, nowIso) {
  const d = Math.max(0, Date.parse(nowIso) - Date.parse(iso));
  const min = Math.floor(d / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min ago`;
  return `${Math.floor(h / 24)} d ${h % 24} h ago`;
}

export function shortTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
}
