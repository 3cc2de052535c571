// @ts-check
// Sparklines as SVG path strings. Pure: no DOM.

const round = (/** @type {number} */ n) => Math.round(n * 100) / 100;

/**
 * The `d` attribute of a line through `values`, spread over `width` × `height` (y grows
 * downwards, so the largest value is at the top). The scale runs from `min` (default 0) to
 * `max` (default the largest value, at least `floor`, so a flat idle line stays low).
 * Non-numbers are skipped; no values give "", one value a flat line.
 * @param {readonly unknown[] | null | undefined} values
 * @param {{ width?: number, height?: number, min?: number, max?: number, floor?: number }} [scale]
 */
export function sparklinePath(values, { width = 100, height = 24, min = 0, max, floor = 1 } = {}) {
  const points = (values ?? []).filter(
    /** @returns {v is number} */ (v) => typeof v === 'number' && Number.isFinite(v),
  );
  if (points.length === 0) return '';
  const top = max ?? Math.max(floor, ...points);
  const span = top - min > 0 ? top - min : 1;
  const y = (/** @type {number} */ v) => round(height - ((Math.min(Math.max(v, min), top) - min) / span) * height);
  if (points.length === 1) return `M0,${y(points[0])} L${round(width)},${y(points[0])}`;
  const step = width / (points.length - 1);
  return points
    .map((v, i) => `${i === 0 ? 'M' : 'L'}${round(i * step)},${y(v)}`)
    .join(' ');
}
