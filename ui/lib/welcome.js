// @ts-check
// The welcome view's words: what each feature needs, whether this machine has it, and how
// much the choice downloads. Pure: no DOM. Takes features and machine facts as
// `normalizeWelcome` (lib/launch.js) gives them.

import { formatBytes } from './format.js';

/** @typedef {import('../types/WelcomeFeature').WelcomeFeature} WelcomeFeature */
/** @typedef {import('../types/Machine').Machine} Machine */
/**
 * One thing a feature needs, and whether this machine has it.
 * @typedef {{ kind: 'docker' | 'gpu' | 'download', need: string, have: string, tone: 'ok' | 'bad' | 'info' | 'plain' }} Need
 */
/** @typedef {{ kind: 'docker' | 'gpu', label: string, text: string, ok: boolean }} MachineFact */

/**
 * A download size as people read it: "4.5 GB", "850 MB"; "" when not known.
 * @param {number | null | undefined} bytes
 */
export function downloadSize(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '';
  return formatBytes(bytes);
}

/**
 * "Downloads about 4.5 GB", "Downloads nothing" for 0, "" when the size is not known.
 * @param {number | null | undefined} bytes
 */
export function downloadText(bytes) {
  if (bytes === 0) return 'Downloads nothing';
  const size = downloadSize(bytes);
  return size ? `Downloads about ${size}` : '';
}

/**
 * The names of the features that are on at first, in list order.
 * @param {readonly WelcomeFeature[] | null | undefined} features
 */
export function initialChoice(features) {
  return (features ?? []).filter((f) => f.enabled).map((f) => f.name);
}

/**
 * The choice to show when the welcome view is drawn again with `features` (say, Docker was
 * started meanwhile) while the user had chosen `chosen` among `previous`: what the user chose
 * stays; a feature that was not listed before starts as it is enabled.
 * @param {readonly WelcomeFeature[] | null | undefined} previous
 * @param {Iterable<string> | null | undefined} chosen
 * @param {readonly WelcomeFeature[] | null | undefined} features
 */
export function carryChoice(previous, chosen, features) {
  const known = new Set((previous ?? []).map((f) => f.name));
  const picked = new Set(chosen ?? []);
  return (features ?? [])
    .filter((f) => (known.has(f.name) ? picked.has(f.name) : f.enabled))
    .map((f) => f.name);
}

/**
 * The names in `chosen` (an iterable) that are features, in the features' order.
 * @param {readonly WelcomeFeature[] | null | undefined} features
 * @param {Iterable<string> | null | undefined} chosen
 */
export function chosenNames(features, chosen) {
  const wanted = new Set(chosen ?? []);
  return (features ?? []).filter((f) => wanted.has(f.name)).map((f) => f.name);
}

/**
 * The bytes the chosen features download together (features with no known size add 0).
 * @param {readonly WelcomeFeature[] | null | undefined} features
 * @param {Iterable<string> | null | undefined} chosen
 */
export function downloadTotal(features, chosen) {
  const wanted = new Set(chosen ?? []);
  return (features ?? [])
    .filter((f) => wanted.has(f.name))
    .reduce((sum, f) => sum + (typeof f.needs?.downloadBytes === 'number' ? f.needs.downloadBytes : 0), 0);
}

/**
 * The line under the list, recomputed on every change of the choice.
 * @param {readonly WelcomeFeature[] | null | undefined} features
 * @param {Iterable<string> | null | undefined} chosen
 */
export function totalText(features, chosen) {
  const names = chosenNames(features, chosen);
  if (names.length === 0) return 'Nothing is chosen: ClaraVerse will run no services';
  const total = downloadTotal(features, names);
  if (total <= 0) return 'Nothing to download for what you chose';
  return `About ${downloadSize(total)} to download for what you chose`;
}

/**
 * @param {Machine | null | undefined} machine
 */
function dockerFact(machine) {
  const docker = machine?.docker;
  return docker?.available
    ? { ok: true, text: '✓ Docker is running' }
    : { ok: false, text: `✗ ${docker?.detail || 'Docker is not running.'}` };
}

/**
 * @param {Machine | null | undefined} machine
 */
function gpuFact(machine) {
  const gpu = machine?.gpu;
  return gpu?.available
    ? { ok: true, text: `✓ ${gpu.detail || 'An NVIDIA GPU is available.'}` }
    : { ok: false, text: `✗ ${gpu?.detail || 'No NVIDIA GPU was found.'}` };
}

/**
 * What a feature needs and whether this machine has it, one entry per need:
 * `{ kind: "docker"|"gpu"|"download", need, have, tone }` where `have` is "" for downloads and
 * `tone` is "ok", "bad" (a required thing is missing), "info" (an optional one is missing)
 * or "plain".
 * @param {Pick<WelcomeFeature, 'needs'> | null | undefined} feature
 * @param {Machine | null | undefined} machine
 * @returns {Need[]}
 */
export function needsOf(feature, machine) {
  /** @type {Partial<WelcomeFeature['needs']>} */
  const needs = feature?.needs ?? {};
  /** @type {Need[]} */
  const list = [];
  if (needs.docker) {
    const fact = dockerFact(machine);
    list.push({ kind: 'docker', need: 'Needs Docker', have: fact.text, tone: fact.ok ? 'ok' : 'bad' });
  }
  if (needs.gpu === 'required' || needs.gpu === 'optional') {
    const fact = gpuFact(machine);
    const required = needs.gpu === 'required';
    list.push({
      kind: 'gpu',
      need: required ? 'Needs an NVIDIA GPU' : 'Uses an NVIDIA GPU when there is one',
      have: fact.text,
      tone: fact.ok ? 'ok' : (required ? 'bad' : 'info'),
    });
  }
  const download = downloadText(needs.downloadBytes);
  if (download) list.push({ kind: 'download', need: download, have: '', tone: 'plain' });
  return list;
}

/**
 * "Runs: a, b", or "" when the feature has no services.
 * @param {Pick<WelcomeFeature, 'services'> | null | undefined} feature
 */
export function servicesText(feature) {
  const services = feature?.services ?? [];
  return services.length ? `Runs: ${services.join(', ')}` : '';
}

/**
 * The machine facts shown above the list: `[{ kind, label, text, ok }]` for Docker and the GPU.
 * @param {Machine | null | undefined} machine
 * @returns {MachineFact[]}
 */
export function machineFacts(machine) {
  const docker = machine?.docker;
  const gpu = machine?.gpu;
  return [
    {
      kind: 'docker',
      label: 'Docker',
      text: docker?.detail || (docker?.available ? 'Docker is running.' : 'Docker is not running.'),
      ok: Boolean(docker?.available),
    },
    {
      kind: 'gpu',
      label: 'NVIDIA GPU',
      text: gpu?.detail || (gpu?.available ? 'An NVIDIA GPU is available.' : 'No NVIDIA GPU was found.'),
      ok: Boolean(gpu?.available),
    },
  ];
}
