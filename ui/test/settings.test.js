// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP_SETTINGS, isDesktopSetting, normalizeSettings, settingsView,
} from '../lib/settings.js';
import { malformed } from './fixtures.js';

test('settings are booleans', () => {
  assert.deepEqual(normalizeSettings(malformed({ keepRunningInBackground: true, startAtLogin: 'yes' })), {
    keepRunningInBackground: true, startAtLogin: false, trayAvailable: false,
  });
  assert.deepEqual(normalizeSettings(null), {
    keepRunningInBackground: false, startAtLogin: false, trayAvailable: false,
  });
});

test('with a tray, both switches show the settings', () => {
  assert.deepEqual(settingsView({ keepRunningInBackground: true, startAtLogin: false, trayAvailable: true }), {
    keepRunningInBackground: { checked: true, disabled: false, note: '' },
    startAtLogin: { checked: false, disabled: false, note: '' },
  });
});

test('without a tray, keep-running is off, disabled and explained', () => {
  assert.deepEqual(settingsView({ keepRunningInBackground: true, startAtLogin: true, trayAvailable: false }), {
    keepRunningInBackground: {
      checked: false, disabled: true, note: 'This desktop has no tray: closing the window quits ClaraVerse',
    },
    startAtLogin: { checked: true, disabled: false, note: '' },
  });
});

test('only the two desktop settings may be set', () => {
  assert.deepEqual(DESKTOP_SETTINGS, ['keepRunningInBackground', 'startAtLogin']);
  assert.equal(isDesktopSetting('startAtLogin'), true);
  assert.equal(isDesktopSetting('trayAvailable'), false);
  assert.equal(isDesktopSetting(undefined), false);
});
