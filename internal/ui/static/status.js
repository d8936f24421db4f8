// The Status page: the server's own figures, refreshed every few seconds.
// /health gives the health of each part, the queue and the store's size;
// /metrics (Prometheus text) gives the counters a rate is made from
// (events ingested, by protocol) and the open connections. The ingest rate
// is the difference of two reads over the time between them, so it
// appears from the second read on.
//
// A failed refresh keeps the last figures on screen, marked stale, with
// the error above them: an operator looking at a sick server needs the
// last known state more than a blank page.

import { ApiError, errorBox, el } from './api.js';
import { ensureStyles, fill } from './issues.js';

// refreshMs is how often the page reads the server again. The first
// second read comes sooner, so the rate shows quickly.
const refreshMs = 3000;
const firstRateMs = 1000;

// parseMetrics reads the Prometheus text exposition format into samples
// {name, labels, value}. Comments and malformed lines are skipped; label
// values are unescaped (\\, \", \n).
export function parseMetrics(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#') continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    const labels = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (i >= line.length) break;
        if (line[i] === '}') { i++; break; }
        const eq = line.indexOf('=', i);
        if (eq < 0 || line[eq + 1] !== '"') { i = line.length; break; }
        const key = line.slice(i, eq).trim();
        let v = '';
        let j = eq + 2;
        for (; j < line.length && line[j] !== '"'; j++) {
          if (line[j] === '\\' && j + 1 < line.length) {
            j++;
            v += line[j] === 'n' ? '\n' : line[j];
          } else v += line[j];
        }
        labels[key] = v;
        i = j + 1;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (!name || !rest[0]) continue;
    const value = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
    if (rest[0] !== 'NaN' && Number.isNaN(value)) continue;
    out.push({ name, labels, value });
  }
  return out;
}

// sumBy adds up the samples of one metric, grouped by one label ("" for
// the total under key "").
export function sumBy(samples, name, label) {
  const out = {};
  for (const s of samples) {
    if (s.name !== name || !Number.isFinite(s.value)) continue;
    const k = label ? s.labels[label] || '' : '';
    out[k] = (out[k] || 0) + s.value;
  }
  return out;
}

const total = (m) => Object.values(m).reduce((a, b) => a + b, 0);

// bytes formats a size in binary units: "812 B", "3.4 MiB".
export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return (u === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[u];
}

const num = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

function rate(n) {
  if (!Number.isFinite(n)) return '—';
  return n >= 100 ? num(n) : n.toFixed(1);
}

function duration(s) {
  if (!Number.isFinite(s)) return '—';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

// days counts the calendar days from oldest to newest ("2026-11-20" to
// "2026-11-22" is 3), or 0 without data.
export function days(oldest, newest) {
  const a = Date.parse(oldest + 'T00:00:00Z');
  const b = Date.parse(newest + 'T00:00:00Z');
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 0;
  return Math.round((b - a) / 86400000) + 1;
}

// read fetches /health (whose 503 still carries the report) and /metrics.
async function read(signal) {
  const get = async (path) => {
    let resp;
    try {
      resp = await fetch(path, { signal, cache: 'no-store' });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(`cannot reach the server (${e.message})`, 0, path);
    }
    return resp;
  };
  const [h, m] = await Promise.all([get('/health'), get('/metrics')]);
  const htext = await h.text();
  let health;
  try {
    health = JSON.parse(htext);
  } catch {
    throw new ApiError(`/health answered ${h.status} without JSON: ${htext.slice(0, 200)}`, h.status, '/health');
  }
  if (!m.ok) {
    throw new ApiError(`/metrics answered ${m.status}`, m.status, '/metrics');
  }
  return { health, healthCode: h.status, samples: parseMetrics(await m.text()), at: performance.now() };
}

function card(id, title, ...body) {
  return el('div', { class: 'card', id }, el('h3', null, title), ...body);
}

function meter(frac, warnAt = 0.7, badAt = 0.9) {
  const f = Math.max(0, Math.min(1, Number.isFinite(frac) ? frac : 0));
  return el('div', { class: 'meter' + (f >= badAt ? ' bad' : f >= warnAt ? ' warn' : ''), role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(f * 100)) },
    el('i', { style: `width:${(f * 100).toFixed(1)}%` }));
}

