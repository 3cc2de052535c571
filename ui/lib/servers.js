// @ts-check
// Settings → Servers: "Run it for me" or "Use my own server", per service that allows it.
// Pure: no DOM.

/** @typedef {import('../types/OwnServerView').OwnServerView} OwnServerView */

const text = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : '');

/**
 * A `list_own_servers` entry with every field filled in; null without a service name.
 * @param {Partial<OwnServerView> | null | undefined} raw
 * @returns {OwnServerView | null}
 */
export function normalizeOwnServer(raw) {
  const service = text(raw?.service);
  if (!service) return null;
  return {
    service,
    description: text(raw?.description) || null,
    healthPath: text(raw?.healthPath) || '/',
    url: text(raw?.url) || null,
  };
}

/**
 * Why `address` cannot be the user's server, in a sentence; null when it can be tried.
 * @param {string} address
 * @returns {string | null}
 */
export function addressProblem(address) {
  const trimmed = address.trim();
  if (!trimmed) return 'Write the address of your server first, like http://192.168.1.20:5678.';
  let parsed;
  try {
    parsed = new URL(trimmed);
  } catch {
    return `"${trimmed}" is not an address: write it like http://192.168.1.20:5678.`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `"${trimmed}" is not a web address: it must start with http:// or https://.`;
  }
  return null;
}

/**
 * How the service runs now, in a sentence.
 * @param {OwnServerView} server
 */
export function modeLine(server) {
  return server.url
    ? `Your server at ${server.url} (checked at ${server.healthPath}).`
    : 'ClaraVerse runs it on this computer.';
}
