// @ts-check
// Opening and closing <dialog> elements with focus handling, and the confirmation dialog.

import { $, on } from './dom.js';

/** @type {WeakMap<HTMLDialogElement, HTMLElement | null>} */
const returnFocus = new WeakMap();

/**
 * Opens `dialog` as a modal (Escape closes it), moves focus into it (`focusTarget`, else the
 * element with `autofocus`, else the first button), and gives focus back on close to what had
 * it before. Does nothing when the dialog is missing or already open.
 * @param {HTMLDialogElement | null} dialog
 * @param {HTMLElement | null} [focusTarget]
 */
export function openDialog(dialog, focusTarget) {
  if (!dialog || dialog.open) return;
  const previous = document.activeElement;
  returnFocus.set(dialog, previous instanceof HTMLElement ? previous : null);
  if (!dialog.dataset.focusWired) {
    dialog.dataset.focusWired = 'yes';
    on(dialog, 'close', () => {
      const target = returnFocus.get(dialog);
      returnFocus.delete(dialog);
      if (target && target.isConnected && !('disabled' in target && target.disabled)) {
        // After the browser's own focus handling.
        setTimeout(() => target.focus(), 0);
      }
    });
  }
  try {
    dialog.showModal();
  } catch {
    dialog.setAttribute('open', '');
  }
  const target = focusTarget ?? $('[autofocus]', dialog) ?? $('button:not([disabled])', dialog);
  target?.focus?.();
}

/**
 * Closes `dialog` when it is open.
 * @param {HTMLDialogElement | null | undefined} dialog
 * @param {string} [returnValue]
 */
export function closeDialog(dialog, returnValue) {
  if (dialog?.open) dialog.close(returnValue);
}

/**
 * Asks a yes/no question in `dialog#confirm-dialog`. Resolves true for the confirm button,
 * false for Cancel, Escape or closing. Resolves false at once when the dialog is missing.
 * @param {{ title?: string, message: string, confirmLabel?: string }} question
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, message, confirmLabel = 'OK' }) {
  const dialog = /** @type {HTMLDialogElement | null} */ ($('#confirm-dialog'));
  if (!dialog) return Promise.resolve(false);
  const titleElement = $('#confirm-title', dialog);
  const messageElement = $('#confirm-message', dialog);
  const confirmButton = $('button.confirm', dialog);
  if (titleElement && title) titleElement.textContent = title;
  if (messageElement) messageElement.textContent = message;
  if (confirmButton) confirmButton.textContent = confirmLabel;
  // Close a question still open from before, as cancelled.
  closeDialog(dialog, 'cancel');
  dialog.returnValue = '';
  return new Promise((resolve) => {
    on(dialog, 'close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    openDialog(dialog, $('button.cancel', dialog));
  });
}
