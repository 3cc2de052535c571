// @ts-check
// setText without a browser: a small stand-in for an element and its text node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setText } from '../views/dom.js';

/**
 * A stand-in element holding one text node with `text`, counting the writes.
 * @param {string} text
 */
function element(text) {
  const writes = { data: 0, textContent: 0 };
  const node = {
    nodeType: 3,
    _data: text,
    get data() { return this._data; },
    set data(value) { writes.data += 1; this._data = value; },
  };
  const el = {
    writes,
    /** @type {typeof node | null} */
    firstChild: node,
    /** @type {typeof node | null} */
    lastChild: node,
    get textContent() { return this.firstChild ? this.firstChild.data : ''; },
    set textContent(value) {
      writes.textContent += 1;
      node._data = value;
      this.firstChild = node;
      this.lastChild = node;
    },
  };
  return el;
}

/**
 * The stand-in as the DOM node it plays.
 * @param {ReturnType<typeof element>} el
 */
const asNode = (el) => /** @type {Node} */ (/** @type {unknown} */ (el));

test('equal text is not written', () => {
  const el = element('3 min');
  setText(asNode(el), '3 min');
  assert.deepEqual(el.writes, { data: 0, textContent: 0 });
});

test('changed text rewrites the text node in place', () => {
  const el = element('3 min');
  setText(asNode(el), '4 min');
  assert.equal(el.textContent, '4 min');
  assert.deepEqual(el.writes, { data: 1, textContent: 0 });
});

test('an empty element gets its text once; null and undefined read as ""', () => {
  const el = element('');
  el.firstChild = null;
  el.lastChild = null;
  setText(asNode(el), '');
  assert.deepEqual(el.writes, { data: 0, textContent: 0 });
  setText(asNode(el), 'running');
  assert.equal(el.writes.textContent, 1);
  setText(asNode(el), 'running');
  assert.equal(el.writes.textContent + el.writes.data, 1);
  setText(asNode(el), null);
  assert.equal(el.textContent, '');
  setText(null, 'x');
});
