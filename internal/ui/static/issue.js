// The issue page (#/issues/ID?event=EVENT_ID): the issue's title, level,
// status with its actions, counts and sparkline, tags with counts, and its
// kept events one at a time, newest first, each with its stack trace and
// the request logs of its trace. "Request logs" opens Search on the
// event's trace_id over a range around the event, in one click: it is a
// plain link, ready as soon as the page is drawn.
//
// Keyboard: n / p (or → / ←) older and newer event, l opens the request
// logs, r resolve, i ignore, u unresolve, Esc back to the list.

import { getJSON, errorBox, showError, el } from './api.js';
import { ensureStyles, fill, sparkline, timeEl, statusBadge, levelBadge, patchStatus } from './issues.js';

// traceMarginMs widens the Search range around the event and its request
// logs: a request's logs come from before the error (the request began
// earlier) and sometimes after it (retries, cleanup), and clocks of
// different hosts disagree by seconds to minutes.
const traceMarginMs = 15 * 60 * 1000;

// previewLogs is how many request logs the page lists itself; Search shows
// them all.
const previewLogs = 20;

// isTyping: keys typed into a text field are text, not shortcuts.
// Checkboxes and buttons are not text fields: j/k work from them.
const isTyping = (t) => t && (t.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(t.type) ||
  t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);

// searchLink is the Search page's hash for an event's trace: the exact
// trace_id filter over [first - margin, last + margin], where first and
// last span the event and the request logs already known.
export function searchLink(traceID, times) {
  const ok = times.filter(Number.isFinite);
  const lo = Math.min(...ok) - traceMarginMs;
  const hi = Math.max(...ok) + traceMarginMs;
  const q = 'trace_id:' + JSON.stringify(traceID);
  const p = new URLSearchParams({ q });
  if (ok.length) {
    p.set('from', new Date(lo).toISOString());
    p.set('to', new Date(hi).toISOString());
  }
  return '#/search?' + p.toString();
}

// foldFrames splits frames (innermost first) into runs: in-app frames are
// shown, each run of other frames is folded. With no in-app frame at all
// nothing is folded, since folding would hide the whole trace.
export function foldFrames(frames) {
  if (!frames.some((f) => f.in_app)) return [{ fold: false, frames }];
  const runs = [];
  for (const f of frames) {
    const fold = !f.in_app;
    const last = runs[runs.length - 1];
    if (last && last.fold === fold) last.frames.push(f);
    else runs.push({ fold, frames: [f] });
  }
  return runs;
}

function frameEl(f) {
  const where = [f.module, f.filename && f.filename !== f.module ? f.filename + (f.lineno ? ':' + f.lineno : '') : (f.lineno ? 'line ' + f.lineno : '')]
    .filter(Boolean).join(' · ');
  return el('li', { class: f.in_app ? 'inapp' : 'lib', dataset: { inApp: f.in_app ? '1' : '0' } },
    el('span', { class: 'fn' }, f.function || '?'), where ? el('span', null, '  ', where) : null);
}

// stackTrace draws an event's exceptions, the raised one first, each with
// its frames innermost first (most recent call first).
function stackTrace(ev) {
  const excs = (ev.exceptions || []).slice().reverse();
  if (!excs.length) {
    return el('div', { class: 'muted' }, ev.message ? 'No stack trace; the event is a message.' : 'No stack trace.');
  }
  return el('div', { class: 'stack' }, excs.map((ex, k) => {
    const frames = (ex.frames || []).slice().reverse();
    const items = [];
    for (const run of foldFrames(frames)) {
      if (!run.fold) {
        items.push(...run.frames.map(frameEl));
        continue;
      }
      const inner = el('ol', { hidden: true }, run.frames.map(frameEl));
      const n = run.frames.length;
      const btn = el('button', { type: 'button', 'aria-expanded': 'false', class: 'fold-toggle' }, `${n} more frame${n === 1 ? '' : 's'}`);
      btn.addEventListener('click', () => {
        const open = inner.hidden;
        inner.hidden = !open;
        btn.setAttribute('aria-expanded', String(open));
        btn.textContent = open ? `hide ${n} frame${n === 1 ? '' : 's'}` : `${n} more frame${n === 1 ? '' : 's'}`;
      });
      items.push(el('li', { class: 'fold' }, btn, inner));
    }
    return el('div', { class: 'exc' },
      k > 0 ? el('div', { class: 'muted small' }, 'caused by') : null,
      el('div', { class: 'etype' }, ex.type || 'Error', ex.module ? el('span', { class: 'muted' }, ' (' + ex.module + ')') : null),
      ex.value ? el('div', { class: 'evalue' }, ex.value) : null,
      frames.length ? el('ol', { class: 'frames' }, items) : el('div', { class: 'muted small' }, 'no frames'));
  }));
}

