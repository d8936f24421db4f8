// Results of a stats (or top, uniq) query: a chart and a table. Rows with
// a _time column are a time series, drawn as lines, one per group of the
// other text columns; other rows are drawn as bars. The first numeric
// column is the value drawn; the table shows every column.

import { el } from './api.js';
import { formatLocal } from './timerange.js';
import { shortNum } from './histogram.js';

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2962d9', '#d8413a', '#3a9d5d', '#e0a100', '#8e1b5a', '#0097a7', '#6d4c41', '#7e57c2', '#f4511e', '#546e7a'];
const MAX_SERIES = 10;
const MAX_BARS = 50;

// columns lists the keys of the rows in first-seen order, split into
// numeric (every non-empty value a number) and text.
export function columns(rows) {
  const order = [];
  const seen = new Set();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); order.push(k); }
  const numeric = order.filter((k) => k !== '_time' && rows.every((r) => r[k] === undefined || r[k] === '' || isFinite(Number(r[k]))));
  const text = order.filter((k) => k !== '_time' && !numeric.includes(k));
  return { order, numeric, text };
}

// renderStats fills root with the chart and the table of rows.
export function renderStats(root, rows) {
  const { order, numeric, text } = columns(rows);
  const wrap = el('div', { class: 'stats', dataset: { rows: String(rows.length) } });
  if (!rows.length) {
    wrap.append(el('div', { class: 'empty' }, 'No rows.'));
    root.replaceChildren(wrap);
    return;
  }
  const value = numeric[0];
  if (value) {
    const chart = el('div', { class: 'chart' });
    if (order.includes('_time')) lineChart(chart, rows, value, text);
    else barChart(chart, rows, value, text);
    wrap.append(chart);
  }
  wrap.append(table(rows, order, numeric));
  root.replaceChildren(wrap);
}

function groupKey(r, text) {
  return text.map((k) => r[k] ?? '').join(' · ') || 'all';
}

function lineChart(root, rows, value, text) {
  root.dataset.kind = 'lines';
  const series = new Map();
  let tmin = Infinity;
  let tmax = -Infinity;
  let vmax = 0;
  for (const r of rows) {
    const t = Date.parse(r._time);
    const v = Number(r[value]);
    if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
    const k = groupKey(r, text);
    if (!series.has(k)) series.set(k, { total: 0, pts: [] });
    const s = series.get(k);
    s.pts.push([t, v]);
    s.total += v;
    tmin = Math.min(tmin, t);
    tmax = Math.max(tmax, t);
    vmax = Math.max(vmax, v);
  }
  // The biggest series, when there are too many to tell apart.
  const top = [...series.entries()].sort((a, b) => b[1].total - a[1].total).slice(0, MAX_SERIES);
  const W = 1000, H = 260, L = 50, R = 10, T = 10, B = 24;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const x = (t) => L + (tmax === tmin ? 0.5 : (t - tmin) / (tmax - tmin)) * (W - L - R);
  const y = (v) => H - B - (vmax ? v / vmax : 0) * (H - T - B);
  const line = (x1, y1, x2, y2, cls) => {
    const l = document.createElementNS(SVG, 'line');
    Object.entries({ x1, y1, x2, y2 }).forEach(([k, v]) => l.setAttribute(k, v));
    l.setAttribute('class', cls);
    return l;
  };
  svg.append(line(L, H - B, W - R, H - B, 'axis'), line(L, T, L, H - B, 'axis'));
  const label = (s, xx, yy, anchor) => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', xx);
    t.setAttribute('y', yy);
    t.setAttribute('text-anchor', anchor);
    t.textContent = s;
    return t;
  };
  svg.append(label(shortNum(vmax), L - 4, T + 8, 'end'), label('0', L - 4, H - B, 'end'));
  if (Number.isFinite(tmin)) {
    svg.append(label(formatLocal(tmin).slice(0, 16), L, H - 6, 'start'), label(formatLocal(tmax).slice(0, 16), W - R, H - 6, 'end'));
  }
  const legend = el('div', { class: 'serieslegend' });
  top.forEach(([k, s], i) => {
    const colour = PALETTE[i % PALETTE.length];
    s.pts.sort((a, b) => a[0] - b[0]);
    const path = document.createElementNS(SVG, 'polyline');
    path.setAttribute('points', s.pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', colour);
    path.setAttribute('stroke-width', '2');
    path.setAttribute('vector-effect', 'non-scaling-stroke');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = k;
    path.append(title);
    svg.append(path);
    const sw = el('i');
    sw.style.background = colour;
    legend.append(el('span', null, sw, k));
  });
  root.append(svg, legend);
  if (series.size > MAX_SERIES) root.append(el('div', { class: 'muted small' }, `${MAX_SERIES} largest of ${series.size} series shown; the table has all.`));
}

function barChart(root, rows, value, text) {
  root.dataset.kind = 'bars';
  const items = rows.map((r) => ({ k: groupKey(r, text), v: Number(r[value]) || 0 }));
  const shown = items.slice(0, MAX_BARS);
  const max = shown.reduce((m, it) => Math.max(m, it.v), 0) || 1;
  const grid = el('div', { class: 'bars' });
  for (const it of shown) {
    const b = el('div', { class: 'b' });
    b.style.width = ((it.v / max) * 100).toFixed(2) + '%';
    grid.append(el('span', { class: 'lbl', title: it.k }, it.k), el('div', null, b), el('span', { class: 'num' }, it.v.toLocaleString()));
  }
  root.append(grid);
  if (items.length > MAX_BARS) root.append(el('div', { class: 'muted small' }, `First ${MAX_BARS} of ${items.length} rows drawn; the table has all.`));
}

function table(rows, order, numeric) {
  const head = el('tr', null, order.map((k) => el('th', null, k)));
  const body = el('tbody');
  for (const r of rows) {
    body.append(el('tr', null, order.map((k) => {
      let v = r[k] ?? '';
      if (k === '_time' && v) v = formatLocal(Date.parse(v));
      return el('td', { class: numeric.includes(k) ? 'num' : '' }, v);
    })));
  }
  return el('div', { class: 'tablewrap' }, el('table', { class: 'grid' }, el('thead', null, head), body));
}
