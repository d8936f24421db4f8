// The Issues page: grouped errors with their count, users, a sparkline of
// the last 24 hours, first and last seen, and status; filters (status,
// project, a query over issue fields, sort) kept in the URL
// (#/issues?status=&project=&q=&sort=), and bulk resolve/ignore.
//
// Keyboard: j/k move between issues, x selects, Enter or o opens, r and i
// resolve or ignore the selected issues (the current one when none is
// selected), / focuses the query box, Esc clears the selection. Tab
// reaches each first/last seen time, which then shows its absolute time.
//
// The list refreshes itself every 10 s (not while the tab is hidden or a
// bulk change runs), keeping the selection, the keyboard cursor, the
// focused element and the scroll position.
//
// The helpers the issue page shares (sparkline, times, status badges,
// the stylesheet) are exported from here.

import { getJSON, sendJSON, errorBox, el, qs } from './api.js';

// ensureStyles links issues.css once; the Issues, issue and Status pages
// call it, so the search page never pays for their styles.
export function ensureStyles() {
  if (document.querySelector('link[data-issues-css]')) return;
  document.head.append(el('link', { rel: 'stylesheet', href: '/static/issues.css', 'data-issues-css': '' }));
}

// fill replaces node's children with kids, leaving out null, undefined and
// false (replaceChildren itself would print them as text).
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  return node;
}

const svgNS = 'http://www.w3.org/2000/svg';

// sparkline draws counts (oldest first) as an SVG bar chart of w×h pixels.
// Empty hours get a 1-pixel baseline tick, so a quiet day still reads as a
// timeline rather than as nothing drawn.
export function sparkline(counts, w = 96, h = 24) {
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('role', 'img');
  const vals = counts && counts.length ? counts : [0];
  const total = vals.reduce((a, b) => a + b, 0);
  const label = `${total} event${total === 1 ? '' : 's'} in the last ${vals.length} hours`;
  svg.setAttribute('aria-label', label);
  const title = document.createElementNS(svgNS, 'title');
  title.textContent = label;
  svg.append(title);
  const max = Math.max(1, ...vals);
  const bw = w / vals.length;
  vals.forEach((v, i) => {
    const r = document.createElementNS(svgNS, 'rect');
    const bh = v > 0 ? Math.max(2, Math.round((v / max) * (h - 1))) : 1;
    r.setAttribute('x', (i * bw + 0.5).toFixed(1));
    r.setAttribute('width', Math.max(1, bw - 1).toFixed(1));
    r.setAttribute('y', String(h - bh));
    r.setAttribute('height', String(bh));
    if (v === 0) r.setAttribute('class', 'zero');
    svg.append(r);
  });
  return svg;
}

// ago says how long before now an instant was, in the largest unit that
// fits: "just now", "5 min ago", "3 h ago", "2 d ago".
export function ago(ms, now = Date.now()) {
  const s = Math.round((now - ms) / 1000);
  if (!Number.isFinite(s)) return '—';
  if (s < 0) return 'in the future';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 60) return `${Math.round(s / 86400)} d ago`;
  return new Date(ms).toLocaleDateString();
}

// timeEl is a <time> showing ago() with the absolute local time on hover
// and, as it is focusable, to the keyboard (issues.css shows the title of
// a focused time) and to screen readers (aria-label, prefixed by label).
export function timeEl(isoStr, label = '') {
  const ms = Date.parse(isoStr);
  const abs = Number.isFinite(ms) ? new Date(ms).toLocaleString() : isoStr;
  const rel = ago(ms);
  return el('time', {
    datetime: isoStr, title: abs, tabindex: '0',
    'aria-label': `${label ? label + ' ' : ''}${rel}, ${abs}`,
  }, rel);
}

