// @ts-check
// Joining the recent log lines with the lines that arrived while they were fetched. Pure.

/** @typedef {import('../types/LogLine').LogLine} LogLine */

/** @type {(a: LogLine | undefined, b: LogLine | undefined) => boolean} */
const same = (a, b) => a?.stream === b?.stream && a?.text === b?.text;

/**
 * The recent lines followed by the live lines that are not already at their end.
 * Following starts before the recent lines are read, so the first live lines may repeat the
 * last recent ones; the longest such overlap is dropped.
 * @param {readonly LogLine[] | null | undefined} recent
 * @param {readonly LogLine[] | null | undefined} live
 * @returns {LogLine[]}
 */
export function mergeLogTail(recent, live) {
  const head = Array.isArray(recent) ? recent : [];
  const tail = Array.isArray(live) ? live : [];
  const longest = Math.min(head.length, tail.length);
  for (let k = longest; k > 0; k -= 1) {
    let match = true;
    for (let i = 0; i < k; i += 1) {
      if (!same(head[head.length - k + i], tail[i])) { match = false; break; }
    }
    if (match) return [...head, ...tail.slice(k)];
  }
  return [...head, ...tail];
}

/**
 * How many of `count` lines to drop from the top so at most `max` stay.
 * @param {number} count
 * @param {number} max
 */
export function overflow(count, max) {
  return Math.max(0, count - max);
}
