// @ts-check
// What a dashboard card shows, and whether that changed since it was drawn. Pure: no DOM.
// The dashboard draws a card only when its signature changed, its sparklines only when that
// service's samples changed, and its uptime only when the text differs.

import { availableActions, restartLabel } from './actions.js';
import {
  currentUptime, describeExit, formatBytes, formatPercent, formatUptime, healthLabel,
} from './format.js';
import { sparklinePath } from './sparkline.js';
import { isActive, isComingUp } from './states.js';

/** @typedef {import('../types/ServiceView').ServiceView} ServiceView */
/** @typedef {import('./store.js').ServiceRecord} ServiceRecord */
/** @typedef {import('./startup.js').Pull} Pull */
/** @typedef {import('./metrics.js').Samples} Samples */
/** @typedef {ReturnType<typeof cardModel>} CardModel */
/** @typedef {{ d: string, text: string }} MetricLine */

/** The size of a sparkline in SVG units. */
export const SPARK = { width: 120, height: 28 };

/**
 * The uptime text of a service now, or "" when it is not up.
 * @param {ServiceRecord} service
 * @param {number} nowMs
 */
export function uptimeText(service, nowMs) {
  if (!isActive(service?.status) || service.status === 'stopping') return '';
  const seconds = currentUptime(service, nowMs);
  return seconds === null ? '' : formatUptime(seconds);
}

/**
 * Everything a card shows of `service` apart from its uptime and sparklines, as plain data.
 * `pull` is the download `{ done, total }` of the service (its image or its programs), or null.
 * @param {ServiceView} service
 * @param {{ pull?: Pull | null }} [options]
 */
export function cardModel(service, { pull = null } = {}) {
  const state = service.status;
  const active = isActive(state);
  let reason = service.reason || '';
  if (!reason && state === 'error') reason = service.lastError?.message || 'It stopped with an error.';
  const actions = availableActions(service);
  const url = service.url || '';
  return {
    status: state,
    description: service.description || '',
    detail: service.detail || '',
    logProblem: service.logProblem || '',
    reason,
    reasonIsError: state === 'error',
    pull: isComingUp(state) && pull ? { done: pull.done, total: pull.total } : null,
    health: active ? healthLabel(service.health, service.healthCheck !== false) : '',
    healthState: String(service.health ?? 'unknown'),
    restarts: String(service.restarts ?? 0),
    ports: (service.ports ?? []).join(', '),
    exit: active ? '' : describeExit(service.lastExit),
    url,
    openText: url ? `Open ${url}` : 'Open',
    openTitle: actions.open ? `Open ${url} in your browser` : 'Available while the service runs',
    restartText: restartLabel(service),
    chooseFolder: canChooseFolder(service),
    actions,
  };
}

/**
 * Whether the card offers "Choose folder…": the service's programs are missing (their
 * download failed, or they are not where they should be) and may come from a folder the
 * user has.
 * @param {Pick<ServiceView, 'status' | 'lastError' | 'programsFolder'>} service
 */
export function canChooseFolder(service) {
  const cause = service.lastError?.cause;
  return Boolean(service.programsFolder) && service.status === 'error'
    && (cause === 'programDownload' || cause === 'missing');
}

/**
 * A string that differs exactly when what `cardModel` describes differs.
 * @param {CardModel} model
 */
export function cardSignature(model) {
  return JSON.stringify(model);
}

/**
 * The sparklines of a card: `{ cpu: { d, text }, memory: { d, text } }` for `samples`
 * (`{ cpu: number[], memory: number[] }`). A service that is not up shows empty lines and "—".
 * @param {Samples | null | undefined} samples
 * @param {boolean} live
 * @returns {{ cpu: MetricLine, memory: MetricLine }}
 */
export function metricsModel(samples, live) {
  /**
   * @param {number[] | undefined} values
   * @param {(value: number) => string} format
   * @param {number} floor
   * @returns {MetricLine}
   */
  const line = (values, format, floor) => {
    const list = live && Array.isArray(values) ? values : [];
    const last = list[list.length - 1];
    return {
      d: list.length ? sparklinePath(list, { ...SPARK, floor }) : '',
      text: typeof last === 'number' ? format(last) : '—',
    };
  };
  return {
    cpu: line(samples?.cpu, formatPercent, 10),
    memory: line(samples?.memory, formatBytes, 1),
  };
}

/**
 * The key that changes when a card's sparklines need drawing again.
 * @param {number} version
 * @param {import('../types/ServiceState').ServiceState} status
 */
export function metricsKey(version, status) {
  return `${version}:${isActive(status) ? 'live' : 'off'}`;
}

/**
 * True when `next` lists the same names in the same order as `previous`.
 * @param {readonly string[]} previous
 * @param {readonly string[]} next
 */
export function sameOrder(previous, next) {
  if (previous.length !== next.length) return false;
  return previous.every((name, index) => name === next[index]);
}

/**
 * The cards to drop and to make when the services go from `previous` names to `next` names:
 * `{ removed, added, reorder }` (reorder: the order on screen must change).
 * @param {readonly string[]} previous
 * @param {readonly string[]} next
 */
export function keyedDiff(previous, next) {
  const before = new Set(previous);
  const after = new Set(next);
  const removed = previous.filter((name) => !after.has(name));
  const added = next.filter((name) => !before.has(name));
  const kept = previous.filter((name) => after.has(name));
  return { removed, added, reorder: added.length > 0 || !sameOrder(kept, next) };
}

/**
 * Remembers, per key, the last value drawn. `changed(key, value)` is true (and remembers
 * `value`) when it differs from the last one; `forget(key)` drops a key; `keep(keys)` drops
 * every key not in `keys`.
 */
export function createChangeTracker() {
  /** @type {Map<string, unknown>} */
  const last = new Map();
  return {
    /**
     * @param {string} key
     * @param {unknown} value
     */
    changed(key, value) {
      if (last.has(key) && last.get(key) === value) return false;
      last.set(key, value);
      return true;
    },
    /**
     * @param {string} key
     */
    forget(key) {
      last.delete(key);
    },
    /**
     * @param {Iterable<string>} keys
     */
    keep(keys) {
      const wanted = new Set(keys);
      for (const key of [...last.keys()]) if (!wanted.has(key)) last.delete(key);
    },
    get size() { return last.size; },
  };
}
