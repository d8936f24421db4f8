// The Search page: query box, time range, histogram by level, field
// sidebar, results (or, for a stats query, a chart and a table), live
// mode and export. The URL (#/search?q=&from=&to=&limit=&live=) holds the
// view, so a link reproduces it.

import { streamNDJSON, errorBox, el, qs } from './api.js';
import { Histogram, LEVELS } from './histogram.js';
import { FieldSidebar } from './fields.js';
import { VirtualList } from './results.js';
import { renderStats } from './stats.js';
import { LiveTail } from './live.js';
import { Autocomplete, remember } from './suggest.js';
import { splitPipes, filterPart, aggregatePipe, addTerm, termFor, quoteValue, HELP } from './query.js';
import { QUICK, DEFAULT_FROM, isRelative, resolveRange, iso, chooseStep, describeRange, localInput, fromLocalInput, formatLocal } from './timerange.js';
import { toNDJSON, toCSV, download } from './export.js';

const LIMITS = [100, 500, 1000, 5000, 10000];
// EXPORT_MAX is the most rows an export link asks for; the server caps it
// further at its --query.max-limit (100,000 by default).
const EXPORT_MAX = 1000000;
const DEFAULT_LIMIT = 1000;
// LIVE_MAX is how many rows live mode keeps; older ones drop off the end.
const LIVE_MAX = 10000;
// SURROUND is how many events "show surrounding events" fetches each side.
const SURROUND = 25;
// STREAM_FIELDS say which stream an event is in, for surrounding events.
const STREAM_FIELDS = ['index', 'service', 'host'];

let tpl = null;

// rowTemplate is the skeleton of a result line, cloned for each row drawn.
function rowTemplate() {
  if (!tpl) {
    tpl = el('div', { class: 'row' },
      el('div', { class: 'line', role: 'button', tabindex: '0', 'aria-expanded': 'false' },
        el('span', { class: 'lv' }), el('span', { class: 'msg' }), el('span', { class: 'time' })));
  }
  return tpl;
}

// bindRows makes a click on a line, or Enter or Space on a focused one,
// open or close that row of list.
function bindRows(scroller, list) {
  const rowOf = (target) => {
    const line = target.closest('.line');
    if (!line || !scroller.contains(line)) return null;
    const i = Number(line.parentElement.dataset.index);
    return Number.isInteger(i) ? list.rows[i] : null;
  };
  scroller.addEventListener('click', (e) => {
    const row = rowOf(e.target);
    if (row) list.toggle(row);
  });
  scroller.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const row = e.target.classList.contains('line') && rowOf(e.target);
    if (!row) return;
    e.preventDefault();
    list.toggle(row);
    const again = scroller.querySelector(`.row[data-index="${list.rows.indexOf(row)}"] .line`);
    if (again) again.focus();
  });
}

// eventTime parses a row's timestamp (RFC 3339 with up to nanoseconds)
// to ms; Date.parse wants at most milliseconds.
export function eventTime(s) {
  return s ? Date.parse(String(s).replace(/(\.\d{3})\d+/, '$1')) : NaN;
}

export async function render(root, params, ctx) {
  const page = new SearchPage(root, params, ctx);
  await page.run({ push: false, initial: true });
  return () => page.destroy();
}

class SearchPage {
  constructor(root, params, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.state = {
      q: params.q || '*',
      from: params.from || DEFAULT_FROM,
      to: params.to || '',
      limit: LIMITS.includes(Number(params.limit)) ? Number(params.limit) : DEFAULT_LIMIT,
    };
    this.abort = null;
    this.live = null;
    this.liveCount = 0;
    this.liveInList = 0;
    this.liveRows = new WeakSet();
    this.rows = [];
    this.statsRows = null;
    this.build();
    this.onKey = (e) => this.key(e);
    document.addEventListener('keydown', this.onKey);
    if (params.live === '1') queueMicrotask(() => this.toggleLive(true));
  }

