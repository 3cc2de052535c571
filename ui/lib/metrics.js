// @ts-check
// The last CPU and memory samples of each service, for the sparklines. Pure: no DOM.

/**
 * One service's last samples, oldest first: CPU in percent, memory in bytes.
 * @typedef {{ cpu: number[], memory: number[] }} Samples
 */

/** @typedef {ReturnType<typeof createMetricsHistory>} MetricsHistory */

/**
 * Creates a history keeping the last `limit` samples (default 30) per service.
 * @param {number} [limit]
 */
export function createMetricsHistory(limit = 30) {
  /** @type {Map<string, Samples>} */
  const history = new Map();
  // A number per service that changes whenever its samples do (add or clear).
  /** @type {Map<string, number>} */
  const versions = new Map();
  let counter = 0;

  return {
    /**
     * Adds one `service-metrics` payload `{ services: [{ service, cpuPercent, memoryBytes }] }`.
     * @param {import('../types/MetricsUpdate').MetricsUpdate} payload
     */
    add(payload) {
      for (const sample of payload?.services ?? []) {
        if (!sample || typeof sample.service !== 'string') continue;
        const entry = history.get(sample.service) ?? { cpu: [], memory: [] };
        entry.cpu = [...entry.cpu, Number(sample.cpuPercent) || 0].slice(-limit);
        entry.memory = [...entry.memory, Number(sample.memoryBytes) || 0].slice(-limit);
        history.set(sample.service, entry);
        counter += 1;
        versions.set(sample.service, counter);
      }
    },

    /**
     * The samples of one service: `{ cpu: number[], memory: number[] }` (empty when none).
     * @param {string} name
     * @returns {Samples}
     */
    of(name) {
      const entry = history.get(name);
      return entry ? { cpu: [...entry.cpu], memory: [...entry.memory] } : { cpu: [], memory: [] };
    },

    /**
     * Forgets one service's samples (when it stops).
     * @param {string} name
     */
    clear(name) {
      if (!history.has(name)) return;
      history.delete(name);
      counter += 1;
      versions.set(name, counter);
    },

    /**
     * A number that changes whenever the samples of `name` change (0 before any).
     * @param {string} name
     */
    version(name) {
      return versions.get(name) ?? 0;
    },
  };
}
