// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressProblem, modeLine, normalizeOwnServer } from '../lib/servers.js';
import { malformed } from './fixtures.js';

test('a server entry is filled in, and one without a service is dropped', () => {
  assert.deepEqual(
    normalizeOwnServer({ service: 'n8n', description: 'Workflows', healthPath: '/healthz', url: 'http://box:5678' }),
    { service: 'n8n', description: 'Workflows', healthPath: '/healthz', url: 'http://box:5678' },
  );
  assert.deepEqual(
    normalizeOwnServer(malformed({ service: 'comfyui', description: 7, url: '' })),
    { service: 'comfyui', description: null, healthPath: '/', url: null },
  );
  assert.equal(normalizeOwnServer(malformed({ url: 'http://box' })), null);
  assert.equal(normalizeOwnServer(null), null);
});

test('an address must be an http(s) URL, and says how to write it', () => {
  assert.equal(addressProblem(' http://192.168.1.20:8188 '), null);
  assert.equal(addressProblem('https://n8n.example.org/'), null);
  assert.equal(addressProblem('  '), 'Write the address of your server first, like http://192.168.1.20:5678.');
  assert.equal(addressProblem('gpu-box:8188'), '"gpu-box:8188" is not a web address: it must start with http:// or https://.');
  assert.equal(addressProblem('not an address'), '"not an address" is not an address: write it like http://192.168.1.20:5678.');
  assert.equal(addressProblem('ftp://box'), '"ftp://box" is not a web address: it must start with http:// or https://.');
});

test('how a service runs, in a sentence', () => {
  assert.equal(modeLine({ service: 'n8n', description: null, healthPath: '/healthz', url: null }), 'ClaraVerse runs it on this computer.');
  assert.equal(
    modeLine({ service: 'n8n', description: null, healthPath: '/healthz', url: 'http://box:5678' }),
    'Your server at http://box:5678 (checked at /healthz).',
  );
});