// statusBadge shows an issue's status, and "regressed" beside it.
export function statusBadge(is) {
  let text = is.status;
  if (is.in_next_release) text += ' (next release)';
  if (is.status === 'ignored' && is.ignore_until_count) text += ` (until ${is.ignore_until_count} events)`;
  const out = [el('span', { class: 'st st-' + is.status, dataset: { status: is.status } }, text)];
  if (is.regressed) out.push(' ', el('span', { class: 'st st-regressed' }, 'regressed'));
  return el('span', { class: 'status' }, out);
}

export function levelBadge(level) {
  const lv = String(level || '').toUpperCase();
  return el('span', { class: 'lv lv-' + (lv === 'WARNING' ? 'WARN' : lv) }, lv || '—');
}

// patchStatus sets an issue's status; change is the PATCH body
// ({status, in_next_release, ignore_count}). It returns the issue.
export function patchStatus(id, change) {
  return sendJSON('PATCH', '/api/v1/issues/' + encodeURIComponent(id), change);
}

const STATUSES = [
  ['unresolved', 'Unresolved'],
  ['resolved', 'Resolved'],
  ['ignored', 'Ignored'],
  ['all', 'All'],
];
const SORTS = [
  ['last_seen', 'Last seen'],
  ['first_seen', 'First seen'],
  ['count', 'Events'],
];

// listLimit is how many issues one page shows; the server caps it at 1000.
const listLimit = 200;

// REFRESH_MS is how often the list refreshes itself; tests shorten it
// with window.lcIssuesRefreshMs before the page renders.
const REFRESH_MS = 10000;

// isTyping: keys typed into a text field are text, not shortcuts.
// Checkboxes and buttons are not text fields: j/k work from them.
const isTyping = (t) => t && (t.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(t.type) ||
  t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);

