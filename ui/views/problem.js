// @ts-check
// The launch problem view: ClaraVerse could not start its engine. What went wrong, every
// detail (selectable, to copy into a report), and Try again or Quit.

import { $, h, on, setText, show } from './dom.js';

/** @typedef {import('../types/Problem').Problem} Problem */
/** @typedef {{ ok: boolean, error?: string }} Tried */
/**
 * What the view's buttons do: each resolves whether it worked, or the sentence why not.
 * @typedef {{ onTryAgain: () => Promise<Tried>, onQuit: () => Promise<Tried> }} ProblemActions
 */

/** @type {ProblemActions | null} */
let api = null;
let wired = false;

function view() {
  return $('#launch-problem');
}

/**
 * @param {string} text
 */
function setStatus(text) {
  setText($('.launch-problem-status', view()), text);
}

/**
 * @param {boolean} busy
 * @param {'again' | 'quit'} [label]
 */
function setBusy(busy, label) {
  const root = view();
  const again = /** @type {HTMLButtonElement | null} */ ($('button.try-again', root));
  const quit = /** @type {HTMLButtonElement | null} */ ($('button.quit', root));
  if (again) {
    again.disabled = busy;
    setText(again, busy && label === 'again' ? 'Trying again…' : 'Try again');
  }
  if (quit) {
    quit.disabled = busy;
    setText(quit, busy && label === 'quit' ? 'Quitting…' : 'Quit');
  }
  root?.setAttribute('aria-busy', busy ? 'true' : 'false');
}

/**
 * @param {'again' | 'quit'} kind
 */
async function run(kind) {
  if (!api) return;
  setStatus('');
  setBusy(true, kind);
  const result = kind === 'again' ? await api.onTryAgain() : await api.onQuit();
  // A successful Try again has already shown what comes next: maybe this view again.
  if (result?.ok) {
    if (kind === 'again' && api && !view()?.hidden) setStatus('ClaraVerse still could not start. What is shown above is from this try.');
    return;
  }
  setBusy(false);
  setStatus(result?.error || '');
  const button = $(kind === 'again' ? 'button.try-again' : 'button.quit', view());
  if (!document.activeElement || document.activeElement === document.body) button?.focus();
}

/**
 * @param {HTMLElement} root
 */
function wire(root) {
  wired = true;
  on($('button.try-again', root), 'click', () => run('again'));
  on($('button.quit', root), 'click', () => run('quit'));
}

/**
 * Shows `#launch-problem` for `problem` (`{ title, message, details }`). `deps.onTryAgain()`
 * and `deps.onQuit()` resolve `{ ok, error }`; on failure the sentence shows in the view.
 * @param {Problem} problem
 * @param {ProblemActions} deps
 */
export function showProblem(problem, deps) {
  api = deps;
  const root = view();
  if (!root) return;
  if (!wired) wire(root);
  setText($('.launch-problem-title', root), problem.title);
  setText($('.launch-problem-message', root), problem.message);
  const box = $('.launch-problem-box', root);
  const list = $('ul.launch-problem-details', root);
  list?.replaceChildren(...problem.details.map((line) => h('li', { text: line })));
  show(box, problem.details.length > 0);
  setStatus('');
  setBusy(false);
  show(root, true);
  $('.launch-problem-title', root)?.focus();
}

/** Hides the launch problem view. */
export function hideProblem() {
  api = null;
  show(view(), false);
}
