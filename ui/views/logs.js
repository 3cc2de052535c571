// @ts-check
// The logs panel: the recent lines of one service, then its new lines as they come.

import { mergeLogTail, overflow } from '../lib/logs.js';
import { closeDialog, openDialog } from './dialogs.js';
import { $, h, on, setText, show } from './dom.js';

const RECENT_LINES = 500;
const MAX_LINES = 5000;

/** @typedef {import('../types/LogLine').LogLine} LogLine */
/** @typedef {import('../types/ServiceLog').ServiceLog} ServiceLog */
/** @typedef {{ call: import('../lib/commands.js').Call }} LogsDeps */
/**
 * The panel open for one service: lines that came while the recent ones were read, and
 * whether its new lines are followed.
 * @typedef {{ name: string, id: number, live: LogLine[], ready: boolean, following: boolean }} Session
 */

/** @type {LogsDeps | null} */
let api = null;
let wired = false;
/** @type {Session | null} */
let session = null;
let counter = 0;

function output() {
  return $('#logs-dialog .log-output');
}

/**
 * @param {HTMLElement} element
 */
function isAtBottom(element) {
  return element.scrollHeight - element.scrollTop - element.clientHeight < 24;
}

/**
 * @param {LogLine} line
 */
function lineElement(line) {
  const stream = line?.stream === 'stderr' ? 'stderr' : 'stdout';
  return h('div', {
    class: `log-line log-${stream}`,
    dataset: { stream },
    text: String(line?.text ?? '').replace(/\r?\n$/, ''),
  });
}

/**
 * @param {LogLine[]} lines
 */
function append(lines) {
  const box = output();
  if (!box || lines.length === 0) return;
  const stick = isAtBottom(box);
  box.append(...lines.map(lineElement));
  for (let i = overflow(box.childElementCount, MAX_LINES); i > 0; i -= 1) box.firstElementChild?.remove();
  if (stick) box.scrollTop = box.scrollHeight;
  show($('#logs-dialog .jump-latest'), !isAtBottom(box));
}

/**
 * @param {Session | null} current
 */
function stopFollowing(current) {
  if (current?.following) {
    current.following = false;
    api?.call('unfollow_logs', { name: current.name }, { quiet: true });
  }
}

/**
 * @param {HTMLDialogElement} dialog
 */
function wire(dialog) {
  wired = true;
  on(dialog, 'close', () => {
    stopFollowing(session);
    session = null;
  });
  for (const button of dialog.querySelectorAll('button.close-dialog')) {
    on(button, 'click', () => closeDialog(dialog));
  }
  const box = output();
  on(box, 'scroll', () => {
    if (box) show($('.jump-latest', dialog), !isAtBottom(box));
  });
  on($('.jump-latest', dialog), 'click', () => {
    if (box) box.scrollTop = box.scrollHeight;
    show($('.jump-latest', dialog), false);
    box?.focus();
  });
}

/**
 * Opens `dialog#logs-dialog` for service `name`: starts following, reads the last 500 lines,
 * then shows new lines as `service-log` events arrive. Closing the dialog stops following.
 * `deps.call(command, args, options)` runs a command, resolving `{ ok, value, error }`.
 * @param {string} name
 * @param {LogsDeps} deps
 */
export async function openLogs(name, deps) {
  api = deps;
  const dialog = /** @type {HTMLDialogElement | null} */ ($('#logs-dialog'));
  const box = output();
  if (!dialog || !box || !name) return;
  if (!wired) wire(dialog);
  if (session?.name === name && dialog.open) return;
  stopFollowing(session);

  /** @type {Session} */
  const current = { name, id: (counter += 1), live: [], ready: false, following: false };
  session = current;
  setText($('#logs-title', dialog), `Logs: ${name}`);
  setText($('.logs-state', dialog), 'Loading…');
  box.replaceChildren();
  show($('.jump-latest', dialog), false);
  openDialog(dialog, box);

  const follow = await api.call('follow_logs', { name }, { quiet: true });
  if (session !== current) {
    if (follow.ok) api.call('unfollow_logs', { name }, { quiet: true });
    return;
  }
  current.following = follow.ok;
  const recent = await api.call('service_logs', { name, lines: RECENT_LINES }, { quiet: true });
  if (session !== current) return;
  const lines = mergeLogTail(recent.ok && Array.isArray(recent.value) ? recent.value : [], current.live);
  current.live = [];
  current.ready = true;
  append(lines);
  box.scrollTop = box.scrollHeight;
  // Errors show in the panel itself (a toast would sit behind the dialog in some browsers).
  let state = current.following ? 'Following' : 'Not following new lines';
  if (lines.length === 0) state = current.following ? 'No output yet; following' : 'No output yet';
  if (!recent.ok) state = `Could not read the recent lines: ${recent.error}`;
  if (!follow.ok) state = `${recent.ok ? '' : `Could not read the recent lines: ${recent.error} `}New lines will not appear: ${follow.error}`;
  setText($('.logs-state', dialog), state);
}

/**
 * Takes a `service-log` payload `{ service, stream, text }`; shows it when its panel is open.
 * @param {ServiceLog} payload
 */
export function onLogEvent(payload) {
  const current = session;
  if (!current || payload?.service !== current.name) return;
  const line = { stream: payload.stream, text: payload.text };
  if (!current.ready) {
    current.live.push(line);
    return;
  }
  append([line]);
  setText($('#logs-dialog .logs-state'), 'Following');
}
