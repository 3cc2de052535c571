// @ts-check
// Shared fixtures for the tests (node --test also loads this file; it has no tests).

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */
/** @typedef {import('../types/ServiceView').ServiceView} ServiceView */
/** @typedef {import('../types/StatusChanged').StatusChanged} StatusChanged */

/**
 * A service as the snapshot and the events carry it, with `overrides`.
 * @param {string} name
 * @param {ServiceState} [status]
 * @param {Partial<ServiceView>} [overrides]
 * @returns {ServiceView}
 */
export function service(name, status = 'running', overrides = {}) {
  return {
    service: name,
    description: null,
    status,
    health: 'unknown',
    reason: null,
    pid: null,
    restarts: 0,
    lastExit: null,
    lastError: null,
    since: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: null,
    critical: false,
    detail: null,
    logProblem: null,
    ownServer: null,
    feature: null,
    url: null,
    ports: [],
    healthCheck: true,
    programsFolder: false,
    ...overrides,
  };
}

/**
 * A `service-status-changed` payload.
 * @param {string} name
 * @param {ServiceState} status
 * @param {number} seq
 * @param {Partial<ServiceView>} [overrides]
 * @returns {StatusChanged}
 */
export function event(name, status, seq, overrides = {}) {
  return { ...service(name, status, overrides), seq };
}

/**
 * A service as the store keeps it: received at `receivedAt` (ms).
 * @param {string} name
 * @param {ServiceState} status
 * @param {Partial<ServiceView>} overrides
 * @param {number} receivedAt
 * @returns {import('../lib/store.js').ServiceRecord}
 */
export function record(name, status, overrides, receivedAt) {
  return { ...service(name, status, overrides), receivedAt };
}

/**
 * `value`, passed as whatever a function expects: for the tests that feed it what a broken
 * or newer backend might send.
 * @param {unknown} value
 * @returns {any}
 */
export function malformed(value) {
  return value;
}
