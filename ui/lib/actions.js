// @ts-check
// Which card buttons are enabled in which state. Pure: no DOM.

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */
/** @typedef {import('../types/ServiceView').ServiceView} ServiceView */

/** @type {Set<ServiceState | undefined>} */
const CAN_START = new Set(['stopped']);
/** @type {Set<ServiceState | undefined>} */
const CAN_STOP = new Set(['waiting', 'starting', 'running', 'unhealthy', 'restarting', 'error']);
/** @type {Set<ServiceState | undefined>} */
const CAN_RESTART = new Set(['starting', 'running', 'unhealthy', 'restarting', 'error']);
/** @type {Set<ServiceState | undefined>} */
const CAN_OPEN = new Set(['running', 'unhealthy']);

/**
 * The buttons of a service card: `{ start, stop, restart, open, prominentRestart }`, each true
 * when the button should be enabled. `open` needs a URL and a live service; a service in error
 * gets a prominent Restart button.
 * @param {Pick<ServiceView, 'status' | 'url'> | null} service
 */
export function availableActions(service) {
  const state = service?.status;
  return {
    start: CAN_START.has(state),
    stop: CAN_STOP.has(state),
    restart: CAN_RESTART.has(state),
    open: Boolean(service?.url) && CAN_OPEN.has(state),
    prominentRestart: state === 'error',
  };
}

/**
 * What the Restart button says: "Download again" after its program could not be
 * downloaded (a restart downloads it again), else "Restart".
 * @param {Pick<ServiceView, 'status' | 'lastError'> | null} service
 */
export function restartLabel(service) {
  const failedDownload = service?.status === 'error' && service.lastError?.cause === 'programDownload';
  return failedDownload ? 'Download again' : 'Restart';
}
