// @ts-check
// Settings → Programs (#programs-list): per service whose programs may come from a folder the
// user has (Clara Core: llama-swap and the llama.cpp server), where they come from now, a
// folder to use instead ("Use this folder": checked, then applied at once), "Download them"
// to go back, which build is downloaded (the best for this computer, or one chosen), and
// the folder its models are read from.
// Each row says what happened in its .server-status.

import { buildOptions, folderProblem, normalizePrograms, programsLine } from '../lib/programs.js';
import { $, h, on, setStatus, show } from './dom.js';

/** @typedef {import('../types/ProgramsView').ProgramsView} ProgramsView */
/** @typedef {{ call: import('../lib/commands.js').Call }} ProgramsDeps */

/** @type {ProgramsDeps | null} */
let api = null;
let wired = false;
/** The last fill of the list, awaited before a row is focused. */
let filled = Promise.resolve();

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
 * @param {ProgramsView} programs
 */
function rowFor(programs) {
  const name = programs.service;
  const folder = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', class: 'programs-folder', placeholder: '/home/you/llama.cpp', 'aria-label': `Folder of the ${name} programs`,
  }));
  if (!programs.downloaded && !programs.shipped) folder.value = programs.folder;
  const download = h('button', { type: 'button', class: 'button programs-download', text: 'Download them' });
  show(download, !programs.downloaded);
  const options = buildOptions(programs);
  const models = programs.models === null ? null : /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', class: 'programs-models-folder', 'aria-label': `Folder of the ${name} models`,
  }));
  if (models && programs.models) models.value = programs.models;
  const build = options.length === 0 ? null : h('label', { class: 'programs-build-label' }, [
    'Build: ',
    h('select', { class: 'programs-build', 'aria-label': `Which build of the ${name} programs` },
      options.map((option) => h('option', { value: option.value, text: option.label, selected: option.selected }))),
  ]);
  return h('li', { class: 'server-row', 'data-service': name }, [
    h('div', { class: 'server-name' }, [
      h('strong', { text: name }),
      programs.description ? h('span', { class: 'server-description', text: ` — ${programs.description}` }) : null,
    ]),
    h('div', { class: 'server-own' }, [
      h('span', { class: 'programs-label', text: 'Programs' }),
      folder,
      h('button', { type: 'button', class: 'button primary programs-use', text: 'Use this folder' }),
      download,
    ]),
    build,
    models === null ? null : h('div', { class: 'server-own programs-models' }, [
      h('span', { class: 'programs-label', text: 'Models' }),
      models,
      h('button', { type: 'button', class: 'button programs-models-use', text: 'Use for models' }),
    ]),
    h('p', { class: 'server-status', role: 'status', 'aria-live': 'polite', text: programsLine(programs) }),
  ]);
}

/**
 * @param {HTMLElement} row
 * @param {string | null} folder
 */
async function use(row, folder) {
  const name = row.dataset.service ?? '';
  if (!api) return;
  setBusy(row, true);
  say(row, folder ? `Checking the programs in ${folder}…` : 'Going back to the programs ClaraVerse downloads…');
  const result = await api.call('use_programs_folder', { name, folder }, { quiet: true });
  setBusy(row, false);
  if (!result.ok) {
    say(row, result.error, 'bad');
    return;
  }
  show($('.programs-download', row), Boolean(folder));
  say(row, result.value, 'ok');
}

/**
 * @param {HTMLElement} row
 * @param {string | null} build
 */
async function useBuild(row, build) {
  const name = row.dataset.service ?? '';
  if (!api) return;
  setBusy(row, true);
  say(row, 'Switching builds…');
  const result = await api.call('use_programs_build', { name, build }, { quiet: true });
  setBusy(row, false);
  say(row, result.ok ? result.value : result.error, result.ok ? 'ok' : 'bad');
}

/**
 * @param {HTMLElement} row
 * @param {string} folder
 */
async function useModels(row, folder) {
  const name = row.dataset.service ?? '';
  if (!api) return;
  setBusy(row, true);
  say(row, `Looking for models in ${folder}…`);
  const result = await api.call('use_models_folder', { name, folder }, { quiet: true });
  setBusy(row, false);
  say(row, result.ok ? result.value : result.error, result.ok ? 'ok' : 'bad');
}

/**
 * @param {Event} event
 */
function onChange(event) {
  const target = event.target;
  if (!(target instanceof HTMLSelectElement) || !target.classList.contains('programs-build')) return;
  const row = /** @type {HTMLElement | null} */ (target.closest('li.server-row'));
  if (row) useBuild(row, target.value || null);
}

/**
 * @param {Event} event
 */
function onClick(event) {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  const row = /** @type {HTMLElement | null} */ (target.closest('li.server-row'));
  if (!row) return;
  if (target.classList.contains('programs-download')) use(row, null);
  if (target.classList.contains('programs-models-use')) {
    const folder = /** @type {HTMLInputElement | null} */ ($('.programs-models-folder', row))?.value.trim() ?? '';
    const problem = folderProblem(folder);
    if (problem) say(row, problem, 'bad');
    else useModels(row, folder);
  }
  if (target.classList.contains('programs-use')) {
    const folder = /** @type {HTMLInputElement | null} */ ($('.programs-folder', row))?.value.trim() ?? '';
    const problem = folderProblem(folder);
    if (problem) say(row, problem, 'bad');
    else use(row, folder);
  }
}

/**
 * Fills Settings → Programs from `list_programs`.
 * @param {ProgramsDeps} deps
 */
export function openPrograms(deps) {
  filled = fill(deps);
  return filled;
}

/**
 * Once the list is filled, brings the folder field of `name`'s programs into view and
 * focuses it (the card's "Choose folder…").
 * @param {string} name
 */
export async function focusProgramsFolder(name) {
  await filled;
  const field = /** @type {HTMLInputElement | null} */ (
    $(`#programs-list li.server-row[data-service="${CSS.escape(name)}"] input.programs-folder`));
  field?.scrollIntoView({ block: 'center' });
  field?.focus();
}

/**
 * @param {ProgramsDeps} deps
 */
async function fill(deps) {
  api = deps;
  const root = $('#programs-list');
  if (!root) return;
  if (!wired) {
    wired = true;
    on(root, 'click', onClick);
    on(root, 'change', onChange);
  }
  const result = await deps.call('list_programs', undefined, { quiet: true });
  if (!result.ok) {
    root.replaceChildren(h('li', { class: 'server-row', text: `Could not read where the programs are: ${result.error}` }));
    show($('.programs-settings'), true);
    return;
  }
  const rows = result.value.flatMap((raw) => normalizePrograms(raw) ?? []);
  show($('.programs-settings'), rows.length > 0);
  root.replaceChildren(...rows.map(rowFor));
}
