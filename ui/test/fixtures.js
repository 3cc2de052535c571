// Shared fixtures for the tests (node --test also loads this file; it has no tests).

/** A service record in the contract's shape, with `overrides`. */
export function service(name, status = 'running', overrides = {}) {
  return {
    service: name,
    description: null,
    status,
    health: 'unknown',
    reason: null,
    pid: null,
    restarts: 0,
    lastExit: null,
    lastError: null,
    since: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: null,
    critical: false,
    detail: null,
    feature: null,
    url: null,
    ports: [],
    healthCheck: true,
    ...overrides,
  };
}

/** A `service-status-changed` payload. */
export function event(name, status, seq, overrides = {}) {
  return { ...service(name, status, overrides), seq };
}
