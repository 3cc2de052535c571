// The one summary line at the top of the window. Pure: no DOM.

import { plural } from './format.js';

const names = (list) => list.map((s) => s.service).join(', ');

/**
 * The summary line for the services (disabled ones are not counted):
 * "All 5 services are running", "Starting 3 of 5 services…",
 * "Degraded: 1 service failed (n8n)", "Stopped", "3 of 5 services are running".
 * While `startingUp`, waiting services count as starting; afterwards a service still
 * waiting (for Docker, say) makes the app degraded.
 */
export function summaryLine(services, { startingUp = false } = {}) {
  const counted = (services ?? []).filter((s) => s && s.status !== 'disabled');
  const total = counted.length;
  if (total === 0) return 'No services are turned on';
  const inState = (...states) => counted.filter((s) => states.includes(s.status));

  const failed = inState('error');
  const comingUp = inState('starting', 'restarting', ...(startingUp ? ['waiting'] : []));
  if (comingUp.length > 0) {
    const note = failed.length ? ` (${failed.length} failed: ${names(failed)})` : '';
    return `Starting ${comingUp.length} of ${plural(total, 'service')}…${note}`;
  }

  const stopping = inState('stopping');
  if (stopping.length > 0) return `Stopping ${plural(stopping.length, 'service')}…`;

  const waiting = startingUp ? [] : inState('waiting');
  const unhealthy = inState('unhealthy');
  const problems = [];
  if (failed.length) problems.push([failed, 'failed']);
  if (unhealthy.length) problems.push([unhealthy, 'unhealthy']);
  if (waiting.length) problems.push([waiting, 'waiting']);
  if (problems.length > 0) {
    const parts = problems.map(([list, word], index) => (index === 0
      ? `${plural(list.length, 'service')} ${word} (${names(list)})`
      : `${list.length} ${word} (${names(list)})`));
    return `Degraded: ${parts.join(', ')}`;
  }

  const running = inState('running');
  if (running.length === total) {
    return total === 1 ? 'The service is running' : `All ${total} services are running`;
  }
  if (running.length === 0) return 'Stopped';
  return `${running.length} of ${plural(total, 'service')} are running`;
}
