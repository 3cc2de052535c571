// @ts-check
// Settings → Earlier ClaraVerse (#earlier-app): shown while a move from the earlier app can
// be undone. When it was carried over and where its settings are backed up; the earlier
// app's containers it kept (ul#kept-list > li.kept-row[data-container="KEPT AS"] with
// button.kept-remove); #undo-move, which (asked first) stops everything, puts the earlier
// app back and quits. What happened is said in .earlier-status.

import { confirmAction } from './dialogs.js';
import { $, h, on, setStatus, setText, show } from './dom.js';

/** @typedef {import('../types/EarlierAppView').EarlierAppView} EarlierAppView */
/** @typedef {{ call: import('../lib/commands.js').Call }} EarlierDeps */

/** @type {EarlierDeps | null} */
let api = null;
let wired = false;

function section() {
  return $('#earlier-app');
}

/**
 * @param {string} message
 * @param {'plain' | 'ok' | 'bad'} [tone]
 */
function say(message, tone = 'plain') {
  setStatus($('.earlier-status', section()), message, tone);
}

/**
 * @param {EarlierAppView} earlier
 */
function render(earlier) {
  const root = section();
  const when = new Date(earlier.moved);
  const date = Number.isNaN(when.getTime()) ? earlier.moved : when.toLocaleString();
  setText($('.earlier-moved', root), `Carried over from the earlier ClaraVerse app on ${date}. Its settings are backed up in ${earlier.backup}.`);
  const rows = earlier.kept.map((kept) => h('li', { class: 'kept-row', 'data-container': kept.keptAs }, [
    h('span', { class: 'kept-name', text: `${kept.keptAs} — the earlier app's ${kept.name}, stopped` }),
    h('button', { type: 'button', class: 'button kept-remove', text: 'Remove' }),
  ]));
  $('#kept-list', root)?.replaceChildren(...rows);
  show($('.kept-note', root), rows.length > 0);
}

/**
 * @param {HTMLButtonElement} button
 */
async function remove(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest('li.kept-row'));
  const keptAs = row?.dataset.container ?? '';
  if (!api || !row) return;
  const go = await confirmAction({
    title: `Remove ${keptAs}?`,
    message: `The earlier app's container ${keptAs} is removed. Your data stays in its folders; the move can no longer give this container back.`,
    confirmLabel: 'Remove',
  });
  if (!go) return;
  button.disabled = true;
  const result = await api.call('remove_kept_container', { keptAs }, { quiet: true });
  if (!result.ok) {
    button.disabled = false;
    say(result.error, 'bad');
    return;
  }
  row.remove();
  say(`${keptAs} is removed.`, 'ok');
}

/**
 * @param {HTMLButtonElement} button
 */
async function undo(button) {
  if (!api) return;
  const go = await confirmAction({
    title: 'Undo the move?',
    message: 'ClaraVerse stops every service, puts back the earlier app\'s settings and containers as they were, and quits. Open the earlier app to go on.',
    confirmLabel: 'Undo and quit',
  });
  if (!go) return;
  button.disabled = true;
  say('Stopping every service and putting the earlier app back…');
  const result = await api.call('undo_move', undefined, { quiet: true });
  if (result.ok) say(result.value, 'ok');
  else say(result.error, 'bad');
}

/**
 * Fills Settings → Earlier ClaraVerse from `earlier_app`; hidden when there is no move.
 * @param {EarlierDeps} deps
 */
export async function openEarlier(deps) {
  api = deps;
  const root = section();
  if (!root) return;
  if (!wired) {
    wired = true;
    on(root, 'click', (event) => {
      const target = event.target;
      if (!(target instanceof HTMLButtonElement) || target.disabled) return;
      if (target.classList.contains('kept-remove')) remove(target);
      if (target.id === 'undo-move') undo(target);
    });
  }
  say('');
  const result = await deps.call('earlier_app', undefined, { quiet: true });
  if (!result.ok) {
    show(root, true);
    say(`Could not read the move from the earlier app: ${result.error}`, 'bad');
    return;
  }
  show(root, result.value !== null);
  const undoButton = /** @type {HTMLButtonElement | null} */ ($('#undo-move', root));
  if (undoButton) undoButton.disabled = false;
  if (result.value) render(result.value);
}
