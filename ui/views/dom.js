// @ts-check
// Small DOM helpers shared by the views. Every lookup is guarded: a missing element gives
// null (or a no-op), never an exception.

/**
 * The first element matching `selector` inside `root` (default: document), or null.
 * @param {string} selector
 * @param {ParentNode | null | undefined} [root]
 * @returns {HTMLElement | null}
 */
export function $(selector, root = document) {
  try {
    // The page's elements are HTML ones (the few SVG ones are only given attributes).
    return /** @type {HTMLElement | null} */ (root?.querySelector?.(selector) ?? null);
  } catch {
    return null;
  }
}

/**
 * Every element matching `selector` inside `root`, as an array.
 * @param {string} selector
 * @param {ParentNode | null | undefined} [root]
 * @returns {HTMLElement[]}
 */
export function $$(selector, root = document) {
  try {
    return [.../** @type {Iterable<HTMLElement>} */ (root?.querySelectorAll?.(selector) ?? [])];
  } catch {
    return [];
  }
}

/**
 * Adds an event listener when the element exists.
 * @param {EventTarget | null | undefined} element
 * @param {string} type
 * @param {(event: Event) => void} handler
 * @param {AddEventListenerOptions} [options]
 */
export function on(element, type, handler, options) {
  element?.addEventListener?.(type, handler, options);
}

/**
 * Creates an element: `h("button", { class: "start", type: "button", text: "Start" }, child…)`.
 * `text` sets textContent; `dataset` is an object of data-* values; `hidden`/`disabled` are
 * booleans; other keys become attributes. Never parses HTML strings.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node | string | number | null | undefined | false | (Node | string | null | undefined | false)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else if (key === 'class') element.className = String(value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'hidden' || key === 'disabled' || key === 'checked') Object.assign(element, { [key]: Boolean(value) });
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * An SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string | number>} [attributes]
 * @returns {SVGElement}
 */
export function svg(tag, attributes = {}) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/**
 * Sets an element's text only when it changed (keeps screen readers, selections and layout
 * calm). When the element holds one text node, that node's data is compared and, when it
 * differs, rewritten in place.
 * @param {Node | null | undefined} element
 * @param {string | number | null | undefined} text
 */
export function setText(element, text) {
  if (!element) return;
  const value = text === null || text === undefined ? '' : String(text);
  const only = element.firstChild;
  if (only && only === element.lastChild && only.nodeType === 3) {
    const node = /** @type {Text} */ (only);
    if (node.data !== value) node.data = value;
    return;
  }
  if (element.textContent !== value) element.textContent = value;
}

/**
 * Says `message` in a status line, with the tone its colour follows (`data-tone`).
 * @param {HTMLElement | null | undefined} element
 * @param {string} message
 * @param {'plain' | 'ok' | 'bad'} [tone]
 */
export function setStatus(element, message, tone = 'plain') {
  if (!element) return;
  setText(element, message);
  if (element.dataset.tone !== tone) element.dataset.tone = tone;
}

/**
 * Shows or hides an element with the `hidden` property.
 * @param {HTMLElement | null | undefined} element
 * @param {unknown} visible
 */
export function show(element, visible) {
  if (element && element.hidden === Boolean(visible)) element.hidden = !visible;
}
