// A windowed list: only the rows in view (and a few around them) are in
// the DOM, so 10,000 results scroll as smoothly as 100. Rows have a fixed
// height (--row-h) until expanded; an expanded row is measured once drawn
// and the offsets after it move. Rows are keyed by object identity, so
// prepending (live mode) keeps the DOM of rows already shown.

const OVERSCAN = 8; // rows drawn beyond each edge of the view

export class VirtualList {
  // renderRow(row, expanded) returns the row's element (absolutely
  // positioned by the list); onToggle is not needed: click handling is the
  // page's, which calls toggle(row).
  constructor(scroller, { renderRow, empty = 'No events.' }) {
    this.scroller = scroller;
    this.renderRow = renderRow;
    this.emptyText = empty;
    this.rows = [];
    this.expanded = new Set();
    this.heights = new Map(); // measured heights of expanded rows
    this.offsets = new Float64Array(1);
    this.shown = new Map(); // row -> element
    this.spacer = document.createElement('div');
    this.spacer.className = 'spacer';
    this.emptyEl = document.createElement('div');
    this.emptyEl.className = 'empty';
    scroller.replaceChildren(this.spacer);
    this.rowH = readRowHeight();
    this.pending = false;
    this.onScroll = () => this.schedule();
    scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.ro = new ResizeObserver(() => {
      const h = readRowHeight();
      if (h !== this.rowH) {
        this.rowH = h;
        this.relayout(true);
      } else this.schedule();
    });
    this.ro.observe(scroller);
  }

  destroy() {
    this.scroller.removeEventListener('scroll', this.onScroll);
    this.ro.disconnect();
  }

  get length() {
    return this.rows.length;
  }

  setRows(rows, empty) {
    if (empty) this.emptyText = empty;
    this.rows = rows;
    this.expanded.clear();
    this.heights.clear();
    this.scroller.scrollTop = 0;
    this.relayout(true);
  }

  // prepend adds rows at the top (newest first); the view stays on the
  // rows the reader is looking at unless it is at the top. Rows past max
  // are dropped from the bottom.
  prepend(rows, max = Infinity) {
    if (!rows.length) return;
    const atTop = this.scroller.scrollTop < 2;
    this.rows = rows.concat(this.rows);
    if (this.rows.length > max) {
      for (const r of this.rows.splice(max)) {
        this.expanded.delete(r);
        this.heights.delete(r);
      }
    }
    this.computeOffsets();
    if (!atTop) {
      const added = this.offsets[rows.length];
      this.scroller.scrollTop += added;
    }
    this.relayout(false);
  }

  // append adds older rows at the bottom.
  append(rows) {
    if (!rows.length) return;
    this.rows = this.rows.concat(rows);
    this.relayout(true);
  }

  toggle(row) {
    if (this.expanded.has(row)) {
      this.expanded.delete(row);
      this.heights.delete(row);
    } else this.expanded.add(row);
    const el = this.shown.get(row);
    if (el) {
      el.remove();
      this.shown.delete(row);
    }
    this.relayout(true);
  }

  // scrollToRow brings row i into view.
  scrollToRow(i) {
    this.scroller.scrollTop = Math.max(0, this.offsets[i] - this.scroller.clientHeight / 3);
    this.relayout(false);
  }

  heightOf(row) {
    return this.expanded.has(row) ? this.heights.get(row) || this.rowH * 6 : this.rowH;
  }

  computeOffsets() {
    const n = this.rows.length;
    const off = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) off[i + 1] = off[i] + this.heightOf(this.rows[i]);
    this.offsets = off;
    this.spacer.style.height = off[n] + 'px';
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  relayout(recompute) {
    if (recompute) this.computeOffsets();
    this.draw();
  }

  // first returns the index of the row at pixel y.
  first(y) {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  draw() {
    if (!this.rows.length) {
      this.emptyEl.textContent = this.emptyText;
      for (const el of this.shown.values()) el.remove();
      this.shown.clear();
      if (!this.emptyEl.isConnected) this.spacer.append(this.emptyEl);
      this.spacer.style.height = 'auto';
      return;
    }
    this.emptyEl.remove();
    const top = this.scroller.scrollTop;
    const bottom = top + this.scroller.clientHeight;
    const a = Math.max(0, this.first(top) - OVERSCAN);
    let b = this.first(bottom) + OVERSCAN;
    b = Math.min(this.rows.length, b + 1);
    const want = new Set();
    let measured = false;
    for (let i = a; i < b; i++) {
      const row = this.rows[i];
      want.add(row);
      let el = this.shown.get(row);
      if (!el) {
        el = this.renderRow(row, this.expanded.has(row));
        el.style.top = '0';
        this.shown.set(row, el);
        this.spacer.append(el);
        if (this.expanded.has(row) && !this.heights.has(row)) {
          this.heights.set(row, el.offsetHeight);
          measured = true;
        }
      }
      el.style.transform = `translateY(${this.offsets[i]}px)`;
      el.dataset.index = String(i);
    }
    for (const [row, el] of this.shown) {
      if (!want.has(row)) {
        el.remove();
        this.shown.delete(row);
      }
    }
    if (measured) {
      this.computeOffsets();
      for (let i = a; i < b; i++) {
        const el = this.shown.get(this.rows[i]);
        if (el) el.style.transform = `translateY(${this.offsets[i]}px)`;
      }
    }
  }
}

function readRowHeight() {
  const v = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'));
  return Number.isFinite(v) && v > 0 ? v : 26;
}
