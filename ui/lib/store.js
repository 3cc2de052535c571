// @ts-check
// The services as the backend last described them: a snapshot plus numbered changes.
// Pure: no DOM, no Tauri. The clock is passed in so tests control it.
//
// Rules (from the backend contract):
// - Events that arrive before the first snapshot (or during a reload) are buffered, then
//   applied after the snapshot, so a reload misses nothing.
// - An event is applied only when its seq is greater than the snapshot's seq and greater
//   than the last seq applied for that service; older or repeated (coalesced) ones are ignored.

/** @typedef {import('../types/ServiceView').ServiceView} ServiceView */
/** @typedef {import('../types/StatusChanged').StatusChanged} StatusChanged */
/** @typedef {import('../types/SummaryChanged').SummaryChanged} SummaryChanged */
/**
 * A service as the store keeps it: its view, and when that was received (ms).
 * @typedef {ServiceView & { receivedAt: number }} ServiceRecord
 */
/** @typedef {{ result: 'applied', previous: ServiceRecord | null, current: ServiceRecord }} Applied */
/** @typedef {Applied | { result: 'ignored' } | { result: 'buffered' }} Outcome */
/**
 * What the store needs of a `list_services` answer.
 * @typedef {{ seq: number, services: ServiceView[], summary?: string }} Snapshot
 */

/**
 * One service record: a snapshot's service or a `service-status-changed` payload (the same
 * fields, `service` and `status` among them; the event adds its `seq`), without the seq and
 * with `receivedAt` filled in.
 * @param {ServiceView & { seq?: number }} raw
 * @param {number} receivedAt
 * @returns {ServiceRecord}
 */
export function normalizeService(raw, receivedAt) {
  const { seq: _seq, ...view } = raw;
  return { ...view, receivedAt };
}

/**
 * Creates the store. `now()` gives the time in ms (default `Date.now`).
 * Returns an object with `applySnapshot`, `applyEvent`, `applySummary`, `beginReload`,
 * `cancelReload`, `services`, `get`, and the read-only `loaded`, `hasSnapshot`, `snapshotSeq`
 * and `summary`.
 */
export function createStore({ now = Date.now } = {}) {
  let loaded = false;
  let hasSnapshot = false;
  let snapshotSeq = -Infinity;
  /** @type {string[]} */
  let order = [];
  /** @type {Map<string, ServiceRecord>} */
  const byName = new Map();
  /** @type {Map<string, number>} */
  const lastSeq = new Map();
  /** @type {StatusChanged[]} */
  let buffer = [];
  // The one line about all services, as the backend made it, and the seq it reflects.
  let summary = '';
  let summarySeq = -Infinity;

  /**
   * @param {unknown} text
   * @param {number} seq
   */
  function takeSummary(text, seq) {
    if (typeof text !== 'string' || !Number.isFinite(seq) || seq < summarySeq) return false;
    summary = text;
    summarySeq = seq;
    return true;
  }

  /**
   * @param {StatusChanged} event
   * @returns {Outcome}
   */
  function apply(event) {
    const name = event?.service;
    const seq = Number(event?.seq);
    if (typeof name !== 'string' || !Number.isFinite(seq)) return { result: 'ignored' };
    if (seq <= snapshotSeq) return { result: 'ignored' };
    const last = lastSeq.get(name);
    if (last !== undefined && seq <= last) return { result: 'ignored' };
    const previous = byName.get(name) ?? null;
    const current = normalizeService(event, now());
    byName.set(name, current);
    lastSeq.set(name, seq);
    if (!order.includes(name)) order = [...order, name];
    return { result: 'applied', previous, current };
  }

  /** @returns {Applied[]} */
  function drain() {
    const pending = buffer;
    buffer = [];
    return pending.map(apply).filter((outcome) => outcome.result === 'applied');
  }

  /** True when an event newer than `seq` was applied to `name`. */
  const newerThan = (/** @type {string} */ name, /** @type {number} */ seq) => (
    (lastSeq.get(name) ?? -Infinity) > seq);

  return {
    /** True once a snapshot was applied and no reload is in progress. */
    get loaded() { return loaded; },
    /** True once any snapshot was applied (even while a reload is in progress). */
    get hasSnapshot() { return hasSnapshot; },
    /** The seq of the snapshot in use (-Infinity before the first one). */
    get snapshotSeq() { return snapshotSeq; },
    /** The summary line of the services ("" before the first snapshot). */
    get summary() { return summary; },

    /**
     * Applies a `list_services` answer `{ seq, services, summary }`, then the events buffered
     * while waiting for it. Returns the outcomes of the buffered events that were applied.
     * A snapshot older than the one in use is ignored (its buffered events still apply).
     * @param {Snapshot} snapshot
     * @returns {Applied[]}
     */
    applySnapshot(snapshot) {
      const seq = Number(snapshot?.seq);
      const list = Array.isArray(snapshot?.services) ? snapshot.services : [];
      if (Number.isFinite(seq) && seq >= snapshotSeq) {
        const at = now();
        /** @type {string[]} */
        const names = [];
        for (const raw of list) {
          const record = normalizeService(raw, at);
          if (typeof record.service !== 'string') continue;
          names.push(record.service);
          // An event newer than this snapshot was already applied: keep it.
          if (!newerThan(record.service, seq)) {
            byName.set(record.service, record);
            lastSeq.delete(record.service);
          }
        }
        // Services gone from the snapshot go, unless a newer event speaks for them.
        for (const name of [...byName.keys()]) {
          if (!names.includes(name) && !newerThan(name, seq)) {
            byName.delete(name);
            lastSeq.delete(name);
          }
        }
        const extra = order.filter((name) => byName.has(name) && !names.includes(name));
        order = [...names, ...extra];
        snapshotSeq = seq;
        hasSnapshot = true;
        takeSummary(snapshot.summary, seq);
      }
      loaded = hasSnapshot;
      return drain();
    },

    /**
     * Takes a `service-status-changed` payload. Before a snapshot it is buffered
     * (`{ result: "buffered" }`); otherwise applied (`{ result: "applied", previous, current }`)
     * or ignored by the seq rules (`{ result: "ignored" }`).
     * @param {StatusChanged} event
     * @returns {Outcome}
     */
    applyEvent(event) {
      if (!loaded) {
        buffer.push(event);
        return { result: 'buffered' };
      }
      return apply(event);
    },

    /**
     * Takes a `summary-changed` payload `{ seq, summary }`; returns true when it is newer than
     * the summary in use (from a snapshot or an earlier payload) and so replaces it.
     * @param {SummaryChanged} payload
     */
    applySummary(payload) {
      return takeSummary(payload?.summary, Number(payload?.seq));
    },

    /** Starts a reload: events are buffered until the next `applySnapshot`. */
    beginReload() {
      loaded = false;
    },

    /**
     * Ends a reload that failed: when an earlier snapshot exists, buffered events are applied
     * to it (and returned); otherwise they stay buffered for the next snapshot.
     * @returns {Applied[]}
     */
    cancelReload() {
      if (!hasSnapshot) return [];
      loaded = true;
      return drain();
    },

    /**
     * Every service, in start order.
     * @returns {ServiceRecord[]}
     */
    services() {
      return order.flatMap((name) => byName.get(name) ?? []);
    },

    /**
     * One service by name, or null.
     * @param {string} name
     */
    get(name) {
      return byName.get(name) ?? null;
    },
  };
}