const hs = (status) => el('span', { class: 'hs hs-' + (status || 'failing'), dataset: { status: status || '' } }, status || 'unknown');

// checkDetail summarises one check's details in a line.
function checkDetail(name, c) {
  const d = c.details || {};
  const parts = [];
  if (d.addr) parts.push(d.addr);
  if (d.size !== undefined && d.capacity !== undefined) parts.push(`${num(d.size)} / ${num(d.capacity)} queued`);
  if (d.free_bytes !== undefined) parts.push(`${bytes(d.free_bytes)} free of ${bytes(d.total_bytes)}`);
  if (d.last_commit_ms !== undefined) parts.push(`last commit ${Number(d.last_commit_ms).toFixed(1)} ms`);
  if (typeof d.last_commit_age_seconds === 'number') parts.push(`${duration(d.last_commit_age_seconds)} ago`);
  if (d.note) parts.push(d.note);
  return parts.join(' · ');
}

function draw(view, cur, prev) {
  const h = cur.health;
  const st = h.store || {};
  const q = h.queue || {};
  const ingested = sumBy(cur.samples, 'logcaster_ingested_events_total', 'protocol');
  let rateTotal = NaN;
  const rates = {};
  if (prev) {
    const dt = (cur.at - prev.at) / 1000;
    const before = sumBy(prev.samples, 'logcaster_ingested_events_total', 'protocol');
    // A counter that went down means the server restarted between reads.
    for (const [p, v] of Object.entries(ingested)) rates[p] = Math.max(0, v - (before[p] || 0)) / dt;
    rateTotal = total(rates);
  }
  const conns = sumBy(cur.samples, 'logcaster_active_connections', 'protocol');
  const rejected = total(sumBy(cur.samples, 'logcaster_rejected_events_total'));
  const dropped = total(sumBy(cur.samples, 'logcaster_dropped_events_total'));
  const issues = sumBy(cur.samples, 'logcaster_issues', 'status');
  const live = total(sumBy(cur.samples, 'logcaster_live_subscribers'));
  const qfill = q.capacity ? q.size / q.capacity : 0;
  const disk = (h.checks && h.checks.disk && h.checks.disk.details) || {};
  const nDays = days(st.oldest_day, st.newest_day);

  const protoLines = (m, fmt) => Object.keys(m).sort().filter((k) => m[k] > 0)
    .map((k) => el('div', { class: 'sub', dataset: { protocol: k } }, `${k}: ${fmt(m[k])}`));

  fill(view.cards,
    card('st-rate', 'Ingest rate',
      el('div', { class: 'big', id: 'rate' }, prev ? rate(rateTotal) : 'measuring…'), el('div', { class: 'sub' }, 'events/s'),
      ...(prev ? protoLines(rates, (v) => rate(v) + '/s') : []),
      el('div', { class: 'sub' }, `${num(total(ingested))} events since start`)),
    card('st-queue', 'Queue',
      el('div', { class: 'big', id: 'queue-fill' }, `${(qfill * 100).toFixed(qfill > 0 && qfill < 0.01 ? 2 : 0)}%`),
      meter(qfill),
      el('div', { class: 'sub' }, `${num(q.size)} of ${num(q.capacity)} events waiting for the store`)),
    card('st-conns', 'Connections',
      el('div', { class: 'big', id: 'conns' }, num(total(conns))),
      ...protoLines(conns, num),
      el('div', { class: 'sub' }, `${num(live)} live tail viewer${live === 1 ? '' : 's'}`)),
    card('st-storage', 'Storage',
      el('div', { class: 'big', id: 'disk-used' }, bytes(st.disk_bytes)),
      el('div', { class: 'sub' }, `${num(st.parts)} parts · ${num(st.partitions)} day partition${st.partitions === 1 ? '' : 's'}`),
      el('div', { class: 'sub' }, nDays ? `${nDays} day${nDays === 1 ? '' : 's'}: ${st.oldest_day} to ${st.newest_day}` : 'no data on disk yet'),
      el('div', { class: 'sub' }, `${num(st.events)} events (${num(st.head_events)} in memory)`),
      disk.total_bytes ? meter(1 - disk.free_bytes / disk.total_bytes, 0.8, 0.9) : null,
      disk.total_bytes ? el('div', { class: 'sub' }, `disk: ${bytes(disk.free_bytes)} free of ${bytes(disk.total_bytes)}`) : null),
    card('st-errors', 'Refused and lost',
      el('div', { class: 'big' }, num(rejected + dropped)),
      el('div', { class: 'sub' }, `${num(rejected)} rejected with an error to the sender`),
      el('div', { class: 'sub' }, `${num(dropped)} dropped`)),
    card('st-issues', 'Issues',
      el('div', { class: 'big' }, num(issues.unresolved || 0)),
      el('div', { class: 'sub' }, `unresolved · ${num(issues.resolved || 0)} resolved · ${num(issues.ignored || 0)} ignored`),
      el('a', { href: '#/issues', class: 'small' }, 'Open the issues')));

  const names = Object.keys(h.checks || {}).sort();
  fill(view.overall, 'Overall ', hs(h.status), h.version ? el('span', { class: 'muted small' }, ` · version ${h.version}`) : null,
    el('span', { class: 'muted small' }, ` · up ${duration(h.uptime_seconds)}`),
    cur.healthCode !== 200 ? el('span', { class: 'stale' }, ` · /health answered ${cur.healthCode}`) : null);
  fill(view.checks, el('table', { class: 'grid', id: 'checks' },
    el('thead', null, el('tr', null, el('th', null, 'Part'), el('th', null, 'Status'), el('th', null, 'Latency'), el('th', null, 'Details'))),
    el('tbody', null, names.map((n) => {
      const c = h.checks[n];
      return el('tr', { dataset: { check: n, status: c.status } },
        el('td', { class: 'mono' }, n), el('td', null, hs(c.status)),
        el('td', { class: 'num' }, `${Number(c.latency_ms || 0).toFixed(2)} ms`),
        el('td', null, c.error ? el('span', { class: 'stale' }, c.error + ' ') : null, checkDetail(n, c)));
    }))));
  view.updated.textContent = 'updated ' + new Date().toLocaleTimeString();
}

