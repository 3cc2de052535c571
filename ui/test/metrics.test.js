// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsHistory } from '../lib/metrics.js';
import { malformed } from './fixtures.js';

test('samples are kept per service, the last N only', () => {
  const history = createMetricsHistory(3);
  for (let i = 1; i <= 5; i += 1) {
    history.add({ services: [{ service: 'a', cpuPercent: i, memoryBytes: i * 10 }, { service: 'b', cpuPercent: 0, memoryBytes: 1 }] });
  }
  assert.deepEqual(history.of('a'), { cpu: [3, 4, 5], memory: [30, 40, 50] });
  assert.deepEqual(history.of('b').cpu, [0, 0, 0]);
  assert.deepEqual(history.of('c'), { cpu: [], memory: [] });
});

test('clear forgets one service; bad samples are skipped or zeroed', () => {
  const history = createMetricsHistory();
  history.add(malformed({ services: [{ service: 'a', cpuPercent: 1, memoryBytes: 2 }, null, { cpuPercent: 3 }] }));
  history.add(malformed({ services: [{ service: 'a', cpuPercent: 'x', memoryBytes: undefined }] }));
  history.add(malformed(undefined));
  assert.deepEqual(history.of('a'), { cpu: [1, 0], memory: [2, 0] });
  history.clear('a');
  assert.deepEqual(history.of('a'), { cpu: [], memory: [] });
});

test('of() returns copies', () => {
  const history = createMetricsHistory();
  history.add({ services: [{ service: 'a', cpuPercent: 1, memoryBytes: 2 }] });
  history.of('a').cpu.push(99);
  assert.deepEqual(history.of('a').cpu, [1]);
});
