// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeWelcome } from '../lib/launch.js';
import {
  carryChoice, chosenNames, downloadSize, downloadText, downloadTotal, initialChoice, machineFacts, needsOf,
  servicesText, totalText,
} from '../lib/welcome.js';
import { malformed } from './fixtures.js';

const { features, machine } = normalizeWelcome(malformed({
  features: [
    { name: 'claraCore', label: 'Clara Core', enabled: true, services: ['llamaswap'], needs: { docker: false, gpu: 'optional', downloadBytes: 1_200_000_000 } },
    { name: 'rag', label: 'RAG', enabled: true, services: ['docker', 'python-backend'], needs: { docker: true, gpu: null, downloadBytes: 3_300_000_000 } },
    { name: 'comfyUI', label: 'ComfyUI', enabled: false, services: ['docker', 'comfyui'], needs: { docker: true, gpu: 'required', downloadBytes: 4_500_000_000 } },
    { name: 'mcp', label: 'MCP', enabled: false, services: [], needs: { docker: false, gpu: null, downloadBytes: null } },
  ],
  machine: {
    docker: { available: true, detail: 'Docker 27.3.1' },
    gpu: { available: false, detail: 'No NVIDIA GPU was found (nvidia-smi is not installed).' },
  },
}));

test('download sizes in words', () => {
  assert.equal(downloadSize(4_500_000_000), '4.5 GB');
  assert.equal(downloadSize(12_300_000_000), '12 GB');
  assert.equal(downloadSize(850_000_000), '850 MB');
  assert.equal(downloadSize(null), '');
  assert.equal(downloadSize(-1), '');
  assert.equal(downloadText(4_500_000_000), 'Downloads about 4.5 GB');
  assert.equal(downloadText(0), 'Downloads nothing');
  assert.equal(downloadText(null), '');
  assert.equal(downloadText(undefined), '');
});

test('the first choice is what is enabled, kept in list order', () => {
  assert.deepEqual(initialChoice(features), ['claraCore', 'rag']);
  assert.deepEqual(chosenNames(features, new Set(['comfyUI', 'claraCore', 'unknown'])), ['claraCore', 'comfyUI']);
  assert.deepEqual(chosenNames(features, undefined), []);
  assert.deepEqual(initialChoice(undefined), []);
});

test('the download total follows the choice', () => {
  assert.equal(downloadTotal(features, ['claraCore', 'rag']), 4_500_000_000);
  assert.equal(downloadTotal(features, ['claraCore', 'rag', 'comfyUI', 'mcp']), 9_000_000_000);
  assert.equal(downloadTotal(features, ['mcp']), 0);
  assert.equal(downloadTotal(features, []), 0);
  assert.equal(totalText(features, new Set(['claraCore', 'rag'])), 'About 4.5 GB to download for what you chose');
  assert.equal(totalText(features, ['claraCore', 'rag', 'comfyUI']), 'About 9.0 GB to download for what you chose');
  assert.equal(totalText(features, ['claraCore']), 'About 1.2 GB to download for what you chose');
  assert.equal(totalText(features, ['mcp']), 'Nothing to download for what you chose');
  assert.equal(totalText(features, []), 'Nothing is chosen: ClaraVerse will run no services');
});

test('what a feature needs and whether this machine has it', () => {
  const [core, rag, comfy, mcp] = features;
  assert.deepEqual(needsOf(core, machine), [
    { kind: 'gpu', need: 'Uses an NVIDIA GPU when there is one', have: '✗ No NVIDIA GPU was found (nvidia-smi is not installed).', tone: 'info' },
    { kind: 'download', need: 'Downloads about 1.2 GB', have: '', tone: 'plain' },
  ]);
  assert.deepEqual(needsOf(rag, machine), [
    { kind: 'docker', need: 'Needs Docker', have: '✓ Docker is running', tone: 'ok' },
    { kind: 'download', need: 'Downloads about 3.3 GB', have: '', tone: 'plain' },
  ]);
  assert.deepEqual(needsOf(comfy, machine).map((n) => [n.kind, n.need, n.tone]), [
    ['docker', 'Needs Docker', 'ok'],
    ['gpu', 'Needs an NVIDIA GPU', 'bad'],
    ['download', 'Downloads about 4.5 GB', 'plain'],
  ]);
  assert.deepEqual(needsOf(mcp, machine), []);
});

test('a machine without Docker and with a GPU', () => {
  const other = normalizeWelcome(malformed({
    machine: { docker: { available: false, detail: 'Docker is installed but not running.' }, gpu: { available: true, detail: 'NVIDIA GeForce RTX 4070' } },
  })).machine;
  const comfy = features[2];
  assert.deepEqual(needsOf(comfy, other).slice(0, 2).map((n) => [n.have, n.tone]), [
    ['✗ Docker is installed but not running.', 'bad'],
    ['✓ NVIDIA GeForce RTX 4070', 'ok'],
  ]);
  // Without details, the sentences are still whole.
  const bare = normalizeWelcome(malformed({})).machine;
  assert.deepEqual(needsOf(comfy, bare).slice(0, 2).map((n) => n.have), [
    '✗ Docker is not running.',
    '✗ No NVIDIA GPU was found.',
  ]);
});

test('services and machine facts in words', () => {
  assert.equal(servicesText(features[1]), 'Runs: docker, python-backend');
  assert.equal(servicesText(features[3]), '');
  assert.deepEqual(machineFacts(machine), [
    { kind: 'docker', label: 'Docker', text: 'Docker 27.3.1', ok: true },
    { kind: 'gpu', label: 'NVIDIA GPU', text: 'No NVIDIA GPU was found (nvidia-smi is not installed).', ok: false },
  ]);
  assert.deepEqual(machineFacts(normalizeWelcome(malformed({})).machine).map((f) => f.text), [
    'Docker is not running.', 'No NVIDIA GPU was found.',
  ]);
});

test('drawn again, the user\'s choice stays; new features start as enabled', () => {
  const before = features.slice(0, 3);
  // The user turned Clara Core off and ComfyUI on; MCP appears in the new list, enabled.
  const after = [...features.slice(0, 3), { ...features[3], enabled: true }];
  assert.deepEqual(carryChoice(before, new Set(['rag', 'comfyUI']), after), ['rag', 'comfyUI', 'mcp']);
  // A feature gone from the list is gone from the choice.
  assert.deepEqual(carryChoice(before, ['rag', 'comfyUI'], features.slice(1, 2)), ['rag']);
  assert.deepEqual(carryChoice(undefined, undefined, features), ['claraCore', 'rag']);
});
