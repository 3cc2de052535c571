// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStartup, isStartingUp } from '../lib/startup.js';
import { malformed, service } from './fixtures.js';

test('the first snapshot decides whether start-up is under way', () => {
  const busy = createStartup();
  assert.equal(busy.phase, 'unknown');
  assert.equal(busy.showStartupView, true);
  busy.onSnapshot([service('a', 'running'), service('b', 'waiting')]);
  assert.equal(busy.phase, 'starting');
  assert.equal(busy.showStartupView, true);

  const done = createStartup();
  done.onSnapshot([service('a', 'running'), service('b', 'error')]);
  assert.equal(done.phase, 'complete');
  assert.equal(done.showStartupView, false);
  // Later snapshots do not change it.
  done.onSnapshot([service('a', 'starting')]);
  assert.equal(done.phase, 'complete');
});

test('isStartingUp looks for waiting or starting services', () => {
  assert.equal(isStartingUp([service('a', 'starting')]), true);
  assert.equal(isStartingUp([service('a', 'running'), service('b', 'stopped')]), false);
  assert.equal(isStartingUp(undefined), false);
});

test('complete and failed end the start-up view; stale events are ignored', () => {
  const startup = createStartup();
  startup.onSnapshot([service('a', 'starting')]);
  assert.equal(startup.onFailed({ seq: 9, service: 'core', message: 'm', cause: 'exited', hint: 'h' }), true);
  assert.equal(startup.phase, 'failed');
  assert.deepEqual(startup.failure, { service: 'core', message: 'm', hint: 'h', seq: 9 });
  assert.equal(startup.showStartupView, false);
  // A complete older than the failure is stale.
  assert.equal(startup.onComplete({ seq: 8, degraded: [] }), false);
  assert.equal(startup.phase, 'failed');
  assert.equal(startup.onComplete({ seq: 12, degraded: ['n8n'] }), true);
  assert.equal(startup.phase, 'complete');
  assert.equal(startup.failure, null);
  assert.deepEqual(startup.degraded, ['n8n']);
});

test('events before the first snapshot still count', () => {
  const startup = createStartup();
  startup.onComplete({ seq: 3, degraded: [] });
  startup.onSnapshot([service('a', 'starting')]);
  assert.equal(startup.phase, 'complete');
});

test('retry shows the start-up view again, and a refused retry reverts', () => {
  const startup = createStartup();
  startup.onFailed({ seq: 4, service: 'core', message: 'm', cause: 'exited', hint: 'h' });
  const previous = startup.restart();
  assert.equal(previous, 'failed');
  assert.equal(startup.phase, 'starting');
  assert.equal(startup.showStartupView, true);
  startup.revert(previous);
  assert.equal(startup.phase, 'failed');
  assert.equal(startup.failure?.service, 'core');
  // An event that came in meanwhile wins over the revert.
  startup.restart();
  startup.onComplete({ seq: 5, degraded: [] });
  startup.revert('failed');
  assert.equal(startup.phase, 'complete');
});

test('downloads: newest progress per service', () => {
  const startup = createStartup();
  assert.equal(startup.pull('comfyui'), null);
  assert.equal(startup.onPull({ seq: 5, service: 'comfyui', done: 100, total: 1000 }), true);
  assert.equal(startup.onPull({ seq: 4, service: 'comfyui', done: 50, total: 1000 }), false);
  assert.deepEqual(startup.pull('comfyui'), { done: 100, total: 1000 });
  assert.equal(startup.onPull({ seq: 6, service: 'comfyui', done: 900, total: 1000 }), true);
  assert.deepEqual(startup.pull('comfyui'), { done: 900, total: 1000 });
  assert.equal(startup.onPull(malformed({ seq: 7 })), false);
  startup.clearPull('comfyui');
  assert.equal(startup.pull('comfyui'), null);
});
