import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryLine } from '../lib/summary.js';
import { service } from './fixtures.js';

const list = (...pairs) => pairs.map(([name, status]) => service(name, status));

test('all running', () => {
  const services = list(['a', 'running'], ['b', 'running'], ['c', 'running'], ['d', 'running'], ['e', 'running']);
  assert.equal(summaryLine(services), 'All 5 services are running');
});

test('one service running', () => {
  assert.equal(summaryLine(list(['a', 'running'])), 'The service is running');
});

test('starting counts waiting, starting and restarting while starting up', () => {
  const services = list(['a', 'running'], ['b', 'running'], ['c', 'starting'], ['d', 'waiting'], ['e', 'restarting']);
  assert.equal(summaryLine(services, { startingUp: true }), 'Starting 3 of 5 services…');
  // After start-up, a service still waiting (for Docker, say) is a degradation.
  assert.equal(summaryLine(services), 'Starting 2 of 5 services…');
});

test('a failure during start-up is mentioned', () => {
  const services = list(['a', 'starting'], ['n8n', 'error']);
  assert.equal(summaryLine(services, { startingUp: true }), 'Starting 1 of 2 services… (1 failed: n8n)');
});

test('degraded: failed services by name', () => {
  const services = list(['a', 'running'], ['b', 'running'], ['n8n', 'error']);
  assert.equal(summaryLine(services), 'Degraded: 1 service failed (n8n)');
  const two = list(['a', 'running'], ['n8n', 'error'], ['comfyui', 'error']);
  assert.equal(summaryLine(two), 'Degraded: 2 services failed (n8n, comfyui)');
});

test('degraded: failed, unhealthy and waiting together', () => {
  const services = list(['a', 'unhealthy'], ['n8n', 'error'], ['comfyui', 'waiting']);
  assert.equal(summaryLine(services), 'Degraded: 1 service failed (n8n), 1 unhealthy (a), 1 waiting (comfyui)');
  assert.equal(summaryLine(list(['a', 'unhealthy'], ['b', 'running'])), 'Degraded: 1 service unhealthy (a)');
});

test('stopped', () => {
  assert.equal(summaryLine(list(['a', 'stopped'], ['b', 'stopped'])), 'Stopped');
  assert.equal(summaryLine(list(['a', 'stopped'], ['b', 'disabled'])), 'Stopped');
});

test('stopping', () => {
  assert.equal(summaryLine(list(['a', 'stopping'], ['b', 'running'])), 'Stopping 1 service…');
});

test('some stopped by hand', () => {
  assert.equal(summaryLine(list(['a', 'running'], ['b', 'stopped'], ['c', 'running'])), '2 of 3 services are running');
});

test('disabled services are not counted', () => {
  assert.equal(summaryLine(list(['a', 'running'], ['b', 'disabled'], ['c', 'running'])), 'All 2 services are running');
});

test('no services', () => {
  assert.equal(summaryLine([]), 'No services are turned on');
  assert.equal(summaryLine(list(['a', 'disabled'])), 'No services are turned on');
  assert.equal(summaryLine(undefined), 'No services are turned on');
});
