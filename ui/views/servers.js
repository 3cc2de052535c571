// @ts-check
// Settings → Servers (#server-list): per service that allows it, "Run it for me" or "Use my
// own server" with its address, Test (the service's health check, once, against it) and
// "Use this server" (applied at once). Each row says what happened in its .server-status.

import { addressProblem, modeLine, normalizeOwnServer } from '../lib/servers.js';
import { $, h, on, setStatus, show } from './dom.js';

/** @typedef {import('../types/OwnServerView').OwnServerView} OwnServerView */
/** @typedef {{ call: import('../lib/commands.js').Call }} ServersDeps */

/** @type {ServersDeps | null} */
let api = null;
let wired = false;
/** @type {Map<string, OwnServerView>} */
const servers = new Map();

function list() {
  return $('#server-list');
}

/**
 * @param {HTMLElement} row
 * @param {string} message
 * @param {'plain' | 'ok' | 'bad'} [tone]
 */
function say(row, message, tone = 'plain') {
  setStatus($('.server-status', row), message, tone);
}

/**
 * @param {HTMLElement} row
 * @param {boolean} busy
 */
function setBusy(row, busy) {
  for (const element of row.querySelectorAll('input, button')) {
    /** @type {HTMLInputElement | HTMLButtonElement} */ (element).disabled = busy;
  }
  row.setAttribute('aria-busy', busy ? 'true' : 'false');
}

/**
 * @param {OwnServerView} server
 */
function rowFor(server) {
  const name = server.service;
  const group = `server-mode-${name}`;
  const radio = (/** @type {string} */ value, /** @type {string} */ label, /** @type {boolean} */ checked) => h(
    'label',
    { class: 'server-mode-label' },
    h('input', { type: 'radio', name: group, value, class: 'server-mode', checked }),
    label,
  );
  const url = /** @type {HTMLInputElement} */ (h('input', {
    type: 'url', class: 'server-url', placeholder: 'http://192.168.1.20:5678', 'aria-label': `Address of your ${name} server`,
  }));
  url.value = server.url ?? '';
  const own = h('div', { class: 'server-own' }, [
    url,
    h('button', { type: 'button', class: 'button server-test', text: 'Test' }),
    h('button', { type: 'button', class: 'button primary server-use', text: 'Use this server' }),
  ]);
  show(own, Boolean(server.url));
  return h('li', { class: 'server-row', 'data-service': name }, [
    h('div', { class: 'server-name' }, [
      h('strong', { text: name }),
      server.description ? h('span', { class: 'server-description', text: ` — ${server.description}` }) : null,
    ]),
    h('div', { class: 'server-modes', role: 'radiogroup', 'aria-label': `How ${name} runs` }, [
      radio('managed', 'Run it for me', !server.url),
      radio('own', 'Use my own server', Boolean(server.url)),
    ]),
    own,
    h('p', { class: 'server-status', role: 'status', 'aria-live': 'polite', text: modeLine(server) }),
  ]);
}

/**
 * @param {HTMLElement} row
 * @param {string | null} url
 */
async function use(row, url) {
  const name = row.dataset.service ?? '';
  if (!api) return;
  setBusy(row, true);
  say(row, url ? `Switching to your server at ${url}…` : 'Starting it on this computer…');
  const result = await api.call('use_own_server', { name, url }, { quiet: true });
  setBusy(row, false);
  if (!result.ok) {
    say(row, result.error, 'bad');
    return;
  }
  const server = servers.get(name);
  if (server) servers.set(name, { ...server, url });
  say(row, url ? `Your server at ${url} is used now.` : 'ClaraVerse runs it on this computer again.', 'ok');
}

/**
 * @param {HTMLElement} row
 */
async function test(row) {
  const name = row.dataset.service ?? '';
  const url = /** @type {HTMLInputElement | null} */ ($('.server-url', row))?.value.trim() ?? '';
  const problem = addressProblem(url);
  if (problem) {
    say(row, problem, 'bad');
    return;
  }
  if (!api) return;
  setBusy(row, true);
  say(row, `Asking ${url}…`);
  const result = await api.call('test_own_server', { name, url }, { quiet: true });
  setBusy(row, false);
  if (!result.ok) say(row, result.error, 'bad');
  else say(row, result.value.message, result.value.ok ? 'ok' : 'bad');
}

/**
 * @param {Event} event
 */
function onInput(event) {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  const row = /** @type {HTMLElement | null} */ (target.closest('li.server-row'));
  if (!row) return;
  const name = row.dataset.service ?? '';
  if (target instanceof HTMLInputElement && target.classList.contains('server-mode') && event.type === 'change') {
    const own = target.value === 'own';
    show($('.server-own', row), own);
    if (own) {
      /** @type {HTMLInputElement | null} */ ($('.server-url', row))?.focus();
      say(row, 'Write the address of your server, then Test or use it.');
    } else if (servers.get(name)?.url) {
      use(row, null);
    } else {
      say(row, modeLine({ service: name, description: null, healthPath: '/', url: null }));
    }
    return;
  }
  if (event.type !== 'click') return;
  if (target.classList.contains('server-test')) test(row);
  if (target.classList.contains('server-use')) {
    const url = /** @type {HTMLInputElement | null} */ ($('.server-url', row))?.value.trim() ?? '';
    const problem = addressProblem(url);
    if (problem) say(row, problem, 'bad');
    else use(row, url);
  }
}

/**
 * Fills Settings → Servers from `list_own_servers`.
 * @param {ServersDeps} deps
 */
export async function openServers(deps) {
  api = deps;
  const root = list();
  if (!root) return;
  if (!wired) {
    wired = true;
    on(root, 'change', onInput);
    on(root, 'click', onInput);
  }
  const result = await deps.call('list_own_servers', undefined, { quiet: true });
  servers.clear();
  if (!result.ok) {
    root.replaceChildren(h('li', { class: 'server-row', text: `Could not read the servers: ${result.error}` }));
    return;
  }
  const rows = result.value.flatMap((raw) => normalizeOwnServer(raw) ?? []);
  for (const server of rows) servers.set(server.service, server);
  show($('.servers-settings'), rows.length > 0);
  root.replaceChildren(...rows.map(rowFor));
}
