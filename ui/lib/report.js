// @ts-check
// The plain-text report behind "Copy details". Pure: no DOM.

/** @typedef {import('../types/LogLine').LogLine} LogLine */

/**
 * A report of a start-up failure for a bug report or a helper: the service, what happened,
 * what to do, the time (an ISO string, passed in), and the recent log lines, stderr marked.
 * @param {Partial<import('./startup.js').Failure> | null | undefined} failure
 * @param {readonly LogLine[]} [logLines]
 * @param {{ time?: string }} [options]
 */
export function failureReport(failure, logLines = [], { time } = {}) {
  const lines = [
    'ClaraVerse could not start',
    '',
    `Service: ${failure?.service || 'unknown'}`,
    `What happened: ${failure?.message || 'No message was given.'}`,
    `What to do: ${failure?.hint || 'No hint was given.'}`,
  ];
  if (time) lines.push(`Time: ${time}`);
  lines.push('');
  const logs = Array.isArray(logLines) ? logLines : [];
  if (logs.length === 0) {
    lines.push('Recent log lines: none');
  } else {
    lines.push(`Recent log lines (${logs.length}):`);
    for (const line of logs) {
      const text = String(line?.text ?? '').replace(/\r?\n$/, '');
      lines.push(line?.stream === 'stderr' ? `[stderr] ${text}` : `         ${text}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