  destroy() {
    if (this.abort) this.abort.abort();
    if (this.live) this.live.stop();
    this.hist.destroy();
    this.list.destroy();
    document.removeEventListener('keydown', this.onKey);
    this.closeModal();
  }

  build() {
    const s = this.state;
    this.input = el('textarea', {
      id: 'q', rows: 1, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Query',
      placeholder: 'Search: words, "phrases", field:value, | stats …   (press / to focus)',
    });
    this.input.value = s.q === '*' ? '' : s.q;
    this.input.addEventListener('beforeinput', (e) => {
      if (this.swallowSlash && e.data === '/') e.preventDefault();
      // The Enter that ran the query is not a new line, even where the
      // browser (or a DevTools key event) delivers it after keydown.
      if (this.swallowBreak && /^insert(LineBreak|Paragraph)$/.test(e.inputType)) e.preventDefault();
      this.swallowSlash = false;
      this.swallowBreak = false;
    });
    this.input.addEventListener('keydown', (e) => {
      if (this.ac.key(e)) {
        e.preventDefault();
        return;
      }
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        this.swallowBreak = true;
        setTimeout(() => { this.swallowBreak = false; }, 100);
        this.run({ push: true });
      }
    });
    const qwrap = el('div', { class: 'qwrap' }, this.input);
    this.helpPanel = el('div', { class: 'panel help hidden', id: 'help' },
      el('table', null, HELP.map(([ex, what]) => el('tr', null,
        el('td', null, el('button', { class: 'link mono', type: 'button', onclick: () => { this.input.value = ex; this.run({ push: true }); } }, ex)),
        el('td', { class: 'muted' }, what)))),
      el('p', { class: 'muted' }, 'Enter runs the query, Shift+Enter adds a line, / focuses the box, Esc closes panels. Words match whole words, ignoring case; field:=value matches the whole value.'));
    this.rangeLabel = el('button', { type: 'button', id: 'range', title: 'Choose an absolute range', onclick: () => this.toggleAbs() });
    const quick = el('div', { class: 'quick' }, QUICK.map((r) => el('button', {
      type: 'button', dataset: { from: r.from }, onclick: () => { s.from = r.from; s.to = ''; this.run({ push: true }); },
    }, r.label)));
    this.fromInput = el('input', { type: 'datetime-local', step: '1', 'aria-label': 'From' });
    this.toInput = el('input', { type: 'datetime-local', step: '1', 'aria-label': 'To' });
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    this.absPanel = el('div', { class: 'panel absrange hidden', id: 'absrange' },
      el('label', null, 'From ', this.fromInput), el('label', null, 'To ', this.toInput),
      el('button', { class: 'primary', type: 'button', onclick: () => this.applyAbs() }, 'Apply'),
      el('span', { class: 'muted small' }, `in ${tz}`));
    this.liveBtn = el('button', { type: 'button', id: 'live', title: 'Show new events as they arrive', onclick: () => this.toggleLive() }, 'Live');
    this.pauseBtn = el('button', { type: 'button', id: 'pause', class: 'hidden', onclick: () => this.togglePause() }, 'Pause');
    const toolbar = el('div', { class: 'toolbar' },
      qwrap,
      el('button', { class: 'primary', type: 'button', id: 'run', onclick: () => this.run({ push: true }) }, 'Search'),
      el('button', { type: 'button', id: 'help-btn', title: 'Query syntax', 'aria-controls': 'help', onclick: () => this.helpPanel.classList.toggle('hidden') }, '?'),
      el('div', { class: 'range' }, quick, this.rangeLabel),
      this.liveBtn, this.pauseBtn);

