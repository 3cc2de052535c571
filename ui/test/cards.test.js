// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cardModel, cardSignature, createChangeTracker, keyedDiff, metricsKey, metricsModel, sameOrder,
  uptimeText,
} from '../lib/cards.js';
import { createMetricsHistory } from '../lib/metrics.js';
import { record, service } from './fixtures.js';

test('the card model holds what a card shows', () => {
  const model = cardModel(service('n8n', 'running', {
    url: 'http://127.0.0.1:5678', health: 'healthy', ports: ['5678'], restarts: 2, detail: 'Docker n8n:1.0',
  }));
  assert.deepEqual(model, {
    status: 'running',
    description: '',
    detail: 'Docker n8n:1.0',
    logProblem: '',
    reason: '',
    reasonIsError: false,
    pull: null,
    health: 'Healthy',
    healthState: 'healthy',
    restarts: '2',
    ports: '5678',
    exit: '',
    url: 'http://127.0.0.1:5678',
    openText: 'Open http://127.0.0.1:5678',
    openTitle: 'Open http://127.0.0.1:5678 in your browser',
    restartText: 'Restart',
    chooseFolder: false,
    actions: { start: false, stop: true, restart: true, open: true, prominentRestart: false },
  });
});

test('an error shows its reason; a stopped service its last exit and no health', () => {
  const failed = cardModel(service('a', 'error', { lastError: { message: 'port 80 is taken', detail: null, cause: 'portInUse' } }));
  assert.equal(failed.reason, 'port 80 is taken');
  assert.equal(failed.reasonIsError, true);
  assert.equal(cardModel(service('a', 'error')).reason, 'It stopped with an error.');
  const stopped = cardModel(service('a', 'stopped', { lastExit: { code: 1, signal: null }, health: 'healthy' }));
  assert.equal(stopped.exit, 'exited with code 1');
  assert.equal(stopped.health, '');
  assert.equal(stopped.openTitle, 'Available while the service runs');
});

test('a log file that cannot be written is said on the card while it lasts', () => {
  const problem = 'cannot write logs: disk full; the latest lines are kept in memory';
  assert.equal(cardModel(service('a', 'running', { logProblem: problem })).logProblem, problem);
  assert.equal(cardModel(service('a', 'running')).logProblem, '');
});

test('a download shows only while the service comes up', () => {
  const pull = { done: 10, total: 100 };
  assert.deepEqual(cardModel(service('a', 'starting'), { pull }).pull, pull);
  assert.equal(cardModel(service('a', 'running'), { pull }).pull, null);
  assert.equal(cardModel(service('a', 'starting')).pull, null);
});

test('the signature changes exactly when what the card shows changes', () => {
  const base = record('a', 'running', { uptimeSeconds: 10, pid: 41 }, 1000);
  const sig = cardSignature(cardModel(base));
  // Uptime, pid and the time of receipt are not shown on the card (uptime ticks on its own).
  const later = { ...base, uptimeSeconds: 99, receivedAt: 5000, pid: 42 };
  assert.equal(cardSignature(cardModel(later)), sig);
  assert.notEqual(cardSignature(cardModel({ ...base, health: 'healthy' })), sig);
  assert.notEqual(cardSignature(cardModel({ ...base, status: 'unhealthy' })), sig);
  assert.notEqual(cardSignature(cardModel({ ...base, restarts: 1 })), sig);
  assert.notEqual(cardSignature(cardModel({ ...base, ports: ['80'] })), sig);
  assert.notEqual(cardSignature(cardModel(base, { pull: null })), cardSignature(cardModel({ ...base, status: 'starting' }, { pull: { done: 1, total: 2 } })));
  assert.notEqual(
    cardSignature(cardModel({ ...base, status: 'starting' }, { pull: { done: 1, total: 2 } })),
    cardSignature(cardModel({ ...base, status: 'starting' }, { pull: { done: 2, total: 2 } })),
  );
});

test('uptime text only while up', () => {
  const up = record('a', 'running', { uptimeSeconds: 50 }, 0);
  assert.equal(uptimeText(up, 0), '50 s');
  assert.equal(uptimeText(up, 20_000), '1 min');
  assert.equal(uptimeText({ ...up, status: 'stopping' }, 0), '');
  assert.equal(uptimeText({ ...up, status: 'stopped' }, 0), '');
  assert.equal(uptimeText({ ...up, uptimeSeconds: null }, 0), '');
});

test('sparklines: paths and last values, or nothing when the service is down', () => {
  const lines = metricsModel({ cpu: [0, 5, 10], memory: [1_000_000, 2_000_000] }, true);
  assert.equal(lines.cpu.d, 'M0,28 L60,14 L120,0');
  assert.equal(lines.cpu.text, '10%');
  assert.equal(lines.memory.text, '2.0 MB');
  assert.ok(lines.memory.d.startsWith('M0,'));
  assert.deepEqual(metricsModel({ cpu: [1], memory: [1] }, false), {
    cpu: { d: '', text: '—' }, memory: { d: '', text: '—' },
  });
  assert.deepEqual(metricsModel(undefined, true), {
    cpu: { d: '', text: '—' }, memory: { d: '', text: '—' },
  });
});

