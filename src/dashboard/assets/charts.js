import { html, raw } from './html.js';

const W = 360;
const H = 150;
const PAD = { left: 46, right: 8, top: 10, bottom: 22 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function hhmm(t) {
  return new Date(t).toISOString().slice(11, 16);
}

/**
 * A line chart as inline SVG: one line per series (canary, control...) over time, gaps where a
 * series has no point. `format` labels the y axis; `series` is
 * [{ name, cls, points: [{ t: epochMs, v: number|null }] }].
 */
export function lineChart({ title, format, series, fromMs, toMs, yMax }) {
  const values = series
    .flatMap((s) => s.points.map((p) => p.v))
    .filter((v) => v !== null && Number.isFinite(v));
  const top = yMax ?? niceMax(Math.max(0, ...values));
  const span = Math.max(1, toMs - fromMs);
  const x = (t) => PAD.left + ((t - fromMs) / span) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - Math.min(v, top) / top) * (H - PAD.top - PAD.bottom);
  const lines = series.map((s) => {
    let d = '';
    let pen = false;
    for (const p of s.points) {
      if (p.v === null || !Number.isFinite(p.v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
      pen = true;
    }
    const dots =
      s.points.filter((p) => p.v !== null).length === 1
        ? s.points
            .filter((p) => p.v !== null)
            .map(
              (p) =>
                html`<circle class="${s.cls}" cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="2.5"></circle>`,
            )
        : [];
    return html`<path class="line ${s.cls}" d="${d}"></path>${dots}`;
  });
  const ticks = [0, 0.5, 1].map(
    (f) =>
      html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(top * f)}" y2="${y(top * f)}"></line>
        <text class="axis" x="${PAD.left - 4}" y="${y(top * f) + 3}" text-anchor="end">${format(top * f)}</text>`,
  );
  const empty = values.length === 0;
  return html`<figure class="chart">
    <figcaption>${title}
      <span class="legend">${series.map((s) => html`<span class="key ${s.cls}">${s.name}</span>`)}</span>
    </figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}" data-points="${values.length}">
      ${ticks}
      <text class="axis" x="${PAD.left}" y="${H - 6}">${hhmm(fromMs)}</text>
      <text class="axis" x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${hhmm(toMs)}</text>
      ${lines}
      ${empty ? raw(`<text class="axis" x="${W / 2}" y="${H / 2}" text-anchor="middle">no traffic in this window</text>`) : ''}
    </svg>
  </figure>`;
}
