// @ts-check
// The offer to carry over what the earlier ClaraVerse app left: what was found and what
// Continue does (one sentence each), with Continue and Start fresh. Nothing has started
// yet; Continue backs up the earlier app's settings first.

import { $, h, on, setText, show } from './dom.js';

/** @typedef {{ ok: boolean, error?: string }} Tried */
/**
 * What the view's buttons do: each resolves whether it worked, or the sentence why not.
 * @typedef {{ onContinue: () => Promise<Tried>, onFresh: () => Promise<Tried> }} MoveActions
 */

/** @type {MoveActions | null} */
let api = null;
let wired = false;

function view() {
  return $('#move-view');
}

/**
 * @param {boolean} busy
 * @param {'continue' | 'fresh'} [label]
 */
function setBusy(busy, label) {
  const root = view();
  const go = /** @type {HTMLButtonElement | null} */ ($('#move-continue', root));
  const fresh = /** @type {HTMLButtonElement | null} */ ($('#move-fresh', root));
  if (go) {
    go.disabled = busy;
    setText(go, busy && label === 'continue' ? 'Carrying over…' : 'Continue');
  }
  if (fresh) {
    fresh.disabled = busy;
    setText(fresh, busy && label === 'fresh' ? 'Starting fresh…' : 'Start fresh');
  }
  root?.setAttribute('aria-busy', busy ? 'true' : 'false');
}

/**
 * @param {'continue' | 'fresh'} kind
 */
async function run(kind) {
  if (!api) return;
  setText($('.move-status', view()), '');
  setBusy(true, kind);
  const result = kind === 'continue' ? await api.onContinue() : await api.onFresh();
  if (result?.ok) return;
  setBusy(false);
  setText($('.move-status', view()), result?.error || '');
}

/**
 * Shows `#move-view` with `plan`, the sentences of what Continue does.
 * @param {string[]} plan
 * @param {MoveActions} deps
 */
export function showMove(plan, deps) {
  api = deps;
  const root = view();
  if (!root) return;
  if (!wired) {
    wired = true;
    on($('#move-continue', root), 'click', () => run('continue'));
    on($('#move-fresh', root), 'click', () => run('fresh'));
  }
  $('ul.move-plan', root)?.replaceChildren(...plan.map((line) => h('li', { text: line })));
  setText($('.move-status', root), '');
  setBusy(false);
  show(root, true);
  $('#move-title', root)?.focus();
}

/** Hides the offer. */
export function hideMove() {
  api = null;
  show(view(), false);
}