test('the sparkline key changes with that service\'s samples, not with others\'', () => {
  const history = createMetricsHistory();
  const tracker = createChangeTracker();
  /** @type {(name: string, status?: import('../types/ServiceState').ServiceState) => string} */
  const key = (name, status = 'running') => metricsKey(history.version(name), status);
  assert.equal(history.version('a'), 0);
  assert.equal(tracker.changed('a', key('a')), true);
  assert.equal(tracker.changed('a', key('a')), false);
  history.add({ services: [{ service: 'b', cpuPercent: 1, memoryBytes: 1 }] });
  assert.equal(tracker.changed('a', key('a')), false, 'another service ticked');
  history.add({ services: [{ service: 'a', cpuPercent: 1, memoryBytes: 1 }] });
  assert.equal(tracker.changed('a', key('a')), true);
  // Going down changes what is drawn even without a new sample.
  assert.equal(tracker.changed('a', key('a', 'stopped')), true);
  history.clear('a');
  assert.equal(tracker.changed('a', key('a', 'stopped')), true);
  const cleared = history.version('a');
  history.clear('a');
  assert.equal(history.version('a'), cleared, 'clearing nothing is no change');
});

test('the change tracker remembers the last value per key', () => {
  const tracker = createChangeTracker();
  assert.equal(tracker.changed('a', 'x'), true);
  assert.equal(tracker.changed('a', 'x'), false);
  assert.equal(tracker.changed('a', 'y'), true);
  assert.equal(tracker.changed('b', 'y'), true);
  tracker.forget('a');
  assert.equal(tracker.changed('a', 'y'), true);
  tracker.keep(['b']);
  assert.equal(tracker.size, 1);
  assert.equal(tracker.changed('b', 'y'), false);
  tracker.keep([]);
  assert.equal(tracker.changed('b', 'y'), true);
});

test('keyed diff: which cards go, which come, whether the order changes', () => {
  assert.deepEqual(keyedDiff([], ['a', 'b']), { removed: [], added: ['a', 'b'], reorder: true });
  assert.deepEqual(keyedDiff(['a', 'b'], ['a', 'b']), { removed: [], added: [], reorder: false });
  assert.deepEqual(keyedDiff(['a', 'b', 'c'], ['a', 'c']), { removed: ['b'], added: [], reorder: false });
  assert.deepEqual(keyedDiff(['a', 'b'], ['b', 'a']), { removed: [], added: [], reorder: true });
  assert.deepEqual(keyedDiff(['a'], ['a', 'b']), { removed: [], added: ['b'], reorder: true });
  assert.equal(sameOrder(['a', 'b'], ['a', 'b']), true);
  assert.equal(sameOrder(['a'], ['a', 'b']), false);
});

test('an idle dashboard redraws nothing: same services, same samples', () => {
  // What the dashboard does per render, without a DOM: count the cards it would patch.
  const history = createMetricsHistory();
  const drawn = createChangeTracker();
  const sparks = createChangeTracker();
  const services = [record('a', 'running', { uptimeSeconds: 5 }, 0), service('b', 'stopped')];
  const pass = () => services.filter((s) => {
    const card = drawn.changed(s.service, cardSignature(cardModel(s)));
    const lines = sparks.changed(s.service, metricsKey(history.version(s.service), s.status));
    return card || lines;
  }).map((s) => s.service);
  assert.deepEqual(pass(), ['a', 'b']);
  assert.deepEqual(pass(), []);
  assert.deepEqual(pass(), []);
  history.add({ services: [{ service: 'a', cpuPercent: 2, memoryBytes: 5 }] });
  assert.deepEqual(pass(), ['a']);
  services[1] = { ...services[1], status: 'starting' };
  assert.deepEqual(pass(), ['b']);
});

test('missing programs that may come from a folder get Choose folder…', () => {
  /** @param {import('../types/FailureCause').FailureCause} cause */
  const failed = (cause) => ({ message: 'm', detail: null, cause });
  const card = (/** @type {Partial<import('../types/ServiceView').ServiceView>} */ overrides, status = 'error') =>
    cardModel(service('llamaswap', /** @type {import('../types/ServiceState').ServiceState} */ (status), overrides)).chooseFolder;
  assert.equal(card({ programsFolder: true, lastError: failed('programDownload') }), true);
  assert.equal(card({ programsFolder: true, lastError: failed('missing') }), true);
  assert.equal(card({ programsFolder: true, lastError: failed('exited') }), false);
  assert.equal(card({ programsFolder: false, lastError: failed('programDownload') }), false);
  assert.equal(card({ programsFolder: true, lastError: failed('programDownload') }, 'running'), false);
});
