// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLogTail, overflow } from '../lib/logs.js';

/** @typedef {import('../types/LogLine').LogLine} LogLine */

/** @type {(text: string) => LogLine} */
const out = (text) => ({ stream: 'stdout', text });
/** @type {(text: string) => LogLine} */
const err = (text) => ({ stream: 'stderr', text });

test('live lines follow the recent ones', () => {
  assert.deepEqual(mergeLogTail([out('a'), out('b')], [out('c')]), [out('a'), out('b'), out('c')]);
});

test('live lines repeating the end of the recent ones are dropped', () => {
  assert.deepEqual(
    mergeLogTail([out('a'), out('b'), err('c')], [out('b'), err('c'), out('d')]),
    [out('a'), out('b'), err('c'), out('d')],
  );
  assert.deepEqual(mergeLogTail([out('a'), out('b')], [out('a'), out('b')]), [out('a'), out('b')]);
});

test('the stream matters when matching', () => {
  assert.deepEqual(mergeLogTail([out('x')], [err('x')]), [out('x'), err('x')]);
});

test('empty or missing lists', () => {
  assert.deepEqual(mergeLogTail([], [out('a')]), [out('a')]);
  assert.deepEqual(mergeLogTail([out('a')], []), [out('a')]);
  assert.deepEqual(mergeLogTail(undefined, null), []);
});

test('overflow counts the lines to drop', () => {
  assert.equal(overflow(10, 5), 5);
  assert.equal(overflow(3, 5), 0);
});
