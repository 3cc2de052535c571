// @ts-check
// Where the app's start-up is, and the image downloads under way. Pure: no DOM.

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */
/** @typedef {import('../types/StartupComplete').StartupComplete} StartupComplete */
/** @typedef {import('../types/StartupFailed').StartupFailed} StartupFailed */
/** @typedef {import('../types/PullProgress').PullProgress} PullProgress */
/**
 * An image download: bytes done, and in all (0 while not known).
 * @typedef {{ done: number, total: number }} Pull
 */
/**
 * The start-up failure the dialog shows.
 * @typedef {{ service: string, message: string, hint: string, seq: number | null }} Failure
 */
/** @typedef {'unknown' | 'starting' | 'complete' | 'failed'} Phase */
/** @typedef {ReturnType<typeof createStartup>} Startup */

/** @type {Set<ServiceState | undefined>} */
const UP_SOON = new Set(['waiting', 'starting']);

/**
 * True when a snapshot shows start-up still under way: some service waiting or starting.
 * @param {readonly { status: ServiceState }[] | null | undefined} services
 */
export function isStartingUp(services) {
  return (services ?? []).some((s) => UP_SOON.has(s?.status));
}

/**
 * Creates the start-up tracker. `phase` is "unknown" (no snapshot yet), "starting",
 * "complete" or "failed"; `failure` is the last `startup-failed` payload while failed.
 */
export function createStartup() {
  /** @type {Phase} */
  let phase = 'unknown';
  /** @type {Failure | null} */
  let failure = null;
  /** @type {string[]} */
  let degraded = [];
  let lastSeq = -Infinity;
  /** @type {Map<string, Pull & { seq: number }>} */
  const pulls = new Map();

  // Start-up events carry a seq: one older than the last one applied is stale.
  /** @param {{ seq: number }} payload */
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

    /**
     * The first snapshot decides whether start-up is still under way.
     * @param {readonly { status: ServiceState }[]} services
     */
    onSnapshot(services) {
      if (phase === 'unknown') phase = isStartingUp(services) ? 'starting' : 'complete';
    },

    /**
     * A `startup-complete` payload `{ seq, degraded }`. Returns false when it is stale.
     * @param {StartupComplete} payload
     */
    onComplete(payload) {
      if (!fresh(payload)) return false;
      phase = 'complete';
      failure = null;
      degraded = Array.isArray(payload?.degraded) ? [...payload.degraded] : [];
      return true;
    },

    /**
     * A `startup-failed` payload `{ seq, service, message, hint }`. Returns false when it is stale.
     * @param {StartupFailed} payload
     */
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

    /**
     * Puts back the phase (and keeps the failure) when the retry command was refused.
     * @param {Phase} previous
     */
    revert(previous) {
      if (phase === 'starting') phase = previous;
    },

    /**
     * A `pull-progress` payload `{ seq, service, done, total }`; older ones are ignored.
     * @param {PullProgress} payload
     */
    onPull(payload) {
      const name = payload?.service;
      if (typeof name !== 'string') return false;
      const known = pulls.get(name);
      const seq = Number(payload.seq);
      if (known && Number.isFinite(seq) && Number.isFinite(known.seq) && seq <= known.seq) return false;
      pulls.set(name, { seq, done: Number(payload.done) || 0, total: Number(payload.total) || 0 });
      return true;
    },

    /**
     * The download of one service, `{ done, total }`, or null when none is known.
     * @param {string} name
     * @returns {Pull | null}
     */
    pull(name) {
      const known = pulls.get(name);
      return known ? { done: known.done, total: known.total } : null;
    },

    /**
     * Forgets a finished download.
     * @param {string} name
     */
    clearPull(name) {
      pulls.delete(name);
    },
  };
}
