// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../lib/errors.js';

test('a string from the backend is shown as it is', () => {
  assert.equal(errorText('n8n is not running.'), 'n8n is not running.');
});

test('errors and objects give their message, first line only', () => {
  assert.equal(errorText(new Error('Could not reach Docker.\n    at foo (bar.js:1:1)')), 'Could not reach Docker.');
  assert.equal(errorText({ message: 'Nope.' }), 'Nope.');
});

test('anything else gives a general sentence', () => {
  for (const value of [undefined, null, 42, {}, '', '   ']) {
    assert.equal(errorText(value), 'Something went wrong. Please try again.');
  }
});
