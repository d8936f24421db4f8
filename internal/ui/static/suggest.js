// The query box's helpers: autocomplete of field names, of values of a
// field (its top values, so only low-cardinality fields offer a useful
// list), of pipes after "|", and the history of queries run, kept in
// localStorage.

import { el } from './api.js';
import { quoteValue, PIPES } from './query.js';

const HISTORY_KEY = 'logcaster.history';
const HISTORY_MAX = 50;
const SHOW_MAX = 12;

export function loadHistory() {
  try {
    const h = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(h) ? h.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

export function remember(q) {
  q = (q || '').trim();
  if (!q || q === '*') return;
  const h = loadHistory().filter((s) => s !== q);
  h.unshift(q);
  try {
    localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX)));
  } catch { /* private mode: no history */ }
}

// tokenAt finds the token the caret is in: from the last space, "(" or
// "|" before the caret to the caret.
export function tokenAt(text, caret) {
  let i = caret;
  let quote = false;
  while (i > 0) {
    const c = text[i - 1];
    if (c === '"') quote = !quote;
    if (!quote && (c === ' ' || c === '(' || c === '\n' || c === '\t')) break;
    if (!quote && c === '|') break;
    i--;
  }
  // Right after "|", the word typed is a pipe's name.
  const afterPipe = /\|\s*[a-z_]*$/.test(text.slice(0, caret));
  return { start: i, token: text.slice(i, caret), afterPipe };
}

export class Autocomplete {
  // input is the textarea; fields() returns [{name, hits}]; values(name)
  // resolves to [{value, hits}].
  constructor(input, { fields, values }) {
    this.input = input;
    this.fields = fields;
    this.values = values;
    this.items = [];
    this.sel = -1;
    this.list = el('ul', { class: 'suggest hidden', role: 'listbox', id: 'q-suggest' });
    input.setAttribute('aria-controls', 'q-suggest');
    input.after(this.list);
    this.seq = 0;
    input.addEventListener('input', () => this.update());
    input.addEventListener('focus', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
  }

  get isOpen() {
    return !this.list.classList.contains('hidden');
  }

  close() {
    this.list.classList.add('hidden');
    this.items = [];
    this.sel = -1;
  }

  // key handles a keydown; it returns true when it used the key.
  key(e) {
    if (!this.isOpen || !this.items.length) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const n = this.items.length;
      this.sel = e.key === 'ArrowDown' ? (this.sel + 1) % n : (this.sel - 1 + n) % n;
      this.paint();
      return true;
    }
    if ((e.key === 'Enter' && this.sel >= 0) || (e.key === 'Tab' && !e.shiftKey)) {
      this.apply(this.items[Math.max(0, this.sel)]);
      return true;
    }
    if (e.key === 'Escape') {
      this.close();
      return true;
    }
    return false;
  }

  async update() {
    const seq = ++this.seq;
    const text = this.input.value;
    const caret = this.input.selectionStart;
    const { start, token, afterPipe } = tokenAt(text, caret);
    let items = [];
    const neg = token.startsWith('-') ? '-' : '';
    const tok = token.slice(neg.length);
    const colon = tok.indexOf(':');
    if (afterPipe) {
      items = PIPES.filter((p) => p.startsWith(tok)).map((p) => ({ label: p, kind: 'pipe', start, end: caret, text: p }));
    } else if (colon > 0) {
      const field = tok.slice(0, colon);
      const partial = tok.slice(colon + 1).replace(/^[=~]/, '').replace(/^"/, '').toLowerCase();
      const vals = await this.values(field);
      if (seq !== this.seq) return;
      items = vals
        .filter((v) => v.value.toLowerCase().startsWith(partial))
        .map((v) => ({ label: v.value, kind: v.hits.toLocaleString(), start, end: caret, text: `${neg}${field}:=${quoteValue(v.value)} ` }));
    } else {
      const p = tok.toLowerCase();
      if (p) {
        items = this.fields()
          .filter((f) => f.name.toLowerCase().startsWith(p) && f.name !== 'timestamp')
          .map((f) => ({ label: f.name + ':', kind: 'field', start, end: caret, text: `${neg}${f.name}:` }));
      }
      if (caret === text.length) {
        const hist = loadHistory().filter((h) => h !== text && h.startsWith(text)).slice(0, 6);
        items = items.concat(hist.map((h) => ({ label: h, kind: 'history', start: 0, end: text.length, text: h })));
      }
    }
    this.items = items.slice(0, SHOW_MAX);
    this.sel = -1;
    if (!this.items.length || document.activeElement !== this.input) {
      this.close();
      return;
    }
    this.paint();
    this.list.classList.remove('hidden');
  }

  paint() {
    this.list.replaceChildren(...this.items.map((it, i) => el('li', {
      class: i === this.sel ? 'sel' : '', role: 'option', 'aria-selected': String(i === this.sel),
      onclick: () => this.apply(it),
    }, el('span', { class: 'mono' }, it.label), el('span', { class: 'kind' }, it.kind))));
  }

  apply(it) {
    const v = this.input.value;
    this.input.value = v.slice(0, it.start) + it.text + v.slice(it.end);
    const caret = it.start + it.text.length;
    this.input.setSelectionRange(caret, caret);
    this.input.focus();
    this.close();
    if (it.text.endsWith(':')) this.update();
  }
}
