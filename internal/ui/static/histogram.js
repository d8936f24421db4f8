// The histogram of matching events over time, stacked by level, drawn on a
// canvas. Dragging across it selects a range and calls onZoom(start, end)
// in ms. The data is the rows of `QUERY | stats count() as hits by
// (_time:STEP, level)`; drawing 120 bars of six levels takes well under a
// millisecond, whatever the number of events behind them.

import { formatLocal } from './timerange.js';

// LEVELS in stacking order, bottom first; "" is events without a level.
export const LEVELS = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', ''];
const levelVar = { TRACE: '--lv-trace', DEBUG: '--lv-debug', INFO: '--lv-info', WARN: '--lv-warn', ERROR: '--lv-error', FATAL: '--lv-fatal', '': '--lv-none' };

const PAD = { left: 44, right: 8, top: 8, bottom: 20 };
const DRAG_MIN_PX = 4; // a shorter drag is a click

export class Histogram {
  constructor(container, { onZoom } = {}) {
    this.container = container;
    this.onZoom = onZoom;
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Events over time by level; drag to zoom in');
    this.tip = document.createElement('div');
    this.tip.className = 'tip hidden';
    container.replaceChildren(this.canvas, this.tip);
    this.data = null;
    this.drag = null;
    this.onResize = () => this.draw();
    this.ro = new ResizeObserver(this.onResize);
    this.ro.observe(container);
    this.bindPointer();
  }

  destroy() {
    this.ro.disconnect();
  }

  // setData takes the stats rows of one range and step.
  setData({ start, end, stepMs, rows }) {
    const first = Math.floor(start / stepMs) * stepMs;
    const n = Math.max(1, Math.ceil((end - first) / stepMs));
    const buckets = Array.from({ length: n }, () => ({}));
    let total = 0;
    let other = new Set();
    for (const r of rows) {
      const t = Date.parse(r._time);
      const hits = Number(r.hits) || 0;
      if (!Number.isFinite(t)) continue;
      const i = Math.floor((t - first) / stepMs);
      if (i < 0 || i >= n) continue;
      let lv = r.level || '';
      if (!LEVELS.includes(lv)) {
        other.add(lv);
        lv = '';
      }
      buckets[i][lv] = (buckets[i][lv] || 0) + hits;
      total += hits;
    }
    let maxStack = 0;
    for (const b of buckets) {
      let s = 0;
      for (const v of Object.values(b)) s += v;
      b._sum = s;
      maxStack = Math.max(maxStack, s);
    }
    this.data = { start, end, stepMs, first, buckets, total, maxStack };
    this.canvas.dataset.bars = String(n);
    this.canvas.dataset.total = String(total);
    this.draw();
    return total;
  }

  // addEvents counts live events (rows with timestamp and level) into the
  // bars; with extend, events after the range's end stretch it to them
  // (a relative range follows the clock). It returns how many were
  // counted.
  addEvents(rows, extend) {
    const d = this.data;
    if (!d) return 0;
    let n = 0;
    for (const r of rows) {
      const t = Date.parse(String(r.timestamp || '').replace(/(\.\d{3})\d+/, '$1'));
      if (!Number.isFinite(t) || t < d.start) continue;
      if (t >= d.end) {
        if (!extend) continue;
        d.end = t + 1;
      }
      const i = Math.floor((t - d.first) / d.stepMs);
      while (d.buckets.length <= i) d.buckets.push({ _sum: 0 });
      let lv = r.level || '';
      if (!LEVELS.includes(lv)) lv = '';
      const b = d.buckets[i];
      b[lv] = (b[lv] || 0) + 1;
      b._sum++;
      d.maxStack = Math.max(d.maxStack, b._sum);
      d.total++;
      n++;
    }
    if (n) {
      this.canvas.dataset.total = String(d.total);
      this.canvas.dataset.bars = String(d.buckets.length);
      this.draw();
    }
    return n;
  }

  plot() {
    const w = this.container.clientWidth;
    const h = this.container.clientHeight;
    return { w, h, x0: PAD.left, x1: w - PAD.right, y0: PAD.top, y1: h - PAD.bottom };
  }

  xToTime(x) {
    const p = this.plot();
    const { start, end } = this.data;
    const f = Math.min(1, Math.max(0, (x - p.x0) / (p.x1 - p.x0)));
    return start + f * (end - start);
  }

  timeToX(t) {
    const p = this.plot();
    const { start, end } = this.data;
    return p.x0 + ((t - start) / (end - start)) * (p.x1 - p.x0);
  }

