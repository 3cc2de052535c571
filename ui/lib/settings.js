// Settings → Desktop: the two switches and what they show. Pure: no DOM.

/** The names `set_setting` accepts, in the order the switches appear. */
export const DESKTOP_SETTINGS = ['keepRunningInBackground', 'startAtLogin'];

/** A `get_settings` / `set_setting` answer with every field a boolean. */
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

/** True when `name` is a setting the Desktop section may change. */
export function isDesktopSetting(name) {
  return DESKTOP_SETTINGS.includes(name);
}
