// setText without a browser: a small stand-in for an element and its text node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setText } from '../views/dom.js';

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
    firstChild: node,
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

test('equal text is not written', () => {
  const el = element('3 min');
  setText(el, '3 min');
  assert.deepEqual(el.writes, { data: 0, textContent: 0 });
});

test('changed text rewrites the text node in place', () => {
  const el = element('3 min');
  setText(el, '4 min');
  assert.equal(el.textContent, '4 min');
  assert.deepEqual(el.writes, { data: 1, textContent: 0 });
});

test('an empty element gets its text once; null and undefined read as ""', () => {
  const el = element('');
  el.firstChild = null;
  el.lastChild = null;
  setText(el, '');
  assert.deepEqual(el.writes, { data: 0, textContent: 0 });
  setText(el, 'running');
  assert.equal(el.writes.textContent, 1);
  setText(el, 'running');
  assert.equal(el.writes.textContent + el.writes.data, 1);
  setText(el, null);
  assert.equal(el.textContent, '');
  setText(null, 'x');
});
