// Export of result rows as a download: NDJSON as the server sends it, or
// CSV (RFC 4180: fields with a comma, quote or newline are quoted, quotes
// doubled) with the built-in fields first and then every other field seen.

const FIRST = ['timestamp', 'level', 'index', 'message', 'trace_id'];

export function toNDJSON(rows) {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function csvCell(v) {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCSV(rows) {
  const seen = new Set();
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); cols.push(k); }
  const first = FIRST.filter((k) => seen.has(k));
  const rest = cols.filter((k) => !FIRST.includes(k)).sort();
  const all = first.concat(rest);
  const lines = [all.map(csvCell).join(',')];
  for (const r of rows) lines.push(all.map((k) => csvCell(r[k])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
