// The field sidebar: the fields of the matching events and, per field,
// its most frequent values with their counts. Clicking a value adds
// field:=value to the query; the "−" beside it adds -field:=value.
// Names and values both come from a sample of the newest matching events:
// one /api/v1/field_names request brings the names and the values of the
// open fields (?values=), /api/v1/field_values?sample= a field opened
// later. Exact counts over a million matching events cost a full scan per
// field (~300 ms each, measured on the 1M corpus) on every search; the
// one sampled request costs tens of ms.
// The page loads the sidebar after its results and cancels it when a new
// search starts.

import { getJSON, qs, el, errorBox } from './api.js';

// OPEN are the fields shown open without a click, when present.
const OPEN = ['level', 'service', 'index', 'host'];
// HIDDEN are fields whose values are not worth listing.
const NO_VALUES = new Set(['message', 'timestamp', '_time']);
const VALUES_LIMIT = 10;
// SAMPLE is how many of the newest matching events names and values are
// counted over: a few screens of results.
const SAMPLE = 2000;
// FIND_AFTER is how many fields the sidebar lists before it offers a box
// to find one by name.
const FIND_AFTER = 12;

// share says what part of the sample a value's hits are: the counts are
// of a sample, so a share reads right where a count of 2,000 beside a
// total of 1,000,000 would not.
function share(hits, of) {
  const p = (100 * hits) / (of || 1);
  return p >= 1 || p === 0 ? `${Math.round(p)}%` : '<1%';
}

export class FieldSidebar {
  constructor(root, { onFilter }) {
    this.root = root;
    this.onFilter = onFilter;
    this.names = [];
    this.open = new Set(OPEN);
    this.req = null;
    this.abort = null;
  }

  // clear cancels what the sidebar is fetching and shows it loading.
  clear() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    this.root.replaceChildren(el('h4', null, 'Fields'), el('div', { class: 'muted small' }, 'Loading…'));
  }

  // load fetches the field names of a filter query over [start, end) (ISO)
  // and the values of the open fields; it resolves when all are shown.
  async load(req) {
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.req = req;
    this.root.replaceChildren(el('h4', null, 'Fields'), el('div', { class: 'muted small' }, 'Loading…'));
    let names;
    try {
      const values = [...this.open].filter((f) => !NO_VALUES.has(f)).join(',');
      names = await getJSON('/api/v1/field_names?' + qs({ q: req.q, start: req.start, end: req.end, sample: SAMPLE, values, values_limit: VALUES_LIMIT }), signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      // The same error shows in full next to the query box (the field
      // queries run the same filter); here a line is enough.
      this.root.replaceChildren(el('h4', null, 'Fields'), el('div', { class: 'muted small field-error' }, 'No fields: ' + e.message));
      return;
    }
    if (signal.aborted) return;
    this.names = names;
    this.sampled = names.reduce((m, n) => Math.max(m, n.hits), 0) || 1;
    const list = el('div', { class: 'fieldlist' });
    for (const { name, hits, values } of names) {
      if (name === 'timestamp') continue;
      list.append(this.fieldEl(name, hits, values, signal));
    }
    if (!names.length) list.append(el('div', { class: 'muted small' }, 'No fields: nothing matches.'));
    let find = null;
    if (names.length > FIND_AFTER) {
      find = el('input', {
        type: 'search', class: 'findfield', placeholder: 'Find a field', 'aria-label': 'Find a field',
        oninput: () => {
          const f = find.value.trim().toLowerCase();
          for (const box of list.children) box.classList.toggle('hidden', !!f && !(box.dataset.field || '').toLowerCase().includes(f));
        },
      });
    }
    this.root.replaceChildren(...[el('h4', null, 'Fields'), find, list].filter(Boolean));
  }

  fieldEl(name, hits, values, signal) {
    const vals = el('ul', { class: 'fvals' });
    const box = el('div', { class: 'field', dataset: { field: name } });
    const head = el('button', {
      class: 'fname', type: 'button', title: `${hits} of the ${this.sampled} newest matching events have ${name}`,
      'aria-expanded': String(this.open.has(name)),
      onclick: () => {
        if (this.open.has(name)) {
          this.open.delete(name);
          vals.replaceChildren();
          head.setAttribute('aria-expanded', 'false');
        } else {
          this.open.add(name);
          head.setAttribute('aria-expanded', 'true');
          this.loadValues(name, vals, signal);
        }
      },
    }, el('span', { class: 'mono' }, name), el('span', { class: 'muted small' }, Math.round((100 * hits) / this.sampled) + '%'));
    box.append(head, vals);
    if (this.open.has(name) && values) this.showValues(name, vals, values);
    else if (this.open.has(name)) this.loadValues(name, vals, signal);
    return box;
  }

  async loadValues(name, ul, signal) {
    if (NO_VALUES.has(name)) {
      ul.replaceChildren(el('li', { class: 'muted' }, 'free text: search words instead'));
      return;
    }
    ul.replaceChildren(el('li', { class: 'muted' }, '…'));
    const r = this.req;
    let vals;
    try {
      vals = await getJSON('/api/v1/field_values?' + qs({ field: name, q: r.q, start: r.start, end: r.end, limit: VALUES_LIMIT, sample: SAMPLE }), signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      ul.replaceChildren(el('li', null, errorBox(e)));
      return;
    }
    if (signal.aborted) return;
    this.showValues(name, ul, vals);
  }

  showValues(name, ul, vals) {
    const max = vals.reduce((m, v) => Math.max(m, v.hits), 1);
    ul.replaceChildren(...vals.map(({ value, hits }) => {
      const bar = el('span', { class: 'bar' });
      bar.style.width = ((hits / max) * 100).toFixed(1) + '%';
      return el('li', { dataset: { field: name, value } },
        el('button', { class: 'fval', type: 'button', title: `Add ${name}:${value}`, onclick: () => this.onFilter(name, value, false) }, value, bar),
        el('span', { class: 'muted', title: `${hits.toLocaleString()} of the ${this.sampled.toLocaleString()} newest matching events` }, share(hits, this.sampled)),
        el('button', { class: 'neg', type: 'button', title: `Exclude ${name}:${value}`, 'aria-label': `exclude ${name} ${value}`, onclick: () => this.onFilter(name, value, true) }, '−'));
    }));
    if (!vals.length) ul.replaceChildren(el('li', { class: 'muted' }, 'no values'));
  }

  // valuesFor returns top values of a field for autocomplete (cached per
  // request).
  async valuesFor(name) {
    if (!this.req) return [];
    this.valueCache = this.valueCache && this.valueCache.req === this.req ? this.valueCache : { req: this.req, m: new Map() };
    const m = this.valueCache.m;
    if (!m.has(name)) {
      const r = this.req;
      // A field whose most frequent values are each seen once (ids,
      // timestamps) has nothing worth offering.
      m.set(name, getJSON('/api/v1/field_values?' + qs({ field: name, q: r.q, start: r.start, end: r.end, limit: 50, sample: SAMPLE }))
        .then((vals) => (vals.length >= 20 && vals[0].hits <= 1 ? [] : vals))
        .catch(() => []));
    }
    return m.get(name);
  }
}
