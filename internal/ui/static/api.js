// Talking to the server: JSON and NDJSON fetches that turn the server's
// {"error": "..."} answers into ApiError, and showError, which renders such
// an error in place: what failed, where in the query, and how to fix it.

// ApiError is a failed request: status is the HTTP status (0 when the
// server could not be reached), message the server's own words.
export class ApiError extends Error {
  constructor(message, status, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.path = path;
    const m = /at column (\d+)/.exec(message);
    this.column = m ? Number(m[1]) : 0;
  }
}

async function failure(resp, path) {
  let msg = `${resp.status} ${resp.statusText}`.trim();
  const text = await resp.text().catch(() => '');
  if (text) {
    try {
      const j = JSON.parse(text);
      if (j && typeof j.error === 'string') msg = j.error;
      else msg = text.trim();
    } catch {
      msg = text.trim().slice(0, 500);
    }
  }
  return new ApiError(msg, resp.status, path);
}

async function doFetch(path, init) {
  try {
    return await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`cannot reach the server (${e.message})`, 0, path);
  }
}

// getJSON fetches path and returns its parsed JSON body.
export async function getJSON(path, signal) {
  const resp = await doFetch(path, { headers: { Accept: 'application/json' }, signal });
  if (!resp.ok) throw await failure(resp, path);
  return resp.json();
}

// sendJSON sends body as JSON with method and returns the parsed answer
// (null for an empty one).
export async function sendJSON(method, path, body) {
  const resp = await doFetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!resp.ok) throw await failure(resp, path);
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

// streamNDJSON fetches path and calls onRow with each JSON line as it
// arrives; it resolves to the number of rows. A line {"error": "..."} (the
// server met an error after rows went out) rejects with ApiError, as does
// an error status. signal aborts the request.
export async function streamNDJSON(path, onRow, signal) {
  const resp = await doFetch(path, { headers: { Accept: 'application/x-ndjson' }, signal });
  if (!resp.ok) throw await failure(resp, path);
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let n = 0;
  const line = (s) => {
    if (!s) return;
    const row = JSON.parse(s);
    const keys = Object.keys(row);
    if (keys.length === 1 && keys[0] === 'error') throw new ApiError(row.error, 200, path);
    n++;
    onRow(row);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      line(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  buf += dec.decode();
  line(buf.trim());
  return n;
}

// hintFor says how to fix the query, by status and message.
function hintFor(err) {
  const m = err.message || '';
  if (err.status === 504 || /timed out/.test(m)) {
    return 'The query took too long. Narrow the time range, or add a selective filter (a field:value, a trace id, a rare word) before any pipe.';
  }
  if (err.status === 422 || /more than \d+ ?MiB|memory/i.test(m)) {
    return 'The query needs too much memory. Use a shorter time range, fewer or coarser "by" groups, or a lower limit.';
  }
  if (err.status === 429 || err.status === 503) {
    return 'The server is busy; try again in a moment.';
  }
  if (err.status === 0) {
    return 'Check that the LogCaster server is running and reachable.';
  }
  if (/unknown stats function/.test(m)) {
    return 'Stats functions: count(), count_uniq(f), sum(f), avg(f), min(f), max(f), quantile(0.9, f).';
  }
  if (/takes filters only|filters only/.test(m)) {
    return 'Remove the pipes ("| ...") for this view: it works on filters.';
  }
  if (err.column || /bad query|unexpected|expected/.test(m)) {
    return 'Check the query near the marked place. Quote values with spaces or symbols ("like this"), close every ( and ", and put pipes after the filters: level:ERROR | stats count() by (service).';
  }
  return '';
}

function titleFor(err) {
  switch (err.status) {
    case 400: return 'Bad request';
    case 404: return 'Not found';
    case 422: return 'Query too large';
    case 504: return 'Query timed out';
    case 0: return 'Server unreachable';
  }
  if (err.status >= 500) return `Server error (${err.status})`;
  if (err.status === 200) return 'The query stopped with an error';
  return 'Error';
}

// showError renders err into root, replacing what was there. With
// opts.query (the query text sent) and an error "at column N", it shows the
// query with the place underlined and a caret under it. It returns the box.
export function showError(root, err, opts = {}) {
  const box = errorBox(err, opts);
  root.replaceChildren(box);
  return box;
}

// errorBox builds the element showError shows, for pages that place it
// themselves.
export function errorBox(err, opts = {}) {
  if (!(err instanceof ApiError)) {
    err = new ApiError(err && err.message ? err.message : String(err), err && err.status || -1, '');
  }
  const box = document.createElement('div');
  box.className = 'error-box';
  box.setAttribute('role', 'alert');
  box.dataset.status = String(err.status);
  const h = document.createElement('h3');
  h.textContent = titleFor(err);
  const msg = document.createElement('div');
  msg.className = 'msg';
  msg.textContent = err.message;
  box.append(h, msg);
  if (opts.query && err.column > 0) {
    box.dataset.column = String(err.column);
    // Columns count characters (code points), as the server does.
    const chars = Array.from(opts.query);
    const at = Math.min(err.column - 1, chars.length);
    const where = document.createElement('div');
    where.className = 'where';
    const mark = document.createElement('mark');
    mark.textContent = at < chars.length ? chars[at] : ' ';
    where.append(chars.slice(0, at).join(''), mark, chars.slice(at + 1).join(''));
    const caret = document.createElement('div');
    caret.className = 'caret';
    caret.textContent = ' '.repeat(at) + '^ column ' + err.column;
    box.append(where, caret);
  }
  const hint = hintFor(err);
  if (hint) {
    const p = document.createElement('div');
    p.className = 'hint muted';
    p.textContent = hint;
    box.append(p);
  }
  return box;
}

// el is a small DOM builder: el('div', {class: 'x', onclick: f}, child...).
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// qs builds a query string, leaving out empty values.
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, v);
  }
  return p.toString();
}
