// @ts-check
// The Settings dialog (dialog#features-dialog): the features (views/features.js), the
// servers the user may run himself (views/servers.js), where the programs come from
// (views/programs.js), the move from the earlier app
// (views/earlier.js), backups of the choices (views/backups.js), the Desktop switches,
// and "Choose features again…", which opens the welcome view.

import { errorText } from '../lib/errors.js';
import { DESKTOP_SETTINGS, isDesktopSetting, normalizeSettings, settingsView } from '../lib/settings.js';
import { closeDialog } from './dialogs.js';
import { openFeatures } from './features.js';
import { openBackups } from './backups.js';
import { openEarlier } from './earlier.js';
import { openPrograms } from './programs.js';
import { openServers } from './servers.js';
import { $, on, setStatus, setText, show } from './dom.js';

/** @typedef {import('../types/Settings').Settings} Settings */
/** @typedef {import('../types/Welcome').Welcome} Welcome */
/** @typedef {import('../lib/settings.js').DesktopSetting} DesktopSetting */
/**
 * What Settings needs: the features' needs, and who opens the welcome view.
 * @typedef {import('./features.js').FeaturesDeps & { onShowWelcome?: (welcome: Welcome) => void }} SettingsDeps
 */

/** @type {SettingsDeps | null} */
let api = null;
let wired = false;
/** @type {Settings | null} */
let current = null;
/** @type {Set<DesktopSetting>} */
const pending = new Set();

function dialog() {
  return /** @type {HTMLDialogElement | null} */ ($('#features-dialog'));
}

/**
 * @param {DesktopSetting} name
 * @returns {HTMLInputElement | null}
 */
function input(name) {
  return /** @type {HTMLInputElement | null} */ ($(`input[data-setting="${name}"]`, dialog()));
}

/**
 * @param {string} text
 * @param {'plain' | 'bad'} [tone]
 */
function say(text, tone = 'plain') {
  setStatus($('.settings-status', dialog()), text, tone);
}

/**
 * Shows `settings` on the switches (a switch being changed keeps its own state).
 * @param {Settings} settings
 */
function apply(settings) {
  current = normalizeSettings(settings);
  const shown = settingsView(current);
  for (const name of DESKTOP_SETTINGS) {
    const element = input(name);
    if (!element || pending.has(name)) continue;
    element.checked = shown[name].checked;
    element.disabled = shown[name].disabled;
    const note = $(`.setting-note[data-setting-note="${name}"]`, dialog());
    setText(note, shown[name].note);
    show(note, Boolean(shown[name].note));
  }
}

/**
 * @param {HTMLInputElement} element
 */
async function onSwitch(element) {
  const name = element.dataset.setting;
  if (!isDesktopSetting(name) || pending.has(name) || !api) return;
  const value = element.checked;
  pending.add(name);
  element.disabled = true;
  say('');
  const result = await api.call('set_setting', { name, value }, { quiet: true });
  pending.delete(name);
  element.disabled = false;
  if (result.ok) {
    apply(result.value);
    say('Saved.');
  } else {
    element.checked = !value;
    if (current) apply(current);
    say(result.error, 'bad');
  }
}

/** @param {SettingsDeps} deps */
async function loadDesktop(deps) {
  for (const name of DESKTOP_SETTINGS) {
    const element = input(name);
    if (element) element.disabled = true;
  }
  const result = await deps.call('get_settings', undefined, { quiet: true });
  if (!result.ok) {
    say(`Could not read the desktop settings: ${result.error}`, 'bad');
    return;
  }
  apply(result.value);
}

/**
 * @param {HTMLButtonElement} button
 */
async function onShowWelcome(button) {
  if (!api || button.disabled) return;
  button.disabled = true;
  say('');
  try {
    const result = await api.call('welcome_info', undefined, { quiet: true });
    if (!result.ok) {
      say(`Could not read the features: ${result.error}`, 'bad');
      return;
    }
    closeDialog(dialog());
    api.onShowWelcome?.(result.value);
  } catch (error) {
    say(errorText(error), 'bad');
  } finally {
    button.disabled = false;
  }
}

/**
 * @param {HTMLDialogElement} root
 */
function wire(root) {
  wired = true;
  on($('.desktop-settings', root), 'change', (event) => {
    const element = event.target;
    if (element instanceof HTMLInputElement && element.dataset.setting) onSwitch(element);
  });
  const button = /** @type {HTMLButtonElement | null} */ ($('button.show-welcome', root));
  on(button, 'click', () => {
    if (button) onShowWelcome(button);
  });
}

/**
 * Opens Settings: the features (as `openFeatures`), the servers (as `openServers`), the
 * programs (as `openPrograms`), the move from the earlier app (as `openEarlier`), the backups (as `openBackups`) and the
 * Desktop switches.
 * `deps.call(command, args, options)` runs a command; `deps.onChanged(result)` runs after
 * features were set; `deps.onShowWelcome(welcome)` gets the `welcome_info` answer.
 * @param {SettingsDeps} deps
 */
export function openSettings(deps) {
  api = deps;
  const root = dialog();
  if (!root) return;
  if (!wired) wire(root);
  say('');
  loadDesktop(deps);
  openFeatures(deps);
  openServers(deps);
  openPrograms(deps);
  openEarlier(deps);
  openBackups({ call: deps.call, onRestored: () => openFeatures(deps) });
}
