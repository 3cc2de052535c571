// @ts-check
// When to tell the user that a service failed or recovered. Pure: no DOM.

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */
/** @typedef {import('../types/ServiceView').ServiceView} ServiceView */
/** @typedef {{ tone: 'bad' | 'warn' | 'ok', service: string, text: string }} Notice */

/** @type {Set<ServiceState | null>} */
const TROUBLE = new Set(['error', 'unhealthy', 'restarting']);
/** @type {Set<ServiceState | null>} */
const LIVE = new Set(['starting', 'running', 'unhealthy']);

/**
 * Creates a tracker that turns state changes into banner notices. A service that fails
 * (error, unhealthy, or a crash that restarts it) gives a "bad"/"warn" notice; one that reaches running after trouble
 * gives an "ok" notice. Stopping or disabling by hand forgets the trouble silently.
 */
export function createNotices() {
  /** @type {Set<string>} */
  const troubled = new Set();

  return {
    /**
     * Takes the previous record (or null) and the new record of a service; returns
     * `{ tone, service, text }` or null when nothing needs saying.
     * @param {ServiceView | null} previous
     * @param {ServiceView | null} next
     * @returns {Notice | null}
     */
    update(previous, next) {
      if (!next) return null;
      const name = next.service;
      const before = previous?.status ?? null;
      const now = next.status;
      if (now === before) return null;
      if (now === 'error') {
        troubled.add(name);
        const why = next.reason || next.lastError?.message;
        return { tone: 'bad', service: name, text: why ? `${name} failed: ${why}` : `${name} failed.` };
      }
      if (now === 'unhealthy') {
        troubled.add(name);
        return { tone: 'warn', service: name, text: `${name} is not answering its health check.` };
      }
      if (TROUBLE.has(now)) {
        troubled.add(name);
        if (now === 'restarting' && LIVE.has(before)) {
          const why = next.reason || next.lastError?.message;
          return { tone: 'warn', service: name, text: why ? `${name} stopped unexpectedly: ${why}` : `${name} stopped unexpectedly and is restarting.` };
        }
        return null;
      }
      if (now === 'running' && troubled.has(name)) {
        troubled.delete(name);
        return { tone: 'ok', service: name, text: `${name} recovered and is running again.` };
      }
      if (now === 'stopped' || now === 'disabled' || now === 'stopping') troubled.delete(name);
      return null;
    },
  };
}
