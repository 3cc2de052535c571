// @ts-check
// The start-up failure dialog: what failed, why, what to do, and what the user can do now.

import { errorText } from '../lib/errors.js';
import { failureReport } from '../lib/report.js';
import { closeDialog, openDialog } from './dialogs.js';
import { $, on, setText, show } from './dom.js';

const REPORT_LOG_LINES = 50;

/** @typedef {import('../lib/startup.js').Failure} Failure */
/**
 * What the dialog's buttons need.
 * @typedef {{
 *   call: import('../lib/commands.js').Call,
 *   onRetry?: () => void,
 *   onContinue?: (name: string) => void,
 *   openLogs?: (name: string) => void,
 * }} FailureActions
 */

/** @type {Pick<Failure, 'service' | 'message' | 'hint'> | null} */
let failure = null;
/** @type {FailureActions | null} */
let api = null;
let wired = false;

async function copyDetails() {
  const dialog = /** @type {HTMLDialogElement | null} */ ($('#failure-dialog'));
  const status = $('.copy-status', dialog);
  const fallback = /** @type {HTMLTextAreaElement | null} */ ($('.copy-fallback', dialog));
  if (!failure || !api) return;
  setText(status, 'Preparing details…');
  const logs = await api.call('service_logs', { name: failure.service, lines: REPORT_LOG_LINES }, { quiet: true });
  const report = failureReport(failure, logs.ok && Array.isArray(logs.value) ? logs.value : [], {
    time: new Date().toISOString(),
  });
  try {
    if (!navigator.clipboard?.writeText) throw new Error('The clipboard is not available.');
    await navigator.clipboard.writeText(report);
    show(fallback, false);
    setText(status, 'Copied');
  } catch (error) {
    // Let the user copy by hand.
    if (fallback) {
      fallback.value = report;
      show(fallback, true);
      fallback.focus();
      fallback.select();
    }
    setText(status, `Could not copy: ${errorText(error).replace(/\.$/, '')}. The details are selected below; copy them with Ctrl+C (⌘C on a Mac).`);
  }
}

/**
 * @param {HTMLDialogElement} dialog
 */
function wire(dialog) {
  wired = true;
  on($('button.retry', dialog), 'click', () => {
    closeDialog(dialog);
    api?.onRetry?.();
  });
  on($('button.continue', dialog), 'click', () => {
    const name = failure?.service;
    closeDialog(dialog);
    if (name) api?.onContinue?.(name);
  });
  on($('button.show-logs', dialog), 'click', () => {
    if (failure?.service) api?.openLogs?.(failure.service);
  });
  on($('button.copy-details', dialog), 'click', () => {
    copyDetails();
  });
  on($('button.close-dialog', dialog), 'click', () => closeDialog(dialog));
}

/**
 * Shows `dialog#failure-dialog` for a `startup-failed` payload. `deps` gives `call`,
 * `onRetry()`, `onContinue(name)` and `openLogs(name)`.
 * @param {Failure | null} payload
 * @param {FailureActions} deps
 */
export function showFailure(payload, deps) {
  api = deps;
  const dialog = /** @type {HTMLDialogElement | null} */ ($('#failure-dialog'));
  if (!dialog || !payload) return;
  if (!wired) wire(dialog);
  failure = { service: payload.service, message: payload.message, hint: payload.hint };
  setText($('.failure-service', dialog), payload.service || 'A service');
  setText($('.failure-message', dialog), payload.message || 'It stopped without saying why.');
  setText($('.failure-hint', dialog), payload.hint || 'Try again, or continue without it.');
  const continueButton = $('button.continue', dialog);
  if (continueButton) continueButton.textContent = payload.service ? `Continue without ${payload.service}` : 'Continue without it';
  setText($('.copy-status', dialog), '');
  show($('.copy-fallback', dialog), false);
  openDialog(dialog, $('button.retry', dialog));
}

/** Closes the failure dialog (start-up went on after all). */
export function hideFailure() {
  closeDialog(/** @type {HTMLDialogElement | null} */ ($('#failure-dialog')));
}
