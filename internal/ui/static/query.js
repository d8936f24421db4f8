// Query-language helpers for the UI: splitting filters from pipes, adding a
// field:value filter, quoting. They follow the server's parser (internal/
// query): words, "quoted strings" with Go escapes, | between pipes.

// splitPipes returns the filter part and the pipes part ("| stats ...",
// "" when none) of a query, splitting at the first | outside quotes.
export function splitPipes(q) {
  let quote = '';
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '|') {
      return { filter: q.slice(0, i).trim(), pipes: q.slice(i).trim() };
    }
  }
  return { filter: q.trim(), pipes: '' };
}

// filterPart is the query without its pipes, "*" when empty.
export function filterPart(q) {
  return splitPipes(q || '').filter || '*';
}

// aggregatePipe names the pipe that turns events into other rows (stats,
// top, uniq), or "" when the query returns events.
export function aggregatePipe(q) {
  const { pipes } = splitPipes(q || '');
  const m = /\|\s*(stats|top|uniq)\b/i.exec(pipes);
  return m ? m[1].toLowerCase() : '';
}

// quoteValue writes a value so the parser reads it back unchanged.
export function quoteValue(v) {
  return /^[A-Za-z0-9_]+$/.test(v) ? v : JSON.stringify(v);
}

// quoteField writes a field name for field:value.
export function quoteField(f) {
  return /^[A-Za-z0-9_.@-]+$/.test(f) ? f : JSON.stringify(f);
}

// termFor is the filter that selects (or, negated, excludes) events whose
// field is exactly value.
export function termFor(field, value, negate) {
  return (negate ? '-' : '') + quoteField(field) + ':=' + quoteValue(value);
}

// addTerm adds a term to the query's filters, before any pipe, replacing
// the same term of the opposite sign and a lone "*".
export function addTerm(q, field, value, negate) {
  const { filter, pipes } = splitPipes(q || '');
  const term = termFor(field, value, negate);
  const opposite = termFor(field, value, !negate);
  let f = filter;
  const at = (s, t) => {
    // Whole-term match: start or space before, end or space after.
    const i = (' ' + s + ' ').indexOf(' ' + t + ' ');
    return i;
  };
  let i = at(f, opposite);
  if (i >= 0) f = (f.slice(0, i) + f.slice(i + opposite.length)).replace(/\s+/g, ' ').trim();
  if (at(f, term) < 0) f = !f || f === '*' ? term : f + ' ' + term;
  return pipes ? f + ' ' + pipes : f;
}

// HELP is the syntax panel's content: [example, meaning].
export const HELP = [
  ['timeout', 'a word anywhere in the message'],
  ['"connection refused"', 'a phrase'],
  ['level:ERROR service:payment', 'field values; AND is implied'],
  ['service:="api-gw"', 'the whole value, exactly'],
  ['level:(ERROR OR FATAL) AND NOT host:db-1', 'OR, AND, NOT and ( )'],
  ['-host:db-1', 'minus excludes'],
  ['status:>=500 latency_ms:>250', 'numeric comparisons'],
  ['host:web-*', 'a prefix'],
  ['message:~"time(d)? ?out"', 'a regular expression'],
  ['trace_id:4bf92f3577b34da6a3ce929d0e0e4736', 'one request, across services'],
  ['_time:5m', 'the last five minutes (also in the picker)'],
  ['* | stats count() by (level)', 'counts per group: a chart and a table'],
  ['level:ERROR | stats count() by (_time:1h)', 'a time series: a line chart'],
  ['* | top 10 (host)', 'the most frequent values'],
  ['service:api | sort by (timestamp desc) | limit 100 | fields timestamp, message', 'sort, limit, pick fields'],
];

// PIPES are the pipe names autocomplete offers after "|".
export const PIPES = ['stats count() by ()', 'top 10 ()', 'sort by ()', 'limit 100', 'fields ', 'uniq by ()', 'where ', 'offset ', 'extract ', 'unpack_json'];