export async function render(root, params, ctx) {
  ensureStyles();
  const view = {
    overall: el('div', { id: 'overall' }),
    updated: el('span', { class: 'muted small', id: 'updated' }),
    msg: el('div', { id: 'status-msg' }),
    cards: el('div', { class: 'cards', id: 'cards' }),
    checks: el('div', { class: 'tablewrap' }),
  };
  fill(root, el('div', { class: 'ipage status' },
    el('div', { class: 'pagehead' }, el('h2', null, 'Status'), view.overall, el('span', { class: 'spacer' }), view.updated),
    view.msg, view.cards,
    el('section', null, el('h3', null, 'Health of each part'), view.checks)));

  const ctl = new AbortController();
  let prev = null;
  let reads = 0; // successful reads so far
  let timer = 0;
  let stopped = false;
  const tick = async () => {
    try {
      const cur = await read(ctl.signal);
      if (stopped) return;
      draw(view, cur, prev);
      fill(view.msg);
      root.firstChild.classList.remove('is-stale');
      prev = cur;
      reads++;
    } catch (e) {
      if (stopped || e.name === 'AbortError') return;
      const box = errorBox(e);
      if (prev) box.querySelector('h3').textContent = 'Refresh failed; the figures below are from ' + view.updated.textContent.replace('updated ', '');
      fill(view.msg, box);
      root.firstChild.classList.add('is-stale');
    }
    if (!stopped) timer = setTimeout(tick, reads === 1 ? firstRateMs : refreshMs);
  };
  await tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    ctl.abort();
  };
}