export async function render(root, params, ctx) {
  ensureStyles();
  const state = {
    status: params.status || 'unresolved',
    project: params.project || '',
    q: params.q || '',
    sort: params.sort || 'last_seen',
  };
  let issues = [];
  const selected = new Set();
  let cur = -1; // index of the keyboard cursor in issues
  let alive = true;

  const option = ([v, label], chosen) => el('option', { value: v, selected: v === chosen }, label);
  const statusSel = el('select', { id: 'f-status', 'aria-label': 'Status' }, STATUSES.map((s) => option(s, state.status)));
  const projectSel = el('select', { id: 'f-project', 'aria-label': 'Project' }, el('option', { value: '' }, 'All projects'));
  if (state.project) projectSel.append(el('option', { value: state.project, selected: true }, state.project));
  const sortSel = el('select', { id: 'f-sort', 'aria-label': 'Sort' }, SORTS.map((s) => option(s, state.sort)));
  const qInput = el('input', {
    type: 'search', id: 'f-q', value: state.q, 'aria-label': 'Filter issues',
    placeholder: 'title words, is:regressed, level:fatal, release:1.2, -culprit:vendor',
  });
  const form = el('form', { class: 'filters', role: 'search' },
    el('label', null, 'Status', statusSel),
    el('label', null, 'Project', projectSel),
    el('label', { class: 'grow' }, 'Query', qInput),
    el('label', null, 'Sort', sortSel),
    el('button', { type: 'submit', class: 'primary' }, 'Apply'));

  const allBox = el('input', { type: 'checkbox', id: 'sel-all', 'aria-label': 'Select all issues' });
  const selCount = el('span', { class: 'muted', id: 'sel-count' }, '');
  const resolveBtn = el('button', { type: 'button', id: 'bulk-resolve', disabled: true }, 'Resolve');
  const ignoreBtn = el('button', { type: 'button', id: 'bulk-ignore', disabled: true }, 'Ignore');
  const unresolveBtn = el('button', { type: 'button', id: 'bulk-unresolve', disabled: true }, 'Unresolve');
  const bulk = el('div', { class: 'bulk' }, el('label', null, allBox, ' all'), resolveBtn, ignoreBtn, unresolveBtn, selCount);

  const total = el('span', { id: 'issues-total', class: 'muted' }, '…');
  const updated = el('span', { id: 'issues-updated', class: 'muted small', 'aria-live': 'off' });
  const msg = el('div', { id: 'issues-msg' });
  const list = el('ul', { class: 'ilist', id: 'issues', 'aria-label': 'Issues' });
  root.replaceChildren(el('div', { class: 'ipage issues' },
    el('div', { class: 'pagehead' }, el('h2', null, 'Issues'), total, updated, el('span', { class: 'spacer' }),
      el('span', { class: 'keys' }, el('kbd', null, 'j'), '/', el('kbd', null, 'k'), ' move · ', el('kbd', null, 'x'), ' select · ',
        el('kbd', null, 'Enter'), ' open · ', el('kbd', null, 'r'), ' resolve · ', el('kbd', null, 'i'), ' ignore')),
    form, bulk, msg, list));

  // Projects fill the filter in the background; a failure leaves "All".
  getJSON('/api/v1/projects').then((ans) => {
    if (!alive) return;
    for (const p of (ans && ans.projects) || []) {
      if (p.name !== state.project) projectSel.append(el('option', { value: p.name }, p.name));
    }
  }).catch(() => {});

  const apply = () => {
    state.status = statusSel.value;
    state.project = projectSel.value;
    state.q = qInput.value.trim();
    state.sort = sortSel.value;
    ctx.setParams({
      status: state.status === 'unresolved' ? '' : state.status,
      project: state.project, q: state.q, sort: state.sort === 'last_seen' ? '' : state.sort,
    });
    load();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  for (const s of [statusSel, projectSel, sortSel]) s.addEventListener('change', apply);

  const updateBulk = () => {
    const n = selected.size;
    for (const b of [resolveBtn, ignoreBtn, unresolveBtn]) b.disabled = n === 0;
    selCount.textContent = n ? `${n} selected` : '';
    allBox.checked = n > 0 && n === issues.length;
    allBox.indeterminate = n > 0 && n < issues.length;
    for (const li of list.querySelectorAll('li[data-id]')) {
      const on = selected.has(li.dataset.id);
      li.classList.toggle('sel', on);
      li.querySelector('input[type=checkbox]').checked = on;
    }
  };

  const row = (is, i) => {
    const box = el('input', { type: 'checkbox', 'aria-label': 'Select ' + is.short_id });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(is.id); else selected.delete(is.id);
      cur = i;
      updateBulk();
    });
    const link = el('a', { class: 'title', href: ctx.buildHash('issue', { id: is.short_id || is.id }), title: is.title }, is.title);
    link.addEventListener('focus', () => setCursor(i, false));
    return el('li', { dataset: { id: is.id, shortId: is.short_id, count: String(is.count) } },
      el('span', { class: 'c-chk' }, box),
      el('div', { class: 'what' },
        link,
        el('div', { class: 'culprit' }, is.culprit || '—'),
        el('div', { class: 'meta' }, levelBadge(is.level), el('span', { class: 'mono' }, is.short_id), is.project ? el('span', null, is.project) : null)),
      el('span', { class: 'c-spark' }, sparkline(is.hourly || [])),
      el('span', { class: 'num c-count', title: 'events' }, String(is.count)),
      el('span', { class: 'num c-users', title: is.user_count_capped ? 'users (at least)' : 'users' }, String(is.user_count) + (is.user_count_capped ? '+' : '')),
      el('span', { class: 'seen' }, el('div', null, 'last ', timeEl(is.last_seen, 'last seen')), el('div', null, 'first ', timeEl(is.first_seen, 'first seen'))),
      el('span', { class: 'c-status' }, statusBadge(is)));
  };

  const head = () => el('li', { class: 'head', 'aria-hidden': 'true' },
    el('span'), el('span', null, 'Issue'), el('span', null, 'Last 24 h'), el('span', { class: 'num' }, 'Events'),
    el('span', { class: 'num' }, 'Users'), el('span', null, 'Seen'), el('span', null, 'Status'));

  const setCursor = (i, focus = true) => {
    if (!issues.length) return;
    cur = Math.max(0, Math.min(issues.length - 1, i));
    const lis = list.querySelectorAll('li[data-id]');
    lis.forEach((li, k) => li.classList.toggle('cur', k === cur));
    if (focus) {
      lis[cur].querySelector('a.title').focus();
      lis[cur].scrollIntoView({ block: 'nearest' });
    }
  };

  // focusKey names the focused element of the list by its issue and its
  // place in the row, so a refresh can focus its replacement.
  const focusKey = () => {
    const a = document.activeElement;
    const li = a && a !== list && list.contains(a) ? a.closest('li[data-id]') : null;
    if (!li) return null;
    const all = [...li.querySelectorAll('a, input, button, [tabindex]')];
    return { id: li.dataset.id, at: all.indexOf(a) };
  };
  const refocus = (key) => {
    if (!key) return;
    const li = [...list.querySelectorAll('li[data-id]')].find((x) => x.dataset.id === key.id);
    const target = li && [...li.querySelectorAll('a, input, button, [tabindex]')][key.at];
    if (target) target.focus({ preventScroll: true });
  };

  let seq = 0;
  let busy = false; // a bulk change is running
  let refreshes = 0;
  // badQuery: the filters are wrong (400); refreshing cannot help until
  // they change, and would only repeat the error.
  let badQuery = false;
  // load fetches the list; quiet (a refresh) keeps what the reader is
  // doing: no busy state, the cursor on the same issue, focus and scroll
  // where they were, and the page's message left alone.
  async function load({ quiet = false } = {}) {
    const my = ++seq;
    if (!quiet) {
      msg.replaceChildren();
      list.setAttribute('aria-busy', 'true');
    }
    const query = qs({
      status: state.status === 'all' ? '' : state.status, project: state.project,
      q: state.q, sort: state.sort, limit: listLimit,
    });
    let ans;
    try {
      ans = await getJSON('/api/v1/issues?' + query);
    } catch (e) {
      if (!alive || my !== seq) return;
      badQuery = e.status === 400;
      // A failed refresh leaves the list as it was and says so.
      if (quiet) {
        updated.textContent = ` · refresh failed: ${e.message}`;
        return;
      }
      list.removeAttribute('aria-busy');
      total.textContent = '';
      list.replaceChildren();
      msg.replaceChildren(errorBox(e));
      if (e.status === 400) {
        msg.firstChild.append(el('div', { class: 'hint muted' },
          'Issue queries take words of the title or culprit, "quoted phrases", field:value (title, culprit, type, level, project, status, short_id, release, environment, server_name), is:unresolved|resolved|ignored|regressed, and -term or NOT term.'));
      }
      return;
    }
    if (!alive || my !== seq) return;
    badQuery = false;
    list.removeAttribute('aria-busy');
    const curId = cur >= 0 && issues[cur] ? issues[cur].id : null;
    const focused = quiet ? focusKey() : null;
    const scroller = document.scrollingElement;
    const scrollTop = scroller ? scroller.scrollTop : 0;
    const listTop = list.scrollTop;
    issues = ans.issues || [];
    if (quiet && curId) {
      const k = issues.findIndex((is) => is.id === curId);
      if (k >= 0) cur = k;
    }
    const n = ans.total || 0;
    total.textContent = n === issues.length ? `${n} issue${n === 1 ? '' : 's'}` : `${issues.length} of ${n} issues`;
    total.dataset.total = String(n);
    for (const id of [...selected]) if (!issues.some((is) => is.id === id)) selected.delete(id);
    if (!issues.length) {
      list.replaceChildren(el('li', { class: 'empty' }, state.q || state.project || state.status !== 'all'
        ? 'No issues match these filters.' : 'No issues yet: errors sent by Sentry SDKs, and ERROR logs with a stack trace, appear here.'));
    } else {
      list.replaceChildren(head(), ...issues.map(row));
    }
    if (cur >= issues.length) cur = issues.length - 1;
    if (cur >= 0) setCursor(cur, false);
    updateBulk();
    if (quiet) {
      refocus(focused);
      if (scroller) scroller.scrollTop = scrollTop;
      list.scrollTop = listTop;
      refreshes++;
    }
    list.dataset.refreshes = String(refreshes);
    const at = new Date();
    updated.textContent = ` · updated ${at.toLocaleTimeString()}`;
    updated.title = `The list refreshes itself every ${Math.round(refreshMs / 1000)} s`;
  }

  const refreshMs = Number(window.lcIssuesRefreshMs) > 0 ? Number(window.lcIssuesRefreshMs) : REFRESH_MS;
  const timer = setInterval(() => {
    if (!alive || busy || badQuery || document.hidden) return;
    load({ quiet: true });
  }, refreshMs);

  // bulkSet PATCHes each chosen issue; failures are listed in place and
  // the list reloads either way, so it shows what the server now holds.
  async function bulkSet(change, ids) {
    if (!ids.length) return;
    for (const b of [resolveBtn, ignoreBtn, unresolveBtn]) b.disabled = true;
    busy = true;
    const results = await Promise.allSettled(ids.map((id) => patchStatus(id, change))).finally(() => { busy = false; });
    if (!alive) return;
    const failed = results.map((r, k) => [r, ids[k]]).filter(([r]) => r.status === 'rejected');
    selected.clear();
    await load();
    if (failed.length) {
      const box = errorBox(failed[0][0].reason);
      box.querySelector('h3').textContent = `${failed.length} of ${ids.length} issues could not be set to ${change.status}`;
      msg.replaceChildren(box);
    } else {
      msg.replaceChildren(el('div', { class: 'muted', role: 'status' }, `${ids.length} issue${ids.length === 1 ? '' : 's'} set to ${change.status}.`));
    }
  }
  const chosen = () => (selected.size ? [...selected] : cur >= 0 && issues[cur] ? [issues[cur].id] : []);
  resolveBtn.addEventListener('click', () => bulkSet({ status: 'resolved' }, [...selected]));
  ignoreBtn.addEventListener('click', () => bulkSet({ status: 'ignored' }, [...selected]));
  unresolveBtn.addEventListener('click', () => bulkSet({ status: 'unresolved' }, [...selected]));
  allBox.addEventListener('change', () => {
    selected.clear();
    if (allBox.checked) for (const is of issues) selected.add(is.id);
    updateBulk();
  });

  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target)) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    switch (e.key) {
      case 'j': case 'ArrowDown': setCursor(cur + 1); break;
      case 'k': case 'ArrowUp': setCursor(cur - 1); break;
      case 'x':
        if (cur >= 0 && issues[cur]) {
          const id = issues[cur].id;
          if (selected.has(id)) selected.delete(id); else selected.add(id);
          updateBulk();
        }
        break;
      case 'o': case 'Enter':
        if (cur >= 0 && issues[cur] && !(e.key === 'Enter' && e.target.tagName === 'A')) {
          ctx.navigate('issue', { id: issues[cur].short_id || issues[cur].id });
        } else return;
        break;
      case 'r': bulkSet({ status: 'resolved' }, chosen()); break;
      case 'i': bulkSet({ status: 'ignored' }, chosen()); break;
      case 'u': bulkSet({ status: 'unresolved' }, chosen()); break;
      case '/': qInput.focus(); qInput.select(); break;
      case 'Escape': selected.clear(); updateBulk(); break;
      default: return;
    }
    e.preventDefault();
  };
  document.addEventListener('keydown', onKey);

  await load();
  return () => {
    alive = false;
    clearInterval(timer);
    document.removeEventListener('keydown', onKey);
  };
}
