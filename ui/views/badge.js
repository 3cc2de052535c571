// @ts-check
// The state badge used on cards and in the start-up list.

import { stateTone } from '../lib/states.js';
import { h, setText } from './dom.js';

/**
 * A new `.state-badge` for `state`.
 * @param {import('../types/ServiceState').ServiceState} state
 */
export function stateBadge(state) {
  const badge = h('span', { class: 'state-badge' });
  updateBadge(badge, state);
  return badge;
}

/**
 * Sets a badge's text (the state itself) and colour.
 * @param {HTMLElement | null} badge
 * @param {import('../types/ServiceState').ServiceState} state
 */
export function updateBadge(badge, state) {
  if (!badge) return;
  setText(badge, state);
  const tone = stateTone(state);
  if (badge.dataset.tone !== tone) badge.dataset.tone = tone;
  if (badge.dataset.state !== state) badge.dataset.state = state;
}

/** A `<progress>` with its text line, for a download (an image, or programs). */
export function pullProgress() {
  return h('div', { class: 'pull', hidden: true },
    h('progress', { class: 'pull-bar', max: '1', value: '0', 'aria-label': 'Download' }),
    h('span', { class: 'pull-text' }));
}
