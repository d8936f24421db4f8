// Live mode: matching events as they arrive, over Server-Sent Events from
// /api/v1/tail. Pausing closes the stream and keeps its resume cursor;
// resuming reopens from that cursor, so nothing that arrived meanwhile is
// missed (unless it fell out of the server's replay buffer: a "gap"
// notice says so). Events are handed over in batches, at most every
// BATCH_MS, so a busy stream costs a few DOM updates a second.

const BATCH_MS = 200;

export class LiveTail {
  // q is a filter query; onEvents(rows) gets new events newest first;
  // onState(state, detail) gets "connecting", "live", "paused",
  // "reconnecting", "error" and the notices "dropped", "gap".
  constructor(q, { onEvents, onState }) {
    this.q = q;
    this.onEvents = onEvents;
    this.onState = onState || (() => {});
    this.es = null;
    this.cursor = '';
    this.batch = [];
    this.timer = 0;
    this.received = 0;
  }

  url() {
    const p = new URLSearchParams({ q: this.q });
    if (this.cursor) p.set('cursor', this.cursor);
    return '/api/v1/tail?' + p.toString();
  }

  start() {
    this.stopStream();
    this.onState('connecting');
    const es = new EventSource(this.url());
    this.es = es;
    es.onopen = () => this.onState('live');
    es.addEventListener('log', (e) => {
      if (e.lastEventId) this.cursor = e.lastEventId;
      let row;
      try {
        row = JSON.parse(e.data);
      } catch {
        return;
      }
      this.received++;
      this.batch.push(row);
      if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
    });
    for (const type of ['dropped', 'gap', 'error']) {
      es.addEventListener(type, (e) => {
        if (!e.data) return; // a connection error, handled by onerror
        let d = {};
        try { d = JSON.parse(e.data); } catch { /* keep {} */ }
        if (d.resume_cursor) this.cursor = d.resume_cursor;
        this.onState(type, d);
      });
    }
    es.onerror = async () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (a bad query, too many tails):
        // ask again plainly to read why.
        let msg = 'the live stream closed';
        try {
          const r = await fetch(this.url(), { headers: { Accept: 'text/plain' } });
          if (!r.ok) msg = (await r.text()).trim();
          else r.body && r.body.cancel();
        } catch { /* keep msg */ }
        this.onState('error', { error: msg });
      } else {
        this.onState('reconnecting');
      }
    };
  }

  flush() {
    this.timer = 0;
    if (!this.batch.length) return;
    const rows = this.batch.reverse();
    this.batch = [];
    this.onEvents(rows);
  }

  pause() {
    this.stopStream();
    this.flush();
    this.onState('paused');
  }

  resume() {
    this.start();
  }

  stopStream() {
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  stop() {
    this.stopStream();
    clearTimeout(this.timer);
    this.timer = 0;
    this.batch = [];
  }
}