function kvTable(pairs) {
  return el('table', { class: 'kv' }, el('tbody', null, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => el('tr', null, el('td', { class: 'k' }, k), el('td', { class: 'v' }, v)))));
}

function tagsEl(is) {
  const keys = Object.keys(is.tags || {}).sort();
  if (!keys.length) return el('div', { class: 'muted' }, 'No tags.');
  return el('div', { class: 'tags' }, keys.map((k) => el('div', { dataset: { tag: k } },
    el('h4', null, k),
    el('ul', null, is.tags[k].map((t) => el('li', { title: `${t.value}: ${t.count} of ${is.count} events` },
      el('span', { class: 'val' }, el('span', { class: 'bar', style: `width:${Math.min(100, (100 * t.count) / Math.max(1, is.count)).toFixed(1)}%` }), t.value),
      el('span', { class: 'n' }, String(t.count))))))));
}

const STATUS_ACTIONS = [
  { key: 'resolve', label: 'Resolve', change: { status: 'resolved' }, current: (is) => is.status === 'resolved' && !is.in_next_release },
  { key: 'resolve-next', label: 'Resolve in next release', change: { status: 'resolved', in_next_release: true }, current: (is) => is.status === 'resolved' && !!is.in_next_release },
  { key: 'ignore', label: 'Ignore', change: { status: 'ignored' }, current: (is) => is.status === 'ignored' },
  { key: 'unresolve', label: 'Unresolve', change: { status: 'unresolved' }, current: (is) => is.status === 'unresolved' },
];

// IGNORE_FOR are the choices of how long Ignore lasts, as ignore_count.
const IGNORE_FOR = [
  ['', 'forever'],
  ['10', 'until 10 more events'],
  ['100', 'until 100 more events'],
  ['1000', 'until 1,000 more events'],
];

