// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, normalizeService } from '../lib/store.js';
import { event, malformed, service } from './fixtures.js';

/** @param {ReturnType<typeof createStore>} store */
const statuses = (store) => store.services().map((s) => `${s.service}:${s.status}`);

test('a snapshot gives the services in start order', () => {
  const store = createStore({ now: () => 1000 });
  assert.equal(store.loaded, false);
  store.applySnapshot({ seq: 5, services: [service('docker'), service('core', 'starting')] });
  assert.equal(store.loaded, true);
  assert.equal(store.hasSnapshot, true);
  assert.equal(store.snapshotSeq, 5);
  assert.deepEqual(statuses(store), ['docker:running', 'core:starting']);
  assert.equal(store.get('core')?.receivedAt, 1000);
  assert.equal(store.get('nope'), null);
});

test('events before the snapshot are buffered, then applied only when newer than it', () => {
  const store = createStore();
  assert.equal(store.applyEvent(event('core', 'starting', 3)).result, 'buffered');
  assert.equal(store.applyEvent(event('core', 'running', 7)).result, 'buffered');
  assert.equal(store.applyEvent(event('n8n', 'waiting', 4)).result, 'buffered');
  assert.deepEqual(store.services(), []);
  const applied = store.applySnapshot({
    seq: 5,
    services: [service('core', 'starting'), service('n8n', 'starting')],
  });
  // seq 3 and 4 are older than the snapshot; seq 7 is newer.
  assert.equal(applied.length, 1);
  assert.equal(applied[0].current.service, 'core');
  assert.equal(applied[0].previous?.status, 'starting');
  assert.deepEqual(statuses(store), ['core:running', 'n8n:starting']);
});

test('an event no newer than the snapshot is ignored', () => {
  const store = createStore();
  store.applySnapshot({ seq: 10, services: [service('core', 'starting')] });
  assert.equal(store.applyEvent(event('core', 'running', 10)).result, 'ignored');
  assert.equal(store.applyEvent(event('core', 'running', 9)).result, 'ignored');
  assert.deepEqual(statuses(store), ['core:starting']);
});

test('coalesced and out-of-order events of one service are ignored', () => {
  const store = createStore();
  store.applySnapshot({ seq: 1, services: [service('core', 'stopped'), service('mcp', 'stopped')] });
  const first = store.applyEvent(event('core', 'running', 6));
  assert.equal(first.result, 'applied');
  assert.equal(first.previous?.status, 'stopped');
  assert.equal(store.applyEvent(event('core', 'starting', 4)).result, 'ignored');
  assert.equal(store.applyEvent(event('core', 'starting', 6)).result, 'ignored');
  // Another service keeps its own count.
  assert.equal(store.applyEvent(event('mcp', 'starting', 5)).result, 'applied');
  assert.deepEqual(statuses(store), ['core:running', 'mcp:starting']);
});

test('the event payload becomes a plain service record', () => {
  const store = createStore({ now: () => 42 });
  store.applySnapshot({ seq: 0, services: [] });
  const outcome = store.applyEvent(event('comfyui', 'running', 1, { uptimeSeconds: 12, ports: ['8188'] }));
  assert.equal(outcome.result, 'applied');
  const record = store.get('comfyui');
  assert.ok(record);
  assert.equal('seq' in record, false);
  assert.equal(record.service, 'comfyui');
  assert.equal(record.uptimeSeconds, 12);
  assert.deepEqual(record.ports, ['8188']);
  assert.equal(record.receivedAt, 42);
  // A service first seen in an event goes to the end.
  assert.deepEqual(statuses(store), ['comfyui:running']);
});

test('a reload buffers events and misses none of them', () => {
  const store = createStore();
  store.applySnapshot({ seq: 3, services: [service('a', 'running'), service('b', 'running')] });
  store.beginReload();
  assert.equal(store.loaded, false);
  assert.equal(store.applyEvent(event('a', 'stopping', 8)).result, 'buffered');
  assert.equal(store.applyEvent(event('b', 'error', 6)).result, 'buffered');
  // The snapshot was read between seq 6 and 8.
  const applied = store.applySnapshot({ seq: 7, services: [service('a', 'running'), service('b', 'error')] });
  assert.deepEqual(applied.map((o) => o.current.service), ['a']);
  assert.deepEqual(statuses(store), ['a:stopping', 'b:error']);
  assert.equal(store.loaded, true);
});

