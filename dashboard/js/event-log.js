// The merged timeline in the browser: a bounded window of the newest events, kept in
// causal order and deduplicated by seq. A big run never lives in the page: the server
// sends at most `capacity` events (`tail`), the oldest fall out as new ones arrive, and
// counts over the whole run come from /api/aggregates instead (see metrics.js).

/** Compare two events by Lamport clock, then time, then site and writer. */
export function causalCompare(a, b) {
  return (
    a.clock - b.clock ||
    (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0) ||
    (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) ||
    (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0)
  );
}

export class EventLog {
  constructor(capacity = 20000) {
    this.capacity = capacity;
    this.events = [];
    this.cursor = 0;
    this.seen = new Set();
    this.total = 0; // events in the whole run, as the server last said
    this.truncated = false; // true once the run holds more than the window
  }

  /** Add a batch from the server; returns how many were new. */
  add(doc) {
    let added = 0;
    for (const event of doc.events) {
      if (this.seen.has(event.seq)) continue;
      this.seen.add(event.seq);
      this.insert(event);
      added += 1;
    }
    this.cursor = Math.max(this.cursor, doc.cursor);
    this.total = Math.max(this.total, doc.total ?? 0, this.events.length);
    if (doc.skipped) this.truncated = true;
    const excess = this.events.length - this.capacity;
    if (excess > 0) {
      for (const old of this.events.splice(0, excess)) this.seen.delete(old.seq);
      this.truncated = true;
    }
    return added;
  }

  insert(event) {
    const list = this.events;
    if (!list.length || causalCompare(list[list.length - 1], event) <= 0) {
      list.push(event);
      return;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (causalCompare(list[mid], event) <= 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, event);
  }
}
