// @ts-check
// Deciding what a feature toggle does and whether to ask first. Pure: no DOM.

/** @typedef {import('../types/FeatureView').FeatureView} FeatureView */
/** @typedef {import('../types/FeatureChange').FeatureChange} FeatureChange */

/**
 * The names of the features that are on after turning `name` on or off.
 * Order follows the feature list; unknown names are ignored.
 * @param {readonly FeatureView[] | null | undefined} features
 * @param {string} name
 * @param {boolean} enabled
 */
export function featureSetWith(features, name, enabled) {
  return (features ?? [])
    .filter((f) => (f.name === name ? enabled : f.enabled))
    .map((f) => f.name);
}

/**
 * The services a preview stops that are not the feature's own: what the user must be told
 * before turning `feature` off. Empty when nothing else stops.
 * @param {Pick<FeatureView, 'services'> | null | undefined} feature
 * @param {FeatureChange | null | undefined} preview
 */
export function extraStops(feature, preview) {
  const own = new Set(feature?.services ?? []);
  const stops = Array.isArray(preview?.stops) ? preview.stops : [];
  return [...new Set(stops)].filter((name) => !own.has(name));
}

/**
 * The confirmation sentence: "Turning off RAG also stops: comfyui".
 * @param {Partial<Pick<FeatureView, 'label' | 'name'>> | null | undefined} feature
 * @param {readonly string[]} extra
 */
export function confirmationMessage(feature, extra) {
  const label = feature?.label || feature?.name || 'this feature';
  return `Turning off ${label} also stops: ${extra.join(', ')}`;
}

/**
 * What happens when the user flips a toggle: `{ action: "apply" }` for turning on (applied
 * at once), `{ action: "preview" }` for turning off (ask the backend what would stop first),
 * `{ action: "none" }` when the feature is already in that state or unknown.
 * @param {readonly FeatureView[] | null | undefined} features
 * @param {string} name
 * @param {boolean} enabled
 * @returns {{ action: 'apply' | 'preview' | 'none' }}
 */
export function toggleAction(features, name, enabled) {
  const feature = (features ?? []).find((f) => f.name === name);
  if (!feature || Boolean(feature.enabled) === Boolean(enabled)) return { action: 'none' };
  return { action: enabled ? 'apply' : 'preview' };
}

/**
 * What a `set_features` answer did, in words: "Starting: a, b. Stopping: c." ("" when nothing).
 * @param {FeatureChange | null | undefined} result
 */
export function changeSummary(result) {
  const parts = [];
  if (result?.starts?.length) parts.push(`Starting: ${result.starts.join(', ')}.`);
  if (result?.stops?.length) parts.push(`Stopping: ${result.stops.join(', ')}.`);
  return parts.join(' ');
}
