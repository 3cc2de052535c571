// @ts-check
// Settings → Desktop: the two switches and what they show. Pure: no DOM.

/** @typedef {import('../types/Settings').Settings} Settings */
/** @typedef {'keepRunningInBackground' | 'startAtLogin'} DesktopSetting */
/** @typedef {{ checked: boolean, disabled: boolean, note: string }} SwitchView */

/**
 * The names `set_setting` accepts, in the order the switches appear.
 * @type {readonly DesktopSetting[]}
 */
export const DESKTOP_SETTINGS = ['keepRunningInBackground', 'startAtLogin'];

/**
 * A `get_settings` / `set_setting` answer with every field a boolean.
 * @param {Partial<Settings> | null | undefined} raw
 * @returns {Settings}
 */
export function normalizeSettings(raw) {
  return {
    keepRunningInBackground: raw?.keepRunningInBackground === true,
    startAtLogin: raw?.startAtLogin === true,
    trayAvailable: raw?.trayAvailable === true,
  };
}

/**
 * How each switch shows: `{ [name]: { checked, disabled, note } }`. Without a tray the window
 * cannot hide, so "keep running" is off and cannot be turned on.
 * @param {Partial<Settings> | null | undefined} settings
 * @returns {Record<DesktopSetting, SwitchView>}
 */
export function settingsView(settings) {
  const s = normalizeSettings(settings);
  return {
    keepRunningInBackground: s.trayAvailable
      ? { checked: s.keepRunningInBackground, disabled: false, note: '' }
      : { checked: false, disabled: true, note: 'This desktop has no tray: closing the window quits ClaraVerse' },
    startAtLogin: { checked: s.startAtLogin, disabled: false, note: '' },
  };
}

/**
 * True when `name` is a setting the Desktop section may change.
 * @param {string | undefined} name
 * @returns {name is DesktopSetting}
 */
export function isDesktopSetting(name) {
  return /** @type {readonly (string | undefined)[]} */ (DESKTOP_SETTINGS).includes(name);
}
