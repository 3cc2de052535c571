// Where the app's start-up is, and the image downloads under way. Pure: no DOM.

const UP_SOON = new Set(['waiting', 'starting']);

/** True when a snapshot shows start-up still under way: some service waiting or starting. */
export function isStartingUp(services) {
  return (services ?? []).some((s) => UP_SOON.has(s?.status));
}

/**
 * Creates the start-up tracker. `phase` is "unknown" (no snapshot yet), "starting",
 * "complete" or "failed"; `failure` is the last `startup-failed` payload while failed.
 */
export function createStartup() {
  let phase = 'unknown';
  let failure = null;
  let degraded = [];
  let lastSeq = -Infinity;
  const pulls = new Map();

  // Start-up events carry a seq: one older than the last one applied is stale.
  function fresh(payload) {
    const seq = Number(payload?.seq);
    if (!Number.isFinite(seq)) return true;
    if (seq <= lastSeq) return false;
    lastSeq = seq;
    return true;
  }

  return {
    get phase() { return phase; },
    get failure() { return failure; },
    get degraded() { return [...degraded]; },

    /** True while the start-up view should show (before the first snapshot, or starting). */
    get showStartupView() { return phase === 'unknown' || phase === 'starting'; },

    /** The first snapshot decides whether start-up is still under way. */
    onSnapshot(services) {
      if (phase === 'unknown') phase = isStartingUp(services) ? 'starting' : 'complete';
    },

    /** A `startup-complete` payload `{ seq, degraded }`. Returns false when it is stale. */
    onComplete(payload) {
      if (!fresh(payload)) return false;
      phase = 'complete';
      failure = null;
      degraded = Array.isArray(payload?.degraded) ? [...payload.degraded] : [];
      return true;
    },

    /** A `startup-failed` payload `{ seq, service, message, hint }`. Returns false when it is stale. */
    onFailed(payload) {
      if (!fresh(payload)) return false;
      phase = 'failed';
      failure = {
        service: payload?.service ?? '',
        message: payload?.message ?? '',
        hint: payload?.hint ?? '',
        seq: payload?.seq ?? null,
      };
      return true;
    },

    /** The user asked for Retry or Continue without: start-up runs again. Returns the previous phase. */
    restart() {
      const previous = phase;
      phase = 'starting';
      return previous;
    },

    /** Puts back the phase (and keeps the failure) when the retry command was refused. */
    revert(previous) {
      if (phase === 'starting') phase = previous;
    },

    /** A `pull-progress` payload `{ seq, service, done, total }`; older ones are ignored. */
    onPull(payload) {
      const name = payload?.service;
      if (typeof name !== 'string') return false;
      const known = pulls.get(name);
      const seq = Number(payload.seq);
      if (known && Number.isFinite(seq) && Number.isFinite(known.seq) && seq <= known.seq) return false;
      pulls.set(name, { seq, done: Number(payload.done) || 0, total: Number(payload.total) || 0 });
      return true;
    },

    /** The download of one service, `{ done, total }`, or null when none is known. */
    pull(name) {
      const known = pulls.get(name);
      return known ? { done: known.done, total: known.total } : null;
    },

    /** Forgets a finished download. */
    clearPull(name) {
      pulls.delete(name);
    },
  };
}
