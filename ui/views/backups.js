// @ts-check
// Settings → Your choices (#backups): "Back up" saves the choices to a new file in the
// backups folder; "Restore…" lists the files there (ul#backup-list > li.backup-row
// [data-name] with button.backup-restore), and restoring one applies it at once. What
// happened is said in .backup-status.

import { $, h, on, setStatus, show } from './dom.js';

/** @typedef {{ call: import('../lib/commands.js').Call, onRestored?: () => void }} BackupsDeps */

/** @type {BackupsDeps | null} */
let api = null;
let wired = false;

function section() {
  return $('#backups');
}

/**
 * @param {string} message
 * @param {'plain' | 'ok' | 'bad'} [tone]
 */
function say(message, tone = 'plain') {
  setStatus($('.backup-status', section()), message, tone);
}

/**
 * @param {HTMLButtonElement} button
 */
async function backUp(button) {
  if (!api) return;
  button.disabled = true;
  const result = await api.call('backup_choices', undefined, { quiet: true });
  button.disabled = false;
  if (result.ok) say(result.value, 'ok');
  else say(result.error, 'bad');
  if (!$('#backup-list', section())?.hidden) listBackups();
}

async function listBackups() {
  if (!api) return;
  const list = $('#backup-list', section());
  const result = await api.call('list_backups', undefined, { quiet: true });
  const files = result.ok ? result.value : [];
  list?.replaceChildren(...files.map((file) => h('li', { class: 'backup-row', 'data-name': file.name, 'data-path': file.path }, [
    h('span', { class: 'backup-name', text: file.name }),
    h('button', { type: 'button', class: 'button backup-restore', text: 'Restore' }),
  ])));
  show(list, true);
  if (files.length === 0) say('There is no backup yet: Back up makes one.');
}

/**
 * @param {HTMLButtonElement} button
 */
async function restore(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest('li.backup-row'));
  const path = row?.dataset.path ?? '';
  if (!api || !path) return;
  button.disabled = true;
  say(`Restoring ${row?.dataset.name ?? path}…`);
  const result = await api.call('restore_backup', { path }, { quiet: true });
  button.disabled = false;
  if (!result.ok) {
    say(result.error, 'bad');
    return;
  }
  say(result.value, 'ok');
  api.onRestored?.();
}

/**
 * Wires Settings → Your choices (the list of files opens on Restore…).
 * @param {BackupsDeps} deps
 */
export function openBackups(deps) {
  api = deps;
  const root = section();
  if (!root) return;
  if (!wired) {
    wired = true;
    on(root, 'click', (event) => {
      const target = event.target;
      if (!(target instanceof HTMLButtonElement) || target.disabled) return;
      if (target.id === 'backup-now') backUp(target);
      if (target.id === 'restore-open') listBackups();
      if (target.classList.contains('backup-restore')) restore(target);
    });
  }
  say('');
  show($('#backup-list', root), false);
}