    this.hits = el('span', { class: 'count', id: 'hits' }, '…');
    this.took = el('span', { class: 'muted small', id: 'took' });
    this.liveInfo = el('span', { class: 'livebar hidden', id: 'liveinfo' }, el('span', { class: 'dot' }), el('span', { class: 'txt' }));
    this.limitSel = el('select', { 'aria-label': 'Rows', onchange: () => { s.limit = Number(this.limitSel.value); this.run({ push: false }); } },
      LIMITS.map((n) => el('option', { value: String(n) }, `${n.toLocaleString()} rows`)));
    this.limitSel.value = String(s.limit);
    const legend = el('span', { class: 'legend' }, LEVELS.filter(Boolean).map((lv) => {
      const i = el('i');
      i.style.background = `var(--lv-${lv.toLowerCase()})`;
      return el('span', null, i, lv);
    }));
    this.sidebarEl = el('aside', { class: 'sidebar', id: 'fields', 'aria-label': 'Fields' });
    const summary = el('div', { class: 'summary' },
      this.hits, this.took, this.liveInfo, el('span', { class: 'spacer' }), legend,
      el('button', { type: 'button', class: 'fields-toggle', onclick: () => this.sidebarEl.classList.toggle('open') }, 'Fields'),
      this.olderBtn = el('button', { type: 'button', id: 'older', class: 'hidden', title: 'List the next older events', onclick: () => this.older() }, 'Older ↓'),
      this.limitSel,
      this.exportNDJSON = el('a', { class: 'button', id: 'export-ndjson', href: '#', onclick: (e) => this.export(e, 'ndjson') }, 'NDJSON ↓'),
      this.exportCSV = el('a', { class: 'button', id: 'export-csv', href: '#', onclick: (e) => this.export(e, 'csv') }, 'CSV ↓'));
    this.errEl = el('div', { id: 'error' });
    this.histEl = el('div', { class: 'hist', id: 'hist' });
    this.resultsEl = el('div', { class: 'results', id: 'results', tabindex: '0', 'aria-label': 'Results' });
    this.statsEl = el('div', { class: 'statsview hidden', id: 'stats' });
    const main = el('section', { class: 'main' }, this.histEl, this.statsEl, this.resultsEl);
    this.root.replaceChildren(el('div', { class: 'search' }, toolbar, this.helpPanel, this.absPanel, summary, this.errEl,
      el('div', { class: 'body' }, this.sidebarEl, main)));

