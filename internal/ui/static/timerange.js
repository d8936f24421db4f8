// Time ranges as the URL holds them: from/to are "now", "now-15m" (a
// relative offset: s, m, h, d, w) or an absolute time (ISO 8601, or unix
// ms). They are resolved to milliseconds when a query runs, so a link to
// "the last hour" stays the last hour, and one to an absolute range shows
// the same events to everyone.

const unitMs = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

// QUICK are the quick ranges of the picker.
export const QUICK = [
  { label: '15m', from: 'now-15m' },
  { label: '1h', from: 'now-1h' },
  { label: '24h', from: 'now-24h' },
  { label: '7d', from: 'now-7d' },
];

export const DEFAULT_FROM = 'now-24h';

// resolveTime turns one end of a range into unix ms, or NaN.
export function resolveTime(s, now = Date.now()) {
  if (!s || s === 'now') return now;
  const m = /^now-(\d+(?:\.\d+)?)([smhdw])$/.exec(s);
  if (m) return now - Number(m[1]) * unitMs[m[2]];
  if (/^\d{10,}$/.test(s)) return Number(s);
  return Date.parse(s);
}

// resolveRange returns {start, end} in ms; a range that does not parse
// falls back to the default.
export function resolveRange(from, to, now = Date.now()) {
  let start = resolveTime(from || DEFAULT_FROM, now);
  let end = resolveTime(to || 'now', now);
  if (!Number.isFinite(start)) start = resolveTime(DEFAULT_FROM, now);
  if (!Number.isFinite(end)) end = now;
  if (end <= start) end = start + 1000;
  return { start, end };
}

// isRelative reports whether the range follows the clock.
export function isRelative(from, to) {
  return (!from || from.startsWith('now')) && (!to || to === 'now');
}

// iso is the form sent to the server and written into the URL for an
// absolute time: RFC 3339 in UTC with milliseconds.
export function iso(ms) {
  return new Date(ms).toISOString();
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// localInput formats ms for <input type="datetime-local"> in the browser's
// time zone.
export function localInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// fromLocalInput parses a datetime-local value as local time.
export function fromLocalInput(s) {
  return s ? new Date(s).getTime() : NaN;
}

// formatLocal is how times are shown: local, to the millisecond.
export function formatLocal(ms, withDate = true) {
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

// describeRange is the label of the picker's current range.
export function describeRange(from, to) {
  const q = QUICK.find((r) => r.from === from && (!to || to === 'now'));
  if (q) return 'Last ' + q.label;
  const m = /^now-(.+)$/.exec(from || '');
  if (m && (!to || to === 'now')) return 'Last ' + m[1];
  const { start, end } = resolveRange(from, to);
  return `${formatLocal(start)} → ${formatLocal(end)}`;
}

// STEPS are the histogram's bucket widths, in ms, with their query form.
const STEPS = [
  [1e3, '1s'], [2e3, '2s'], [5e3, '5s'], [10e3, '10s'], [15e3, '15s'], [30e3, '30s'],
  [60e3, '1m'], [120e3, '2m'], [300e3, '5m'], [600e3, '10m'], [900e3, '15m'], [1800e3, '30m'],
  [3600e3, '1h'], [7200e3, '2h'], [10800e3, '3h'], [21600e3, '6h'], [43200e3, '12h'],
  [86400e3, '1d'], [2 * 86400e3, '2d'], [7 * 86400e3, '7d'], [14 * 86400e3, '14d'], [30 * 86400e3, '30d'],
];

// MAX_BARS is the most bars the histogram draws; the step is the smallest
// that keeps under it, which gives 60 to 120 bars for most ranges.
export const MAX_BARS = 120;

// chooseStep picks the histogram step for a range of ms.
export function chooseStep(rangeMs) {
  for (const [ms, s] of STEPS) {
    if (rangeMs / ms <= MAX_BARS) return { ms, s };
  }
  const last = STEPS[STEPS.length - 1];
  return { ms: last[0], s: last[1] };
}