  draw() {
    const started = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const p = this.plot();
    if (p.w === 0) return;
    this.canvas.width = Math.round(p.w * dpr);
    this.canvas.height = Math.round(p.h * dpr);
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, p.w, p.h);
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue('--muted').trim();
    const border = css.getPropertyValue('--border').trim();
    g.font = '11px ' + css.getPropertyValue('--font');
    g.strokeStyle = border;
    g.beginPath();
    g.moveTo(p.x0, p.y1 + 0.5);
    g.lineTo(p.x1, p.y1 + 0.5);
    g.stroke();
    if (!this.data) return;
    const d = this.data;
    const max = niceMax(d.maxStack);
    // y axis: 0, half, max
    g.fillStyle = muted;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const v of [0, max / 2, max].filter(Number.isInteger)) {
      const y = p.y1 - (v / max) * (p.y1 - p.y0);
      g.fillText(shortNum(v), p.x0 - 6, y);
      if (v > 0) {
        g.strokeStyle = border;
        g.globalAlpha = 0.5;
        g.beginPath();
        g.moveTo(p.x0, Math.round(y) + 0.5);
        g.lineTo(p.x1, Math.round(y) + 0.5);
        g.stroke();
        g.globalAlpha = 1;
      }
    }
    const colours = {};
    for (const lv of LEVELS) colours[lv] = css.getPropertyValue(levelVar[lv]).trim();
    const scale = (p.y1 - p.y0) / max;
    for (let i = 0; i < d.buckets.length; i++) {
      const b = d.buckets[i];
      if (!b._sum) continue;
      const t0 = Math.max(d.first + i * d.stepMs, d.start);
      const t1 = Math.min(d.first + (i + 1) * d.stepMs, d.end);
      const xa = this.timeToX(t0);
      const xb = this.timeToX(t1);
      const gap = xb - xa > 4 ? 1 : 0;
      let y = p.y1;
      for (const lv of LEVELS) {
        const v = b[lv];
        if (!v) continue;
        const hgt = v * scale;
        g.fillStyle = colours[lv];
        g.fillRect(xa, y - hgt, Math.max(1, xb - xa - gap), hgt);
        y -= hgt;
      }
    }
    // x axis labels: as many as fit side by side, each centred in an
    // equal slot of the axis, so none overlaps another or the edges
    // (fixed 110 px slots overlapped once labels carry the date, as any
    // range over midnight does).
    g.fillStyle = muted;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const span = d.end - d.start;
    const withDate = span > 86400e3 || new Date(d.start).getDate() !== new Date(d.end).getDate();
    const label = (t) => formatLocal(t, withDate).slice(0, withDate ? 16 : 8);
    const labelW = g.measureText(label(d.start)).width + 16;
    const labels = Math.max(1, Math.floor((p.x1 - p.x0) / labelW));
    for (let k = 0; k < labels; k++) {
      const t = d.start + ((k + 0.5) / labels) * span;
      g.fillText(label(t), this.timeToX(t), p.y1 + 4);
    }
    if (this.drag && Math.abs(this.drag.x1 - this.drag.x0) >= 1) {
      g.fillStyle = css.getPropertyValue('--select').trim();
      const xa = Math.min(this.drag.x0, this.drag.x1);
      g.fillRect(xa, p.y0, Math.abs(this.drag.x1 - this.drag.x0), p.y1 - p.y0);
    }
    this.lastDrawMs = performance.now() - started;
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(2);
  }

  bindPointer() {
    const c = this.canvas;
    const localX = (e) => e.clientX - c.getBoundingClientRect().left;
    c.addEventListener('pointerdown', (e) => {
      if (!this.data || e.button !== 0) return;
      c.setPointerCapture(e.pointerId);
      const x = localX(e);
      this.drag = { x0: x, x1: x };
      this.tip.classList.add('hidden');
    });
    c.addEventListener('pointermove', (e) => {
      const x = localX(e);
      if (this.drag) {
        this.drag.x1 = x;
        this.draw();
        return;
      }
      this.showTip(x, e.clientY - c.getBoundingClientRect().top);
    });
    c.addEventListener('pointerleave', () => this.tip.classList.add('hidden'));
    const end = (e) => {
      if (!this.drag) return;
      const { x0 } = this.drag;
      const x1 = localX(e);
      this.drag = null;
      this.draw();
      if (Math.abs(x1 - x0) < DRAG_MIN_PX || !this.onZoom) return;
      const a = this.xToTime(Math.min(x0, x1));
      const b = this.xToTime(Math.max(x0, x1));
      if (b - a >= 1000) this.onZoom(Math.floor(a), Math.ceil(b));
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', () => {
      this.drag = null;
      this.draw();
    });
  }

  showTip(x, y) {
    const d = this.data;
    if (!d) return;
    const t = this.xToTime(x);
    const i = Math.floor((t - d.first) / d.stepMs);
    const b = d.buckets[i];
    if (!b || !b._sum) {
      this.tip.classList.add('hidden');
      return;
    }
    const t0 = d.first + i * d.stepMs;
    const lines = [`${formatLocal(t0)} (+${Math.round(d.stepMs / 1000)}s)`, `${b._sum.toLocaleString()} events`];
    for (const lv of [...LEVELS].reverse()) if (b[lv]) lines.push(`${lv || 'other'}: ${b[lv].toLocaleString()}`);
    this.tip.textContent = '';
    for (const l of lines) {
      const div = document.createElement('div');
      div.textContent = l;
      this.tip.append(div);
    }
    this.tip.classList.remove('hidden');
    const w = this.container.clientWidth;
    this.tip.style.left = Math.min(x + 12, w - 180) + 'px';
    this.tip.style.top = Math.max(0, y - 10) + 'px';
  }
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// shortNum writes 1200 as 1.2k.
export function shortNum(v) {
  if (v >= 1e9) return +(v / 1e9).toFixed(1) + 'G';
  if (v >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
  if (v >= 1e3) return +(v / 1e3).toFixed(1) + 'k';
  return String(+v.toFixed(2));
}
