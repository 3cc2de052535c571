// @ts-check
// The welcome view: on first run (nothing runs or downloads yet) and from Settings → "Choose
// features again…". One row per feature with what it needs and whether this machine has it,
// the download the choice costs, and Start.

import {
  carryChoice, chosenNames, initialChoice, machineFacts, needsOf, servicesText, totalText,
} from '../lib/welcome.js';
import { $, h, on, setText, show } from './dom.js';

/** @typedef {import('../types/Welcome').Welcome} Welcome */
/** @typedef {import('../types/WelcomeFeature').WelcomeFeature} WelcomeFeature */
/** @typedef {import('../types/Machine').Machine} Machine */
/** @typedef {import('../lib/welcome.js').Need} Need */
/**
 * How the view was opened, and what its buttons do: `begin(names)` runs the choice.
 * @typedef {{
 *   mode: 'first-run' | 'settings',
 *   begin: (names: string[]) => Promise<{ ok: boolean, error?: string }>,
 *   onStarted?: (names: string[]) => void,
 *   onCancel?: () => void,
 * }} WelcomeDeps
 */
/** @typedef {{ welcome: Welcome, deps: WelcomeDeps, busy: boolean, chosen: Set<string> }} Session */

/** @type {Session | null} */
let session = null;
let wired = false;

/**
 * @param {string} name
 */
function slug(name) {
  return String(name).replace(/[^A-Za-z0-9_-]/g, '_');
}

function view() {
  return $('#welcome-view');
}

/**
 * @param {Need} need
 */
function needItem(need) {
  return h('li', { class: 'need', dataset: { need: need.kind, tone: need.tone } },
    h('span', { class: 'need-text', text: need.need }),
    need.have ? h('span', { class: 'need-have', text: need.have }) : null);
}

/**
 * @param {WelcomeFeature} feature
 * @param {Machine} machine
 * @param {boolean} checked
 */
function featureRow(feature, machine, checked) {
  const id = `welcome-feature-${slug(feature.name)}`;
  const needs = needsOf(feature, machine);
  const services = servicesText(feature);
  const described = [];
  if (feature.description) described.push(`${id}-description`);
  if (needs.length) described.push(`${id}-needs`);
  if (services) described.push(`${id}-services`);
  return h('li', { class: 'welcome-feature', dataset: { feature: feature.name } },
    h('div', { class: 'welcome-feature-row' },
      h('input', {
        type: 'checkbox', id, class: 'welcome-check',
        dataset: { feature: feature.name }, checked,
        'aria-describedby': described.join(' ') || null,
      }),
      h('label', { class: 'feature-label', for: id, text: feature.label })),
    feature.description
      ? h('p', { class: 'feature-description', id: `${id}-description`, text: feature.description })
      : null,
    needs.length
      ? h('ul', { class: 'feature-needs', id: `${id}-needs`, 'aria-label': `What ${feature.label} needs` },
        needs.map(needItem))
      : null,
    services ? h('p', { class: 'feature-services', id: `${id}-services`, text: services }) : null);
}

/**
 * @param {Machine} machine
 */
function machineRows(machine) {
  return machineFacts(machine).map((fact) => h('div', { class: 'machine-fact', dataset: { fact: fact.kind, ok: fact.ok ? 'yes' : 'no' } },
    h('dt', { text: fact.label }),
    h('dd', { text: fact.text })));
}

function updateTotal() {
  if (!session) return;
  setText($('#welcome-total'), totalText(session.welcome.features, session.chosen));
}

/**
 * @param {string} text
 */
function setError(text) {
  const box = $('#welcome-error');
  show(box, Boolean(text));
  setText(box, text);
}

/**
 * @param {boolean} busy
 */
function setBusy(busy) {
  const root = view();
  if (!root || !session) return;
  session.busy = busy;
  const start = /** @type {HTMLButtonElement | null} */ ($('#welcome-start'));
  if (start) {
    start.disabled = busy;
    setText(start, busy ? 'Starting…' : 'Start');
  }
  const cancel = /** @type {HTMLButtonElement | null} */ ($('button.welcome-cancel', root));
  if (cancel) cancel.disabled = busy;
  const list = $('#welcome-features');
  list?.setAttribute('aria-busy', busy ? 'true' : 'false');
  for (const input of list?.querySelectorAll('input[type=checkbox]') ?? []) {
    /** @type {HTMLInputElement} */ (input).disabled = busy;
  }
}

