// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  currentUptime, describeExit, formatBytes, formatMegabytes, formatPercent, formatPullProgress,
  formatUptime, healthLabel, joinNames, plural,
} from '../lib/format.js';
import { malformed } from './fixtures.js';

test('uptime in words', () => {
  assert.equal(formatUptime(0), '0 s');
  assert.equal(formatUptime(45.9), '45 s');
  assert.equal(formatUptime(60), '1 min');
  assert.equal(formatUptime(3 * 60 + 59), '3 min');
  assert.equal(formatUptime(3600), '1 h');
  assert.equal(formatUptime(2 * 3600 + 5 * 60 + 12), '2 h 5 min');
  assert.equal(formatUptime(86400), '1 d');
  assert.equal(formatUptime(3 * 86400 + 4 * 3600 + 59), '3 d 4 h');
  assert.equal(formatUptime(-1), '');
  assert.equal(formatUptime(null), '');
  assert.equal(formatUptime(Number.NaN), '');
});

test('bytes with a unit', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1500), '1.5 KB');
  assert.equal(formatBytes(312_000_000), '312 MB');
  assert.equal(formatBytes(1_234_000_000), '1.2 GB');
  assert.equal(formatBytes(999_999), '1.0 MB');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(-5), '');
  assert.equal(formatBytes(undefined), '');
});

test('download progress in megabytes', () => {
  assert.equal(formatMegabytes(1_234_567_890), '1,234.6');
  assert.equal(formatPullProgress(312_400_000, 1_204_000_000), '312.4 of 1,204.0 MB (25%)');
  assert.equal(formatPullProgress(2_000_000, 1_000_000), '2.0 of 1.0 MB (100%)');
  assert.equal(formatPullProgress(5_000_000, 0), '5.0 MB downloaded');
  assert.equal(formatPullProgress(0, malformed(undefined)), '0.0 MB downloaded');
});

test('CPU percent', () => {
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(3.14), '3.1%');
  assert.equal(formatPercent(142.7), '143%');
  assert.equal(formatPercent(Number.NaN), '');
});

test('current uptime adds the time since the record was received', () => {
  assert.equal(currentUptime({ uptimeSeconds: 100, receivedAt: 1_000 }, 11_000), 110);
  assert.equal(currentUptime({ uptimeSeconds: 100, receivedAt: 5_000 }, 1_000), 100);
  assert.equal(currentUptime({ uptimeSeconds: null, receivedAt: 0 }, 1_000), null);
  assert.equal(currentUptime({ uptimeSeconds: 7 }, 1_000), 7);
});

test('exits and health in words', () => {
  assert.equal(describeExit({ code: 1, signal: null }), 'exited with code 1');
  assert.equal(describeExit({ code: null, signal: 9 }), 'was killed by signal 9');
  assert.equal(describeExit({ code: null, signal: null }), 'ended');
  assert.equal(describeExit(null), '');
  assert.equal(healthLabel('healthy'), 'Healthy');
  assert.equal(healthLabel('unhealthy'), 'Failing checks');
  assert.equal(healthLabel('unknown'), 'Not checked yet');
  assert.equal(healthLabel('unknown', false), 'No health check');
});

test('plurals and name lists', () => {
  assert.equal(plural(1, 'service'), '1 service');
  assert.equal(plural(0, 'service'), '0 services');
  assert.equal(joinNames([]), '');
  assert.equal(joinNames(['a']), 'a');
  assert.equal(joinNames(['a', 'b']), 'a and b');
  assert.equal(joinNames(['a', 'b', 'c']), 'a, b and c');
});
