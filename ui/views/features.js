// @ts-check
// Settings → Features: a toggle per feature. On applies at once; off asks the backend what
// would stop and, when that reaches beyond the feature, asks the user first.

import {
  changeSummary, confirmationMessage, extraStops, featureSetWith, toggleAction,
} from '../lib/features.js';
import { confirmAction, openDialog } from './dialogs.js';
import { $, $$, h, on, setText } from './dom.js';

/** @typedef {import('../types/FeatureView').FeatureView} FeatureView */
/** @typedef {import('../types/FeatureChange').FeatureChange} FeatureChange */
/**
 * What the features need: a way to call commands, and who to tell of a change.
 * @typedef {{ call: import('../lib/commands.js').Call, onChanged?: (change: FeatureChange) => void }} FeaturesDeps
 */

/** @type {FeatureView[]} */
let features = [];
let busy = false;
/** @type {FeaturesDeps | null} */
let api = null;
let wired = false;

/**
 * @param {string} name
 */
function slug(name) {
  return String(name).replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * @param {FeatureView} feature
 */
function featureRow(feature) {
  const id = `feature-${slug(feature.name)}`;
  const described = [];
  if (feature.description) described.push(`${id}-description`);
  if (feature.services?.length) described.push(`${id}-services`);
  return h('div', { class: 'feature', dataset: { feature: feature.name } },
    h('div', { class: 'feature-row' },
      h('input', {
        type: 'checkbox', role: 'switch', id, class: 'feature-switch',
        dataset: { feature: feature.name }, checked: Boolean(feature.enabled),
        'aria-describedby': described.join(' ') || null,
      }),
      h('label', { class: 'feature-label', for: id, text: feature.label || feature.name })),
    feature.description
      ? h('p', { class: 'feature-description', id: `${id}-description`, text: feature.description })
      : null,
    feature.services?.length
      ? h('p', { class: 'feature-services', id: `${id}-services`, text: `Runs: ${feature.services.join(', ')}` })
      : null);
}

function renderList() {
  const list = $('#feature-list');
  if (!list) return;
  list.replaceChildren(...features.map(featureRow));
  if (features.length === 0) list.append(h('p', { class: 'empty', text: 'There are no features to choose.' }));
}

/**
 * @param {string} text
 */
function setStatus(text) {
  setText($('#features-dialog .feature-status'), text);
}

/**
 * @param {boolean} value
 */
function setBusy(value) {
  busy = value;
  const list = $('#feature-list');
  if (list) {
    list.setAttribute('aria-busy', value ? 'true' : 'false');
    list.classList.toggle('is-busy', value);
  }
}

let lastError = '';

/**
 * @param {string[]} next
 */
async function applyFeatures(next) {
  if (!api) return false;
  const result = await api.call('set_features', { features: next });
  if (!result.ok) {
    lastError = result.error;
    return false;
  }
  features = features.map((f) => ({ ...f, enabled: next.includes(f.name) }));
  setStatus(changeSummary(result.value) || 'Saved.');
  api.onChanged?.(result.value);
  return true;
}

/**
 * @param {HTMLInputElement} input
 */
async function onToggle(input) {
  const name = input.dataset.feature ?? '';
  const enabled = input.checked;
  if (busy) {
    // One change at a time: undo a flip made while the last one is applied.
    input.checked = !enabled;
    return;
  }
  const decision = toggleAction(features, name, enabled);
  if (decision.action === 'none') return;
  const feature = features.find((f) => f.name === name);
  if (!feature || !api) return;
  const next = featureSetWith(features, name, enabled);
  setBusy(true);
  lastError = '';
  setStatus(enabled ? `Turning on ${feature.label || name}…` : `Checking what ${feature.label || name} stops…`);
  let done = false;
  try {
    if (decision.action === 'apply') {
      done = await applyFeatures(next);
    } else {
      const preview = await api.call('preview_features', { features: next });
      if (!preview.ok) lastError = preview.error;
      else {
        const extra = extraStops(feature, preview.value);
        const go = extra.length === 0 || await confirmAction({
          title: `Turn off ${feature.label || name}?`,
          message: confirmationMessage(feature, extra),
          confirmLabel: 'Turn off',
        });
        if (go) {
          setStatus(`Turning off ${feature.label || name}…`);
          done = await applyFeatures(next);
        }
      }
    }
  } finally {
    setBusy(false);
  }
  if (!done) {
    input.checked = !enabled;
    setStatus(lastError);
  }
}

/**
 * Opens `dialog#features-dialog` and loads the features. `deps.call(command, args)` runs a
 * command (resolving `{ ok, value }`, with a toast on failure); `deps.onChanged(result)` runs
 * after features were set.
 * @param {FeaturesDeps} deps
 */
export async function openFeatures(deps) {
  api = deps;
  const dialog = /** @type {HTMLDialogElement | null} */ ($('#features-dialog'));
  const list = $('#feature-list');
  if (!dialog || !list) return;
  if (!wired) {
    wired = true;
    on(list, 'change', (event) => {
      const input = event.target;
      if (input instanceof HTMLInputElement && input.dataset.feature) onToggle(input);
    });
  }
  setStatus('');
  list.replaceChildren(h('p', { class: 'loading', text: 'Loading features…' }));
  openDialog(dialog);
  const result = await api.call('get_features');
  if (!result.ok) {
    list.replaceChildren(h('p', { class: 'load-error-text', text: result.error }));
    return;
  }
  features = Array.isArray(result.value) ? result.value : [];
  renderList();
  if (dialog.open && (document.activeElement === document.body || !dialog.contains(document.activeElement))) {
    $$('input[data-feature]', list)[0]?.focus();
  }
}