async function onStart() {
  const current = session;
  if (!current || current.busy) return;
  const names = chosenNames(current.welcome.features, current.chosen);
  setError('');
  setBusy(true);
  const result = await current.deps.begin(names);
  if (session !== current) return;
  if (!result.ok) {
    setBusy(false);
    setError(result.error ?? '');
    const start = $('#welcome-start');
    if (!document.activeElement || document.activeElement === document.body) start?.focus();
    return;
  }
  setBusy(false);
  current.deps.onStarted?.(names);
}

/**
 * @param {HTMLElement} root
 */
function wire(root) {
  wired = true;
  on($('#welcome-features'), 'change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.feature || !session) return;
    if (input.checked) session.chosen.add(input.dataset.feature);
    else session.chosen.delete(input.dataset.feature);
    updateTotal();
  });
  on($('#welcome-start'), 'click', () => onStart());
  const cancel = () => {
    if (session && !session.busy && session.deps.mode === 'settings') session.deps.onCancel?.();
  };
  on($('button.welcome-cancel', root), 'click', cancel);
  // Escape leaves the view opened from Settings, as it would close a dialog.
  on(root, 'keydown', (event) => {
    if (event instanceof KeyboardEvent && event.key === 'Escape') cancel();
  });
}

/**
 * Shows `#welcome-view` for `welcome` (as `normalizeWelcome` gives it). `deps.mode` is
 * "first-run" or "settings" (with a Cancel button); `deps.begin(names)` runs the choice and
 * resolves `{ ok, error }`; `deps.onStarted(names)` and `deps.onCancel()` say what came of it.
 * @param {Welcome} welcome
 * @param {WelcomeDeps} deps
 */
export function showWelcome(welcome, deps) {
  const root = view();
  if (!root) return;
  if (!wired) wire(root);
  const settingsMode = deps.mode === 'settings';
  const previous = root.hidden ? null : session;
  const wasShown = previous !== null;
  // While Start runs, its answer decides what comes next; a redraw now would lose it.
  if (previous && previous.busy && previous.deps.mode === deps.mode) return;
  const hadFocus = root.contains(document.activeElement);
  const focused = hadFocus && document.activeElement instanceof HTMLInputElement
    ? document.activeElement.dataset.feature : null;
  // Drawn again while shown (the machine changed, say): the user's choice so far stays.
  const choice = previous && previous.deps.mode === deps.mode
    ? carryChoice(previous.welcome.features, previous.chosen, welcome.features)
    : initialChoice(welcome.features);
  const current = { welcome, deps, busy: false, chosen: new Set(choice) };
  session = current;
  setText($('#welcome-title', root), settingsMode ? 'Choose what ClaraVerse runs' : 'Welcome to ClaraVerse');
  setText($('.welcome-note', root), settingsMode
    ? 'Turn features on or off for this machine. Your choice applies when you press Start.'
    : 'Choose what ClaraVerse runs on this machine. Nothing is downloaded or started until you press Start.');
  $('#welcome-machine')?.replaceChildren(...machineRows(welcome.machine));
  const list = $('#welcome-features');
  if (list) {
    list.replaceChildren(...welcome.features.map((f) => featureRow(f, welcome.machine, current.chosen.has(f.name))));
    if (welcome.features.length === 0) {
      list.append(h('li', { class: 'empty', text: 'There are no features to choose.' }));
    }
  }
  show($('button.welcome-cancel', root), settingsMode);
  setError('');
  setBusy(false);
  updateTotal();
  show(root, true);
  // Focus goes to the heading when the view appears, and stays put when it is drawn again.
  if (!wasShown) $('#welcome-title', root)?.focus();
  else if (focused) $(`input[data-feature="${CSS.escape(focused)}"]`, root)?.focus();
}

/** Hides the welcome view; an answer still on its way is then ignored. */
export function hideWelcome() {
  session = null;
  show(view(), false);
}
