// @ts-check
// Numbers and times in words people read at a glance. Pure: no DOM.

/**
 * A duration in seconds as people say it: "45 s", "3 min", "2 h 5 min", "3 d 4 h".
 * Negative or missing values give "".
 * @param {number | null | undefined} seconds
 */
export function formatUptime(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = Math.floor(seconds);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * A byte count with a decimal unit: "512 B", "1.5 KB", "312 MB", "1.2 GB".
 * One decimal below 10 of a unit, none above.
 * @param {number | null | undefined} bytes
 */
export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * Megabytes with one decimal and thousands separators: 1234567890 → "1,234.6".
 * @param {number} bytes
 */
export function formatMegabytes(bytes) {
  const mb = Math.max(0, Number(bytes) || 0) / 1e6;
  return mb.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/**
 * An image download in megabytes: "312.4 of 1,204.0 MB (26%)", or "312.4 MB downloaded" when
 * the total is not known yet.
 * @param {number} done
 * @param {number} total
 */
export function formatPullProgress(done, total) {
  if (!(total > 0)) return `${formatMegabytes(done)} MB downloaded`;
  const percent = Math.min(100, Math.floor((Math.max(0, done) / total) * 100));
  return `${formatMegabytes(done)} of ${formatMegabytes(total)} MB (${percent}%)`;
}

/**
 * A CPU share: 0 → "0%", 3.14 → "3.1%", 142.7 → "143%".
 * @param {number | null | undefined} value
 */
export function formatPercent(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '';
  const v = Math.max(0, value);
  return v < 10 && v !== 0 ? `${v.toFixed(1)}%` : `${Math.round(v)}%`;
}

/**
 * The uptime of a service now: its `uptimeSeconds` when received, plus the time since it was
 * received (`receivedAt`, ms). Null when the service reports no uptime.
 * @param {{ uptimeSeconds: number | null, receivedAt?: number } | null | undefined} service
 * @param {number} nowMs
 * @returns {number | null}
 */
export function currentUptime(service, nowMs) {
  if (typeof service?.uptimeSeconds !== 'number') return null;
  const received = typeof service.receivedAt === 'number' ? service.receivedAt : nowMs;
  return service.uptimeSeconds + Math.max(0, (nowMs - received) / 1000);
}

/**
 * How a process ended, in words: "exited with code 1", "was killed by signal 9".
 * @param {import('../types/ExitInfo').ExitInfo | null | undefined} lastExit
 */
export function describeExit(lastExit) {
  if (!lastExit) return '';
  if (typeof lastExit.code === 'number') return `exited with code ${lastExit.code}`;
  if (typeof lastExit.signal === 'number') return `was killed by signal ${lastExit.signal}`;
  return 'ended';
}

/**
 * The health check result in words; `hasCheck` false means the service has none.
 * @param {import('../types/Health').Health | undefined} health
 * @param {boolean} [hasCheck]
 */
export function healthLabel(health, hasCheck = true) {
  if (!hasCheck) return 'No health check';
  switch (health) {
    case 'healthy': return 'Healthy';
    case 'unhealthy': return 'Failing checks';
    default: return 'Not checked yet';
  }
}

/**
 * "1 service" / "3 services" and the like.
 * @param {number} count
 * @param {string} one
 * @param {string} [many]
 */
export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Names joined for a sentence: "a", "a and b", "a, b and c".
 * @param {Iterable<string>} names
 */
export function joinNames(names) {
  const list = [...names];
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}
