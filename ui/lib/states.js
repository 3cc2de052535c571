// @ts-check
// The service states and what they mean for the screen. Pure: no DOM.

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */

/**
 * Every state a service can be in, in the order the backend documents them.
 * @type {ServiceState[]}
 */
export const STATES = [
  'stopped', 'waiting', 'starting', 'running', 'unhealthy',
  'restarting', 'stopping', 'error', 'disabled',
];

/**
 * The colour family of a state's badge: "ok", "busy", "bad", "warn" or "off".
 * @param {ServiceState} state
 */
export function stateTone(state) {
  switch (state) {
    case 'running': return 'ok';
    case 'starting':
    case 'waiting':
    case 'restarting':
    case 'stopping': return 'busy';
    case 'error': return 'bad';
    case 'unhealthy': return 'warn';
    default: return 'off';
  }
}

/**
 * True when a process or container of the service may be alive (so metrics mean something).
 * @param {ServiceState | undefined} state
 */
export function isActive(state) {
  return state === 'starting' || state === 'running' || state === 'unhealthy' || state === 'stopping';
}

/**
 * True when the service is on its way up: waiting for dependencies, starting or restarting.
 * @param {ServiceState | undefined} state
 */
export function isComingUp(state) {
  return state === 'waiting' || state === 'starting' || state === 'restarting';
}