test('a failed reload applies the buffered events to the old snapshot', () => {
  const store = createStore();
  store.applySnapshot({ seq: 3, services: [service('a', 'running')] });
  store.beginReload();
  store.applyEvent(event('a', 'stopped', 4));
  const applied = store.cancelReload();
  assert.equal(applied.length, 1);
  assert.deepEqual(statuses(store), ['a:stopped']);
});

test('a failed first load keeps the events for the next snapshot', () => {
  const store = createStore();
  store.applyEvent(event('a', 'running', 9));
  assert.deepEqual(store.cancelReload(), []);
  assert.equal(store.loaded, false);
  store.applySnapshot({ seq: 2, services: [service('a', 'starting')] });
  assert.deepEqual(statuses(store), ['a:running']);
});

test('a new snapshot drops services that are gone and keeps newer events', () => {
  const store = createStore();
  store.applySnapshot({ seq: 1, services: [service('a'), service('b'), service('c')] });
  store.applyEvent(event('c', 'stopping', 20));
  store.applySnapshot({ seq: 10, services: [service('a', 'stopped')] });
  // b is gone; c has an event newer than the snapshot, so it stays as that event said.
  assert.deepEqual(statuses(store), ['a:stopped', 'c:stopping']);
  // After the snapshot, the rule for c is still its own last seq.
  assert.equal(store.applyEvent(event('c', 'stopped', 15)).result, 'ignored');
  assert.equal(store.applyEvent(event('c', 'stopped', 21)).result, 'applied');
});

test('a snapshot older than the one in use is ignored', () => {
  const store = createStore();
  store.applySnapshot({ seq: 10, services: [service('a', 'running')] });
  store.beginReload();
  store.applySnapshot({ seq: 4, services: [service('a', 'stopped')] });
  assert.equal(store.snapshotSeq, 10);
  assert.deepEqual(statuses(store), ['a:running']);
  assert.equal(store.loaded, true);
});

test('events without a name or seq are ignored', () => {
  const store = createStore();
  store.applySnapshot({ seq: 1, services: [] });
  assert.equal(store.applyEvent(malformed({ status: 'running', seq: 3 })).result, 'ignored');
  assert.equal(store.applyEvent(malformed({ service: 'a', status: 'running' })).result, 'ignored');
  assert.equal(store.applyEvent(malformed(null)).result, 'ignored');
  assert.deepEqual(store.services(), []);
});

test('a record is the payload without its seq, with the time it was received', () => {
  const record = normalizeService(event('x', 'waiting', 4), 5);
  assert.deepEqual(record, { ...service('x', 'waiting'), receivedAt: 5 });
  assert.equal('seq' in record, false);
});

test('the summary line comes with the snapshot, then with newer summary events', () => {
  const store = createStore();
  assert.equal(store.summary, '');
  // A summary may arrive before the snapshot; the snapshot replaces it only when newer.
  assert.equal(store.applySummary({ seq: 2, summary: 'Starting 1 of 2 services…' }), true);
  store.applySnapshot({ seq: 5, services: [service('a')], summary: 'The service is running' });
  assert.equal(store.summary, 'The service is running');
  assert.equal(store.applySummary({ seq: 4, summary: 'Stopped' }), false);
  assert.equal(store.applySummary({ seq: 7, summary: 'Stopped' }), true);
  assert.equal(store.summary, 'Stopped');
  store.beginReload();
  store.applySnapshot({ seq: 6, services: [service('a', 'stopped')], summary: 'older' });
  assert.equal(store.summary, 'Stopped');
  assert.equal(store.applySummary(malformed({ summary: 'no seq' })), false);
});
