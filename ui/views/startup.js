// @ts-check
// The start-up view: every service in start order, its state advancing, and its downloads
// (an image, or a native service's programs).

import { formatPullProgress } from '../lib/format.js';
import { isComingUp } from '../lib/states.js';
import { pullProgress, stateBadge, updateBadge } from './badge.js';
import { $, $$, h, setText, show } from './dom.js';

/** @typedef {import('../lib/startup.js').Pull} Pull */
/** @typedef {import('../lib/startup.js').Startup} Startup */
/** @typedef {import('../lib/store.js').ServiceRecord} ServiceRecord */

/**
 * Updates a `.pull` block from a download `{ done, total }` (or hides it).
 * @param {HTMLElement | null} block
 * @param {Pull | null} pull
 * @param {boolean} visible
 */
export function updatePull(block, pull, visible) {
  if (!block) return;
  show(block, Boolean(pull) && visible);
  if (!pull || !visible) return;
  const bar = /** @type {HTMLProgressElement | null} */ ($('progress', block));
  if (bar) {
    if (pull.total > 0) {
      bar.max = pull.total;
      bar.value = Math.min(pull.done, pull.total);
    } else {
      bar.removeAttribute('value');
    }
  }
  setText($('.pull-text', block), `Downloading: ${formatPullProgress(pull.done, pull.total)}`);
}

/**
 * @param {string} name
 */
function createItem(name) {
  return h('li', { class: 'startup-item', dataset: { service: name } },
    h('div', { class: 'startup-row' },
      h('span', { class: 'service-name', text: name }),
      stateBadge('stopped')),
    h('p', { class: 'service-reason', hidden: true }),
    pullProgress());
}

/**
 * Renders the start-up list for `services` (in start order) with the downloads known to
 * `startup`. Items are kept and updated, so the list does not flicker.
 * @param {readonly ServiceRecord[]} services
 * @param {Startup} startup
 */
export function renderStartup(services, startup) {
  const list = $('#startup-list');
  if (!list) return;
  const wanted = services.filter((s) => s.status !== 'disabled');
  /** @type {Set<string | undefined>} */
  const names = new Set(wanted.map((s) => s.service));
  /** @type {Map<string | undefined, HTMLElement>} */
  const items = new Map();
  for (const item of $$('.startup-item', list)) {
    if (names.has(item.dataset.service)) items.set(item.dataset.service, item);
    else item.remove();
  }
  wanted.forEach((service, index) => {
    let item = items.get(service.service);
    if (!item) item = createItem(service.service);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
    if (item.dataset.status !== service.status) item.dataset.status = service.status;
    updateBadge($('.state-badge', item), service.status);
    const reason = service.reason || (service.status === 'error' ? service.lastError?.message : '') || '';
    const reasonElement = $('.service-reason', item);
    setText(reasonElement, reason);
    show(reasonElement, Boolean(reason));
    updatePull($('.pull', item), startup.pull(service.service), isComingUp(service.status));
  });
}