    this.hist = new Histogram(this.histEl, { onZoom: (a, b) => { s.from = iso(a); s.to = iso(b); this.run({ push: true }); } });
    this.list = new VirtualList(this.resultsEl, { renderRow: (row, open) => this.renderRow(this.list, row, open) });
    bindRows(this.resultsEl, this.list);
    this.sidebar = new FieldSidebar(this.sidebarEl, {
      onFilter: (field, value, neg) => {
        this.input.value = addTerm(this.input.value.trim() || '*', field, value, neg);
        this.run({ push: true });
      },
    });
    this.ac = new Autocomplete(this.input, {
      fields: () => this.sidebar.names,
      values: (f) => this.sidebar.valuesFor(f),
    });
  }

  key(e) {
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      // Some browsers (and DevTools key events) still deliver the "/"
      // to the box that just got focus; the box swallows that one.
      this.swallowSlash = true;
      setTimeout(() => { this.swallowSlash = false; }, 100);
      this.input.focus();
      this.input.select();
    } else if (e.key === 'Escape') {
      this.ac.close();
      this.helpPanel.classList.add('hidden');
      this.absPanel.classList.add('hidden');
      this.closeModal();
    }
  }

  toggleAbs() {
    const open = this.absPanel.classList.toggle('hidden') === false;
    if (open) {
      const { start, end } = resolveRange(this.state.from, this.state.to);
      this.fromInput.value = localInput(start);
      this.toInput.value = localInput(end);
      this.fromInput.focus();
    }
  }

  applyAbs() {
    const a = fromLocalInput(this.fromInput.value);
    const b = fromLocalInput(this.toInput.value);
    if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a) {
      this.errEl.replaceChildren(errorBox(new Error('The range needs a start before its end.')));
      return;
    }
    this.state.from = iso(a);
    this.state.to = iso(b);
    this.absPanel.classList.add('hidden');
    this.run({ push: true });
  }

  urlParams() {
    const s = this.state;
    return {
      q: s.q === '*' ? '' : s.q, from: s.from === DEFAULT_FROM ? '' : s.from, to: s.to,
      limit: s.limit === DEFAULT_LIMIT ? '' : String(s.limit), live: this.live ? '1' : '',
    };
  }

  // run runs the query in the box over the range: histogram, count,
  // results or stats, sidebar. push adds a history entry.
  async run({ push, initial = false }) {
    const s = this.state;
    s.q = this.input.value.trim() || '*';
    if (this.abort) this.abort.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.ac.close();
    this.ctx.setParams(this.urlParams(), { push });
    if (!initial) remember(s.q);
    const { start, end } = resolveRange(s.from, s.to);
    const startIso = iso(start);
    const endIso = iso(end);
    this.rangeLabel.textContent = describeRange(s.from, s.to) + ' ▾';
    for (const b of this.root.querySelectorAll('.quick button')) b.classList.toggle('on', b.dataset.from === s.from && !s.to);
    const filter = filterPart(s.q);
    const agg = aggregatePipe(s.q);
    this.root.dataset.state = 'loading';
    this.errEl.replaceChildren();
    this.hits.textContent = '…';
    delete this.hits.dataset.count;
    const t0 = performance.now();
    // tm is this run's timeline (ms since navigation), for the scale test
    // and the curious: window.lcSearchTimings.
    const tm = { q: s.q, start: t0 };
    window.lcSearchTimings = tm;
    // The sidebar waits for the results and the histogram: its field
    // query then does not compete with the ones the reader is waiting for
    // (on 2 cores, five field queries at once made a word search over 1M
    // events 200-300 ms slower). A new search cancels it.
    this.sidebar.clear();
    this.setExport(s.q, startIso, endIso, 0);

    const step = chooseStep(end - start);
    const histRows = [];
    const histQ = `${filter} | stats count() as hits by (_time:${step.s}, level)`;
    const hist = streamNDJSON('/api/v1/query?' + qs({ q: histQ, start: startIso, end: endIso, limit: 100000 }), (r) => histRows.push(r), abort.signal)
      .then(() => {
        tm.histData = performance.now();
        const total = this.hist.setData({ start, end, stepMs: step.ms, rows: histRows });
        tm.histDrawn = performance.now();
        tm.histDrawMs = this.hist.lastDrawMs;
        tm.histBuckets = histRows.length;
        return total;
      });

    let results;
    if (agg) {
      const rows = [];
      results = streamNDJSON('/api/v1/query?' + qs({ q: s.q, start: startIso, end: endIso, limit: 100000 }), (r) => rows.push(r), abort.signal)
        .then(() => {
          this.statsRows = rows;
          this.resultsEl.classList.add('hidden');
          this.statsEl.classList.remove('hidden');
          renderStats(this.statsEl, rows);
          tm.results = performance.now();
          return rows.length;
        });
    } else {
      const rows = [];
      results = streamNDJSON('/api/v1/query?' + qs({ q: s.q, start: startIso, end: endIso, limit: s.limit }), (r) => rows.push(r), abort.signal)
        .then(() => {
          this.statsRows = null;
          this.rows = rows;
          this.liveInList = 0; // live rows listed above the query's own
          this.statsEl.classList.add('hidden');
          this.resultsEl.classList.remove('hidden');
          this.list.setRows(rows, 'No events match in this range. Widen the range or loosen the query.');
          tm.results = performance.now();
          return rows.length;
        });
    }

    const [h, r] = await Promise.allSettled([hist, results]);
    if (abort.signal.aborted) return;
    const took = performance.now() - t0;
    const failed = [r, h].find((x) => x.status === 'rejected');
    if (failed) {
      const err = failed.reason;
      this.errEl.replaceChildren(errorBox(err, { query: s.q }));
      if (r.status === 'rejected') {
        this.list.setRows([], 'No results: see the error above.');
        this.statsEl.classList.add('hidden');
        this.resultsEl.classList.remove('hidden');
      }
    }
    if (h.status === 'fulfilled') {
      const total = h.value;
      this.hits.dataset.count = String(total);
      let txt = `${total.toLocaleString()} ${total === 1 ? 'event' : 'events'}`;
      if (!agg && r.status === 'fulfilled' && r.value < total) txt += ` (newest ${r.value.toLocaleString()} listed)`;
      if (agg && r.status === 'fulfilled') txt += ` → ${r.value.toLocaleString()} rows`;
      this.hits.textContent = txt;
    } else {
      this.hits.textContent = r.status === 'fulfilled' ? `${r.value.toLocaleString()} rows` : 'error';
      if (r.status === 'fulfilled') this.hits.dataset.count = String(r.value);
      if (h.reason && !failed) this.errEl.replaceChildren(errorBox(h.reason, { query: s.q }));
    }
    // Older pages: the same query and the same resolved range, skipping
    // the rows listed (offset), so a relative range does not shift under
    // the reader. Queries with pipes order and cut rows themselves.
    this.page = { q: s.q, start: startIso, end: endIso, total: h.status === 'fulfilled' ? h.value : 0 };
    this.updateOlder(!agg && !splitPipes(s.q).pipes && r.status === 'fulfilled');
    this.took.textContent = `${Math.round(took)} ms`;
    tm.done = performance.now();
    tm.fieldsStart = tm.done;
    this.sidebar.load({ q: filter, start: startIso, end: endIso }).then(() => {
      if (!abort.signal.aborted) tm.fieldsDone = performance.now();
    });
    this.setExport(s.q, startIso, endIso, h.status === 'fulfilled' ? h.value : 0);
    this.root.dataset.state = failed ? 'error' : 'done';
    if (this.live && this.live.q !== filter) {
      this.toggleLive(false);
      this.toggleLive(true);
    }
  }

  // renderRow draws one result line (and its details when open). Rows are
  // cloned from a template and clicks are handled once per list
  // (bindRows), which keeps a fast scroll through 10,000 rows cheap.
  updateOlder(possible) {
    const listed = this.list.length - this.liveInList;
    this.olderBtn.classList.toggle('hidden', !(possible && this.page && listed < this.page.total));
  }

  async older() {
    const p = this.page;
    if (!p || this.loadingOlder) return;
    this.loadingOlder = true;
    this.olderBtn.disabled = true;
    const offset = this.list.length - this.liveInList;
    const rows = [];
    try {
      await streamNDJSON('/api/v1/query?' + qs({ q: `${p.q} | offset ${offset} | limit ${this.state.limit}`, start: p.start, end: p.end, limit: this.state.limit }), (r) => rows.push(r));
      this.list.append(rows);
      this.rows = this.list.rows;
      const n = this.list.length - this.liveInList;
      this.hits.textContent = `${p.total.toLocaleString()} events (newest ${n.toLocaleString()} listed)`;
      this.updateOlder(rows.length > 0);
    } catch (e) {
      this.errEl.replaceChildren(errorBox(e, { query: p.q }));
    } finally {
      this.loadingOlder = false;
      this.olderBtn.disabled = false;
    }
  }

  renderRow(list, row, open) {
    const lv = String(row.level || '').toUpperCase();
    const div = rowTemplate().cloneNode(true);
    div.className = 'row' + (LEVELS.includes(lv) && lv ? ' ' + lv : '') + (this.liveRows.has(row) ? ' live' : '');
    const [line] = div.children;
    const [badge, msgEl, timeEl] = line.children;
    line.setAttribute('aria-expanded', String(open));
    badge.className = 'lv lv-' + lv;
    badge.textContent = lv || '—';
    const msg = row.message !== undefined ? String(row.message) : JSON.stringify(row);
    msgEl.textContent = msg;
    msgEl.title = msg.length > 200 ? msg.slice(0, 200) + '…' : msg;
    const t = eventTime(row.timestamp);
    timeEl.textContent = Number.isFinite(t) ? formatLocal(t) : '';
    timeEl.title = row.timestamp || '';
    if (open) div.append(this.details(row));
    return div;
  }

  details(row) {
    const rows = Object.entries(row).map(([k, v]) => el('tr', null,
      el('td', { class: 'k mono' }, k),
      el('td', { class: 'v' }, String(v)),
      el('td', { class: 'a' }, k === 'timestamp' ? '' : [
        el('button', { class: 'link', type: 'button', title: `Filter ${k}:${v}`, onclick: () => this.filter(k, v, false) }, '+'),
        el('button', { class: 'link', type: 'button', title: `Exclude ${k}:${v}`, onclick: () => this.filter(k, v, true) }, '−'),
      ])));
    const actions = el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'surround', onclick: () => this.surrounding(row) }, 'Show surrounding events'),
      row.trace_id ? el('button', { type: 'button', onclick: () => { this.input.value = `trace_id:${quoteValue(row.trace_id)}`; this.run({ push: true }); } }, 'Same trace') : null,
      el('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(JSON.stringify(row)) }, 'Copy JSON'));
    return el('div', { class: 'details' }, el('table', null, rows), actions);
  }

  filter(field, value, neg) {
    this.input.value = addTerm(this.input.value.trim() || '*', field, String(value), neg);
    this.closeModal();
    this.run({ push: true });
  }

  // surrounding shows the events just before and after row in its stream
  // (same index, service and host), newest first like the results.
  async surrounding(row) {
    const terms = STREAM_FIELDS.filter((f) => row[f]).map((f) => termFor(f, String(row[f]), false));
    const q = terms.join(' ') || '*';
    const body = el('div', { class: 'results', id: 'surround-list' });
    const title = el('span', null, 'Surrounding events ', el('span', { class: 'mono small muted' }, q));
    this.openModal(title, body);
    const list = new VirtualList(body, { renderRow: (r, open) => this.renderRow(list, r, open), empty: 'Loading…' });
    bindRows(body, list);
    this.modalList = list;
    const ts = row.timestamp;
    const t = eventTime(ts);
    const before = [];
    const after = [];
    try {
      await Promise.all([
        // Older: newest first, up to the event (end is exclusive).
        streamNDJSON('/api/v1/query?' + qs({ q, end: ts, limit: SURROUND }), (r) => before.push(r)),
        // Newer: the oldest ones from the event on, within an hour.
        streamNDJSON('/api/v1/query?' + qs({ q: `${q} | sort by (timestamp) | limit ${SURROUND + 1}`, start: ts, end: iso(t + 3600e3) }), (r) => after.push(r)),
      ]);
    } catch (e) {
      body.replaceChildren(errorBox(e, { query: q }));
      return;
    }
    const same = (r) => r.timestamp === row.timestamp && r.message === row.message;
    let dropped = false;
    const newer = after.filter((r) => (!dropped && same(r) ? (dropped = true, false) : true)).slice(0, SURROUND).reverse();
    const center = { ...row };
    const all = newer.concat([center], before);
    list.setRows(all, 'Nothing else in this stream.');
    list.expanded.add(center);
    list.relayout(true);
    const i = newer.length;
    body.dataset.center = String(i);
    list.scrollToRow(i);
  }

  openModal(title, body) {
    this.closeModal();
    const close = el('button', { type: 'button', 'aria-label': 'Close', onclick: () => this.closeModal() }, '✕');
    const modal = el('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true' }, el('header', null, title, close), body);
    this.modal = el('div', { class: 'modal-back', onclick: (e) => { if (e.target === this.modal) this.closeModal(); } }, modal);
    document.body.append(this.modal);
    close.focus();
  }

  closeModal() {
    if (this.modalList) {
      this.modalList.destroy();
      this.modalList = null;
    }
    if (this.modal) {
      this.modal.remove();
      this.modal = null;
    }
  }

  toggleLive(on = !this.live) {
    if (!on) {
      if (this.live) this.live.stop();
      this.live = null;
      this.liveBtn.classList.remove('on');
      this.pauseBtn.classList.add('hidden');
      this.liveInfo.classList.add('hidden');
      this.ctx.setParams(this.urlParams());
      return;
    }
    if (aggregatePipe(this.state.q)) {
      this.errEl.replaceChildren(errorBox(new Error('Live mode shows events: remove the stats pipe to follow them live.')));
      return;
    }
    const filter = filterPart(this.state.q);
    this.liveCount = 0;
    const dot = this.liveInfo.querySelector('.dot');
    const txt = this.liveInfo.querySelector('.txt');
    const show = (state, d) => {
      this.liveInfo.dataset.state = state;
      dot.classList.toggle('on', state === 'live');
      const n = this.liveCount ? ` · ${this.liveCount.toLocaleString()} new` : '';
      const what = {
        connecting: 'connecting…', live: 'live', paused: 'paused', reconnecting: 'reconnecting…',
        dropped: `live · the server skipped ${d && d.count} events (too fast)`,
        gap: 'live · some events while paused were too old to resume',
        error: `live stopped: ${d && d.error}`,
      }[state] || state;
      txt.textContent = what + n;
    };
    this.live = new LiveTail(filter, {
      onEvents: (rows) => {
        if (this.statsRows) return;
        for (const r of rows) this.liveRows.add(r);
        this.liveCount += rows.length;
        this.liveInList += rows.length;
        const counted = this.hist.addEvents(rows, isRelative(this.state.from, this.state.to));
        if (counted && this.hits.dataset.count !== undefined) {
          const total = Number(this.hits.dataset.count) + counted;
          this.hits.dataset.count = String(total);
          this.hits.textContent = `${total.toLocaleString()} ${total === 1 ? 'event' : 'events'}`;
        }
        this.rows = rows.concat(this.rows).slice(0, LIVE_MAX);
        this.list.prepend(rows, LIVE_MAX);
        show(this.live && this.live.es ? 'live' : 'paused');
      },
      onState: show,
    });
    this.liveBtn.classList.add('on');
    this.pauseBtn.classList.remove('hidden');
    this.pauseBtn.textContent = 'Pause';
    this.liveInfo.classList.remove('hidden');
    this.live.start();
    this.ctx.setParams(this.urlParams());
  }

  togglePause() {
    if (!this.live) return;
    if (this.live.es) {
      this.live.pause();
      this.pauseBtn.textContent = 'Resume';
    } else {
      this.live.resume();
      this.pauseBtn.textContent = 'Pause';
    }
  }

  // setExport points the export links at the server: the whole result of
  // the query over the resolved range, not only the rows listed, up to
  // total rows (the server caps the limit at its --query.max-limit).
  setExport(q, start, end, total) {
    const limit = total > 0 ? Math.min(total, EXPORT_MAX) : EXPORT_MAX;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const base = { q, start, end, limit };
    this.exportNDJSON.href = '/api/v1/query?' + qs(base);
    this.exportNDJSON.download = `logcaster-${stamp}.ndjson`;
    this.exportCSV.href = '/api/v1/query?' + qs({ ...base, format: 'csv' });
    this.exportCSV.download = `logcaster-${stamp}.csv`;
    const what = total > 0 ? `all ${total.toLocaleString()} matching` : 'the matching';
    for (const a of [this.exportNDJSON, this.exportCSV]) {
      a.title = `Download ${what} ${aggregatePipe(q) ? 'rows' : 'events'} from the server (at most its --query.max-limit, 100,000 by default)`;
    }
  }

  // export lets the link download from the server, except in live mode,
  // where the rows on screen (live ones included) are what is exported.
  export(e, kind) {
    if (!this.live) return;
    e.preventDefault();
    const rows = this.statsRows || this.list.rows;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    if (kind === 'csv') download(`logcaster-${stamp}.csv`, 'text/csv', toCSV(rows));
    else download(`logcaster-${stamp}.ndjson`, 'application/x-ndjson', toNDJSON(rows));
  }
}