export async function render(root, params, ctx) {
  ensureStyles();
  const id = params.id || '';
  let alive = true;
  let issue;
  let events;
  try {
    [issue, { events }] = await Promise.all([
      getJSON('/api/v1/issues/' + encodeURIComponent(id)),
      getJSON('/api/v1/issues/' + encodeURIComponent(id) + '/events'),
    ]);
  } catch (e) {
    const box = showError(root, e);
    if (e.status === 404) box.append(el('div', { class: 'hint muted' }, 'The issue may have been merged away or the link is wrong. ', el('a', { href: '#/issues' }, 'Back to the issues')));
    return undefined;
  }
  events = events || [];
  let pos = Math.max(0, events.findIndex((e) => e.event_id === params.event));

  const head = el('section', { class: 'ihead', id: 'issue-head' });
  const actionMsg = el('div', { id: 'issue-msg' });
  const actions = el('div', { class: 'actions', id: 'issue-actions' });
  const evSection = el('section', { id: 'event' });
  const side = el('div', null,
    el('section', null, el('h3', null, 'Tags'), el('div', { id: 'issue-tags' })),
    el('section', { id: 'event-info' }));
  fill(root, el('div', { class: 'ipage issue' },
    el('div', null, el('a', { href: '#/issues' }, '← Issues')),
    head, actionMsg,
    el('div', { class: 'igrid' }, el('div', null, evSection), side)));

  const drawHead = () => {
    // Ignore goes for good, or until so many more events (the server
    // wakes the issue then): the select beside the button says which.
    const ignoreFor = el('select', { id: 'ignore-for', 'aria-label': 'Ignore for how long' },
      IGNORE_FOR.map(([v, label]) => el('option', { value: v }, label)));
    const buttons = STATUS_ACTIONS.map((a) => {
      const b = el('button', { type: 'button', id: 'act-' + a.key, disabled: a.current(issue) }, a.label);
      b.addEventListener('click', () => {
        const n = Number(ignoreFor.value);
        setStatus(a.key === 'ignore' && n > 0 ? { ...a.change, ignore_count: n } : a.change);
      });
      return b;
    });
    const ignoreBtn = buttons[STATUS_ACTIONS.findIndex((a) => a.key === 'ignore')];
    ignoreFor.addEventListener('change', () => { ignoreBtn.disabled = issue.status === 'ignored' && !Number(ignoreFor.value); });
    fill(actions, buttons.map((b) => (b === ignoreBtn ? el('span', { class: 'actions' }, b, ignoreFor) : b)));
    fill(head,
      el('div', { class: 'meta' }, levelBadge(issue.level), ' ', el('span', { class: 'mono' }, issue.short_id), ' · ', issue.project || 'no project', ' ', statusBadge(issue)),
      el('h2', { class: 'title', id: 'issue-title' }, issue.title),
      issue.culprit ? el('div', { class: 'culprit', id: 'issue-culprit' }, issue.culprit) : null,
      el('div', { class: 'figures' },
        el('div', { class: 'figure' }, el('span', { class: 'v', id: 'issue-count' }, String(issue.count)), el('span', { class: 'k' }, 'events')),
        el('div', { class: 'figure' }, el('span', { class: 'v', id: 'issue-users' }, String(issue.user_count) + (issue.user_count_capped ? '+' : '')), el('span', { class: 'k' }, 'users')),
        issue.regressions ? el('div', { class: 'figure' }, el('span', { class: 'v', id: 'issue-regressions' }, String(issue.regressions)), el('span', { class: 'k' }, 'regressions')) : null,
        el('div', { class: 'figure' }, el('span', { class: 'v' }, timeEl(issue.first_seen)), el('span', { class: 'k' }, 'first seen')),
        el('div', { class: 'figure' }, el('span', { class: 'v' }, timeEl(issue.last_seen)), el('span', { class: 'k' }, 'last seen')),
        el('div', { class: 'figure' }, sparkline(issue.hourly || [], 192, 36), el('span', { class: 'k' }, 'last 24 hours'))),
      actions);
    fill(document.getElementById('issue-tags'), tagsEl(issue));
  };

  async function setStatus(change) {
    for (const b of actions.querySelectorAll('button')) b.disabled = true;
    fill(actionMsg);
    try {
      issue = await patchStatus(issue.id, change);
      if (!alive) return;
      fill(actionMsg, el('div', { class: 'muted', role: 'status' }, 'Status set to ' + issue.status + (issue.in_next_release ? ' (in next release)' : '') + '.'));
    } catch (e) {
      if (!alive) return;
      fill(actionMsg, errorBox(e));
    }
    drawHead();
  }

  // The request logs of the shown event load in the background; the
  // Search link works before they arrive and widens to cover them after.
  let logsSeq = 0;
  async function loadLogs(ev, box, link) {
    const my = ++logsSeq;
    fill(box, el('span', { class: 'muted' }, 'Loading request logs…'));
    let ans;
    try {
      ans = await getJSON(`/api/v1/issues/${encodeURIComponent(issue.id)}/events/${encodeURIComponent(ev.event_id)}/logs`);
    } catch (e) {
      if (alive && my === logsSeq) fill(box, errorBox(e));
      return;
    }
    if (!alive || my !== logsSeq) return;
    const logs = ans.logs || [];
    const times = [Date.parse(ev.timestamp), ...logs.map((r) => Date.parse(r.timestamp))];
    link.href = searchLink(ev.trace_id, times);
    box.dataset.count = String(logs.length);
    const n = logs.length;
    fill(box,
      el('div', { class: 'muted small' }, `${n}${n >= 1000 ? '+' : ''} event${n === 1 ? '' : 's'} with this trace id${n > previewLogs ? `, newest ${previewLogs} shown` : ''}:`),
      el('ul', { class: 'tracelogs' }, logs.slice(0, previewLogs).map((r) => el('li', null,
        el('time', { datetime: r.timestamp, title: r.timestamp }, new Date(Date.parse(r.timestamp)).toLocaleTimeString()),
        levelBadge(r.level),
        el('span', { class: 'msg', title: r.message || '' }, (r.index ? r.index + ' · ' : '') + (r.message || ''))))));
  }

  let logsLink = null;
  const drawEvent = () => {
    logsLink = null;
    if (!events.length) {
      fill(evSection, el('div', { class: 'muted' }, 'No events kept for this issue.'));
      fill(document.getElementById('event-info'));
      return;
    }
    const ev = events[pos];
    const older = el('button', { type: 'button', id: 'ev-older', disabled: pos >= events.length - 1, title: 'Older event (n)' }, 'Older →');
    const newer = el('button', { type: 'button', id: 'ev-newer', disabled: pos <= 0, title: 'Newer event (p)' }, '← Newer');
    older.addEventListener('click', () => showEvent(pos + 1));
    newer.addEventListener('click', () => showEvent(pos - 1));
    const link = el('a', {
      class: 'button' + (ev.trace_id ? '' : ' off'), id: 'request-logs',
      href: ev.trace_id ? searchLink(ev.trace_id, [Date.parse(ev.timestamp)]) : '#/search',
      title: ev.trace_id ? 'Search the logs with trace_id ' + ev.trace_id + ' (l)' : 'This event has no trace id',
      'aria-disabled': ev.trace_id ? undefined : 'true',
    }, 'Request logs');
    if (ev.trace_id) logsLink = link;
    const logsBox = el('div', { id: 'trace-logs' });
    fill(evSection,
      el('div', { class: 'evnav' },
        el('h3', { style: 'margin:0' }, 'Event'),
        newer, el('span', { class: 'pos', id: 'ev-pos' }, `${pos + 1} of ${events.length}`), older,
        el('span', { class: 'muted small' }, `${issue.count > events.length ? `(the newest ${events.length} of ${issue.count} are kept)` : ''}`)),
      el('div', { class: 'muted small mono', id: 'ev-id', dataset: { eventId: ev.event_id } }, ev.event_id, ' · ', timeEl(ev.timestamp), ' · ', new Date(Date.parse(ev.timestamp)).toLocaleString()),
      ev.message ? el('div', { class: 'evalue mono' }, ev.message) : null,
      el('h3', { style: 'margin-top:var(--sp-3)' }, 'Stack trace'),
      stackTrace(ev),
      el('h3', { style: 'margin-top:var(--sp-3)' }, 'Request logs'),
      el('div', { class: 'actions' }, link, ev.trace_id ? el('span', { class: 'mono small' }, 'trace_id ' + ev.trace_id) : el('span', { class: 'muted small' }, 'This event carries no trace id, so there are no request logs to link.')),
      logsBox);
    const byKey = ([a], [b]) => (a < b ? -1 : 1);
    const tags = Object.entries(ev.tags || {}).sort(byKey);
    // Sentry's "Additional Data": values are text (JSON text for objects),
    // kept as sent, so an empty one shows and line breaks are kept.
    const extra = Object.entries(ev.extra || {}).sort(byKey);
    fill(document.getElementById('event-info'), el('h3', null, 'This event'), kvTable([
      ['level', ev.level], ['time', ev.timestamp], ['release', ev.release], ['environment', ev.environment],
      ['server', ev.server_name], ['platform', ev.platform], ['logger', ev.logger], ['user', ev.user_id || ev.user_ip],
      ['trace_id', ev.trace_id], ['fingerprint', (ev.fingerprint || []).join(' ')], ...tags,
    ]), extra.length ? [
      el('h3', null, 'Additional data'),
      el('table', { class: 'kv', id: 'event-extra' }, el('tbody', null, extra.map(([k, v]) =>
        el('tr', { dataset: { key: k } }, el('td', { class: 'k' }, k), el('td', { class: 'v', style: 'white-space:pre-wrap' }, v))))),
    ] : null);
    if (ev.trace_id) loadLogs(ev, logsBox, link);
  };

  const showEvent = (i) => {
    if (i < 0 || i >= events.length || i === pos) return;
    pos = i;
    ctx.setParams({ id: issue.short_id || id, event: events[pos].event_id });
    drawEvent();
  };

  drawHead();
  drawEvent();

  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    switch (e.key) {
      case 'n': case 'ArrowRight': showEvent(pos + 1); break;
      case 'p': case 'ArrowLeft': showEvent(pos - 1); break;
      case 'l': if (logsLink) logsLink.click(); else return; break;
      case 'r': setStatus({ status: 'resolved' }); break;
      case 'i': setStatus({ status: 'ignored' }); break;
      case 'u': setStatus({ status: 'unresolved' }); break;
      case 'Escape': ctx.navigate('issues', {}); break;
      default: return;
    }
    e.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  return () => {
    alive = false;
    document.removeEventListener('keydown', onKey);
  };
}
