// @ts-check
// Toasts (short messages, errors mostly) and the banner (a service failed or recovered).

import { $, h, on } from './dom.js';

const TOAST_MS = 7000;

// A modal <dialog> sits in the top layer, above everything else. Where the browser has the
// popover API the toast region is a manual popover, raised each time a toast shows, so
// errors stay visible over an open dialog.
/**
 * @param {HTMLElement} region
 */
function raise(region) {
  if (typeof region.showPopover !== 'function') return;
  try {
    if (!region.hasAttribute('popover')) region.setAttribute('popover', 'manual');
    if (region.matches(':popover-open')) region.hidePopover();
    region.showPopover();
  } catch {
    // Without popover support the region stays in the page.
  }
}

/**
 * @param {HTMLElement} region
 */
function lower(region) {
  if (region.childElementCount > 0 || typeof region.hidePopover !== 'function') return;
  try {
    if (region.matches(':popover-open')) region.hidePopover();
  } catch {
    // Nothing to hide.
  }
}

/**
 * Shows a toast. `tone` is "error" (announced at once), "info" or "ok". It goes away after a
 * few seconds or with its close button.
 * @param {string} text
 * @param {'error' | 'info' | 'ok'} [tone]
 */
export function showToast(text, tone = 'error') {
  const region = $('#toasts');
  if (!region || !text) return;
  const close = h('button', { class: 'icon-button toast-close', type: 'button', 'aria-label': 'Dismiss', text: '×' });
  const toast = h('div', { class: `toast toast-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
    h('p', { class: 'toast-text', text }), close);
  const remove = () => {
    if (!toast.isConnected) return;
    toast.remove();
    lower(region);
  };
  on(close, 'click', remove);
  region.append(toast);
  // Keep the pile short.
  while (region.children.length > 4) region.firstElementChild?.remove();
  raise(region);
  setTimeout(remove, tone === 'error' ? TOAST_MS * 1.5 : TOAST_MS);
}

let bannerWired = false;

/**
 * Shows the banner with a notice `{ tone, text }` ("bad", "warn" or "ok").
 * @param {Pick<import('../lib/notices.js').Notice, 'tone' | 'text'> | null} notice
 */
export function showBanner(notice) {
  const banner = $('#banner');
  if (!banner || !notice) return;
  if (!bannerWired) {
    bannerWired = true;
    on($('.banner-close', banner), 'click', hideBanner);
  }
  banner.className = `banner banner-${notice.tone}`;
  const text = $('.banner-text', banner);
  if (text) text.textContent = notice.text;
  banner.hidden = false;
}

/** Hides the banner. */
export function hideBanner() {
  const banner = $('#banner');
  if (banner) banner.hidden = true;
}
