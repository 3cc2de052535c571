// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableActions, restartLabel } from '../lib/actions.js';
import { STATES, isActive, isComingUp, stateTone } from '../lib/states.js';
import { service } from './fixtures.js';

/** @typedef {import('../types/ServiceState').ServiceState} ServiceState */

/**
 * The enabled buttons of a service in `status`, as words.
 * @param {ServiceState} status
 * @param {Partial<import('../types/ServiceView').ServiceView>} [overrides]
 */
const enabled = (status, overrides) => {
  const a = availableActions(service('x', status, overrides));
  return /** @type {const} */ (['start', 'stop', 'restart', 'open']).filter((k) => a[k]).join(' ');
};

test('which buttons are enabled in each state', () => {
  const table = {
    stopped: 'start',
    waiting: 'stop',
    starting: 'stop restart',
    running: 'stop restart',
    unhealthy: 'stop restart',
    restarting: 'stop restart',
    stopping: '',
    error: 'stop restart',
    disabled: '',
  };
  assert.deepEqual(Object.keys(table).sort(), [...STATES].sort());
  for (const [status, expected] of Object.entries(table)) {
    assert.equal(enabled(/** @type {ServiceState} */ (status)), expected, status);
  }
});

test('open needs a URL and a live service', () => {
  const url = { url: 'http://localhost:5678' };
  assert.equal(enabled('running', url), 'stop restart open');
  assert.equal(enabled('unhealthy', url), 'stop restart open');
  assert.equal(enabled('stopped', url), 'start');
  assert.equal(enabled('running', { url: null }), 'stop restart');
});

test('a service in error gets a prominent Restart', () => {
  assert.equal(availableActions(service('x', 'error')).prominentRestart, true);
  assert.equal(availableActions(service('x', 'running')).prominentRestart, false);
});

test('after a failed program download, Restart says Download again', () => {
  /** @param {import('../types/FailureCause').FailureCause} cause */
  const failed = (cause) => ({ message: 'the download … answered 404 Not Found', detail: null, cause });
  assert.equal(restartLabel(service('x', 'error', { lastError: failed('programDownload') })), 'Download again');
  assert.equal(restartLabel(service('x', 'error', { lastError: failed('exited') })), 'Restart');
  // Once it runs again, the old failure says nothing about the button.
  assert.equal(restartLabel(service('x', 'running', { lastError: failed('programDownload') })), 'Restart');
  assert.equal(restartLabel(null), 'Restart');
});

test('an unknown state or no service enables nothing', () => {
  assert.deepEqual(availableActions(null), {
    start: false, stop: false, restart: false, open: false, prominentRestart: false,
  });
  // A state from a newer backend, say.
  assert.equal(enabled(/** @type {ServiceState} */ (/** @type {unknown} */ ('exploded'))), '');
});

test('state colours and groups', () => {
  assert.equal(stateTone('running'), 'ok');
  for (const s of /** @type {const} */ (['starting', 'waiting', 'restarting'])) assert.equal(stateTone(s), 'busy');
  assert.equal(stateTone('error'), 'bad');
  assert.equal(stateTone('unhealthy'), 'warn');
  assert.equal(stateTone('stopped'), 'off');
  assert.equal(stateTone('disabled'), 'off');
  assert.deepEqual(STATES.filter(isActive), ['starting', 'running', 'unhealthy', 'stopping']);
  assert.deepEqual(STATES.filter(isComingUp), ['waiting', 'starting', 'restarting']);
});
