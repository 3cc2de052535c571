// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sparklinePath } from '../lib/sparkline.js';

test('no values give an empty path', () => {
  assert.equal(sparklinePath([]), '');
  assert.equal(sparklinePath(undefined), '');
  assert.equal(sparklinePath([Number.NaN, 'x']), '');
});

test('one value gives a flat line across', () => {
  assert.equal(sparklinePath([5], { width: 100, height: 20, max: 10 }), 'M0,10 L100,10');
});

test('values spread over the width, largest at the top', () => {
  assert.equal(
    sparklinePath([0, 5, 10], { width: 100, height: 20 }),
    'M0,20 L50,10 L100,0',
  );
});

test('a fixed scale clamps values outside it', () => {
  assert.equal(
    sparklinePath([-5, 50, 200], { width: 10, height: 10, min: 0, max: 100 }),
    'M0,10 L5,5 L10,0',
  );
});

test('the floor keeps small idle values low', () => {
  // With a floor of 10, a value of 1 is a tenth of the height, not the top.
  assert.equal(sparklinePath([1, 1], { width: 10, height: 10, floor: 10 }), 'M0,9 L10,9');
  // All zeros: a line at the bottom.
  assert.equal(sparklinePath([0, 0, 0], { width: 10, height: 10 }), 'M0,10 L5,10 L10,10');
});

test('coordinates are rounded to two decimals', () => {
  assert.equal(sparklinePath([0, 1, 2], { width: 10, height: 3 }), 'M0,3 L5,1.5 L10,0');
  assert.equal(sparklinePath([0, 0, 0, 1], { width: 10, height: 10 }), 'M0,10 L3.33,10 L6.67,10 L10,0');
});

test('thirty samples make thirty points', () => {
  const values = Array.from({ length: 30 }, (_, i) => i);
  const path = sparklinePath(values);
  assert.equal(path.split(' ').length, 30);
  assert.ok(path.startsWith('M0,24 '));
  assert.ok(path.endsWith('L100,0'));
});
