// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  changeSummary, confirmationMessage, extraStops, featureSetWith, toggleAction,
} from '../lib/features.js';
import { malformed } from './fixtures.js';

const features = [
  { name: 'claraCore', label: 'Clara Core', description: null, enabled: true, services: ['llamaswap'] },
  { name: 'rag', label: 'RAG', description: 'Documents', enabled: true, services: ['python-backend'] },
  { name: 'comfyUI', label: 'ComfyUI', description: null, enabled: false, services: ['docker', 'comfyui'] },
];

test('the feature set after a toggle', () => {
  assert.deepEqual(featureSetWith(features, 'comfyUI', true), ['claraCore', 'rag', 'comfyUI']);
  assert.deepEqual(featureSetWith(features, 'rag', false), ['claraCore']);
  assert.deepEqual(featureSetWith(features, 'unknown', true), ['claraCore', 'rag']);
  assert.deepEqual(featureSetWith(undefined, 'rag', true), []);
});

test('turning on applies at once, turning off previews first', () => {
  assert.deepEqual(toggleAction(features, 'comfyUI', true), { action: 'apply' });
  assert.deepEqual(toggleAction(features, 'rag', false), { action: 'preview' });
  assert.deepEqual(toggleAction(features, 'rag', true), { action: 'none' });
  assert.deepEqual(toggleAction(features, 'nope', true), { action: 'none' });
});

test('only stops outside the feature need a confirmation', () => {
  const rag = features[1];
  assert.deepEqual(extraStops(rag, { starts: [], stops: ['python-backend'] }), []);
  assert.deepEqual(extraStops(rag, { starts: [], stops: ['python-backend', 'comfyui'] }), ['comfyui']);
  assert.deepEqual(extraStops(rag, { starts: [], stops: ['comfyui', 'comfyui'] }), ['comfyui']);
  assert.deepEqual(extraStops(rag, null), []);
  assert.deepEqual(extraStops(null, malformed({ stops: ['a'] })), ['a']);
});

test('the confirmation sentence', () => {
  assert.equal(confirmationMessage(features[1], ['comfyui']), 'Turning off RAG also stops: comfyui');
  assert.equal(
    confirmationMessage({ name: 'rag' }, ['comfyui', 'n8n']),
    'Turning off rag also stops: comfyui, n8n',
  );
});

test('what a change did, in words', () => {
  assert.equal(changeSummary({ starts: ['docker', 'comfyui'], stops: [] }), 'Starting: docker, comfyui.');
  assert.equal(changeSummary({ starts: [], stops: ['n8n'] }), 'Stopping: n8n.');
  assert.equal(changeSummary({ starts: ['a'], stops: ['b'] }), 'Starting: a. Stopping: b.');
  assert.equal(changeSummary({ starts: [], stops: [] }), '');
  assert.equal(changeSummary(null), '');
});
