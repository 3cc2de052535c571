// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCall } from '../lib/commands.js';

test('a command answers its value, or a sentence that is shown unless quiet', async () => {
  /** @type {string[]} */
  const shown = [];
  const call = createCall(async (command, args) => {
    if (command === 'stop_service') return [JSON.stringify(args)];
    throw new Error('there is no service "x"\nat line 1');
  }, (sentence) => shown.push(sentence));
  assert.deepEqual(await call('stop_service', { name: 'db' }), { ok: true, value: ['{"name":"db"}'] });
  assert.deepEqual(await call('start_service', { name: 'x' }), { ok: false, error: 'there is no service "x"' });
  assert.deepEqual(shown, ['there is no service "x"']);
  await call('start_service', { name: 'x' }, { quiet: true });
  assert.equal(shown.length, 1);
});
