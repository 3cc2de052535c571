// @ts-check
// The dashboard: one card per service with its state, facts, sparklines and buttons. What
// changed is decided in lib/cards.js; this module only writes what did.

import {
  SPARK, cardModel, cardSignature, createChangeTracker, keyedDiff, metricsKey, metricsModel, uptimeText,
} from '../lib/cards.js';
import { isActive } from '../lib/states.js';
import { pullProgress, stateBadge, updateBadge } from './badge.js';
import { $, h, on, setText, show, svg } from './dom.js';
import { updatePull } from './startup.js';

/** @typedef {import('../lib/cards.js').CardModel} CardModel */
/** @typedef {import('../lib/cards.js').MetricLine} MetricLine */
/** @typedef {import('../lib/metrics.js').MetricsHistory} MetricsHistory */
/** @typedef {import('../lib/startup.js').Startup} Startup */
/** @typedef {import('../lib/store.js').ServiceRecord} ServiceRecord */
/** @typedef {ReturnType<typeof partsOf>} CardParts */
/** @typedef {{ wrap: HTMLElement | null, value: HTMLElement | null }} FactParts */
/** @typedef {{ path: HTMLElement | null, value: HTMLElement | null }} MetricParts */
/** @typedef {{ card: HTMLElement, parts: CardParts }} CardEntry */
/**
 * What the dashboard draws with, besides the services.
 * @typedef {{ metrics: MetricsHistory, startup: Startup, now: number, loaded: boolean }} DashboardContext
 */
/**
 * What a card's buttons do, by action: each gets the service's name and the button.
 * @typedef {Partial<Record<string, (name: string, button: HTMLButtonElement) => unknown>>} CardHandlers
 */

/**
 * @param {string} label
 * @param {string} valueClass
 */
function fact(label, valueClass) {
  return h('div', { class: `fact ${valueClass}` },
    h('dt', { text: label }),
    h('dd', { class: 'fact-value' }));
}

/**
 * @param {string} kind
 * @param {string} label
 */
function sparkline(kind, label) {
  const box = svg('svg', {
    class: 'sparkline', viewBox: `0 0 ${SPARK.width} ${SPARK.height}`,
    preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false',
  });
  box.append(svg('path', { class: 'spark-line', d: '' }));
  return h('div', { class: `metric metric-${kind}` },
    h('span', { class: 'metric-label', text: label }),
    box,
    h('span', { class: 'metric-value', text: '—' }));
}

/**
 * @param {string} action
 * @param {string} text
 * @param {string} [extraClass]
 */
function button(action, text, extraClass = '') {
  return h('button', {
    class: `button ${action} ${extraClass}`.trim(), type: 'button', dataset: { action }, text,
  });
}

/**
 * @param {string} name
 */
function createCard(name) {
  const title = `card-title-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return h('article', { class: 'service-card', dataset: { service: name }, 'aria-labelledby': title },
    h('header', { class: 'card-head' },
      h('h2', { class: 'service-name', id: title, text: name }),
      stateBadge('stopped')),
    h('p', { class: 'service-description', hidden: true }),
    h('p', { class: 'service-detail', hidden: true }),
    h('p', { class: 'service-log-problem', hidden: true }),
    h('p', { class: 'service-reason', hidden: true }),
    pullProgress(),
    h('dl', { class: 'facts' },
      fact('Health', 'fact-health'),
      fact('Uptime', 'fact-uptime'),
      fact('Restarts', 'fact-restarts'),
      fact('Ports', 'fact-ports'),
      fact('Last exit', 'fact-exit')),
    h('div', { class: 'metrics' }, sparkline('cpu', 'CPU'), sparkline('memory', 'Memory')),
    h('div', { class: 'card-actions' },
      button('open-url', 'Open', 'subtle'),
      button('logs', 'Logs', 'subtle'),
      button('choose-folder', 'Choose folder…', 'subtle'),
      h('span', { class: 'spacer' }),
      button('start', 'Start'),
      button('stop', 'Stop'),
      button('restart', 'Restart')));
}

/**
 * The elements of a card that change, found once when it is made.
 * @param {HTMLElement} card
 */
function partsOf(card) {
  const factParts = (/** @type {string} */ name) => {
    const wrap = $(`.${name}`, card);
    return { wrap, value: $('.fact-value', wrap) };
  };
  const metricParts = (/** @type {string} */ kind) => {
    const box = $(`.metric-${kind}`, card);
    return { path: $('path', box), value: $('.metric-value', box) };
  };
  return {
    badge: $('.state-badge', card),
    description: $('.service-description', card),
    detail: $('.service-detail', card),
    logProblem: $('.service-log-problem', card),
    reason: $('.service-reason', card),
    pull: $('.pull', card),
    health: factParts('fact-health'),
    uptime: factParts('fact-uptime'),
    restarts: factParts('fact-restarts'),
    ports: factParts('fact-ports'),
    exit: factParts('fact-exit'),
    cpu: metricParts('cpu'),
    memory: metricParts('memory'),
    open: /** @type {HTMLButtonElement | null} */ ($('button.open-url', card)),
    start: /** @type {HTMLButtonElement | null} */ ($('button.start', card)),
    stop: /** @type {HTMLButtonElement | null} */ ($('button.stop', card)),
    restart: /** @type {HTMLButtonElement | null} */ ($('button.restart', card)),
    chooseFolder: /** @type {HTMLButtonElement | null} */ ($('button.choose-folder', card)),
  };
}

/**
 * @param {FactParts} parts
 * @param {string} text
 */
function setFact(parts, text) {
  show(parts.wrap, Boolean(text));
  setText(parts.value, text || '');
}

/**
 * @param {HTMLElement | null} element
 * @param {string} text
 */
function setLine(element, text) {
  setText(element, text || '');
  show(element, Boolean(text));
}

/**
 * @param {HTMLButtonElement | null} element
 * @param {boolean} enabled
 */
function setEnabled(element, enabled) {
  if (element && element.disabled === enabled) element.disabled = !enabled;
}

/**
 * @param {MetricParts} parts
 * @param {MetricLine} line
 */
function drawMetric(parts, line) {
  if (parts.path && parts.path.getAttribute('d') !== line.d) parts.path.setAttribute('d', line.d);
  setText(parts.value, line.text);
}

/**
 * Brings a card in line with `model` (from `cardModel`); equal values are not written.
 * @param {HTMLElement} card
 * @param {CardParts} parts
 * @param {CardModel} model
 */
function patchCard(card, parts, model) {
  if (card.dataset.status !== model.status) card.dataset.status = model.status;
  updateBadge(parts.badge, model.status);
  setLine(parts.description, model.description);
  setLine(parts.detail, model.detail);
  setLine(parts.logProblem, model.logProblem);
  setLine(parts.reason, model.reason);
  if (parts.reason && parts.reason.classList.contains('is-error') !== model.reasonIsError) {
    parts.reason.classList.toggle('is-error', model.reasonIsError);
  }
  updatePull(parts.pull, model.pull, Boolean(model.pull));

  setFact(parts.health, model.health);
  if (parts.health.value && parts.health.value.dataset.health !== model.healthState) {
    parts.health.value.dataset.health = model.healthState;
  }
  setFact(parts.restarts, model.restarts);
  setFact(parts.ports, model.ports);
  setFact(parts.exit, model.exit);

  const { actions } = model;
  const open = parts.open;
  show(open, Boolean(model.url));
  if (open) {
    setText(open, model.openText);
    if (open.title !== model.openTitle) open.title = model.openTitle;
  }
  setEnabled(open, actions.open);
  setEnabled(parts.start, actions.start);
  setEnabled(parts.stop, actions.stop);
  setEnabled(parts.restart, actions.restart);
  setText(parts.restart, model.restartText);
  show(parts.chooseFolder, model.chooseFolder);
  if (parts.restart && parts.restart.classList.contains('primary') !== actions.prominentRestart) {
    parts.restart.classList.toggle('primary', actions.prominentRestart);
  }
}

// The cards on screen, by service name, with their parts. The grid holds exactly these.
/** @type {Map<string, CardEntry>} */
const cards = new Map();
/** @type {string[]} */
let order = [];
// What each card showed when it was last drawn: its signature and its sparklines' key.
const drawn = createChangeTracker();
const sparks = createChangeTracker();

/**
 * @param {CardEntry} entry
 * @param {ServiceRecord} service
 * @param {MetricsHistory} metrics
 */
function drawMetrics(entry, service, metrics) {
  if (!sparks.changed(service.service, metricsKey(metrics.version(service.service), service.status))) return;
  const lines = metricsModel(metrics.of(service.service), isActive(service.status));
  drawMetric(entry.parts.cpu, lines.cpu);
  drawMetric(entry.parts.memory, lines.memory);
}

/**
 * Renders one card per service in start order into `#service-grid`, keyed by service: a card
 * is made once, patched only when what it shows changed, and its sparklines drawn only when
 * that service's samples changed (focus stays where it is). `context` holds `metrics`,
 * `startup`, `now` (ms) and `loaded` (a snapshot was read).
 * @param {readonly ServiceRecord[]} services
 * @param {DashboardContext} context
 */
export function renderDashboard(services, context) {
  const grid = $('#service-grid');
  if (!grid) return;
  show($('#no-services'), Boolean(context.loaded) && services.length === 0);
  const names = services.map((s) => s.service);
  const diff = keyedDiff(order, names);
  for (const name of diff.removed) {
    cards.get(name)?.card.remove();
    cards.delete(name);
    drawn.forget(name);
    sparks.forget(name);
  }
  for (const name of diff.added) {
    const card = createCard(name);
    cards.set(name, { card, parts: partsOf(card) });
  }
  if (diff.reorder) {
    names.forEach((name, index) => {
      const card = cards.get(name)?.card;
      if (card && grid.children[index] !== card) grid.insertBefore(card, grid.children[index] ?? null);
    });
  }
  order = names;

  for (const service of services) {
    const entry = cards.get(service.service);
    if (!entry) continue;
    const model = cardModel(service, { pull: context.startup.pull(service.service) });
    if (drawn.changed(service.service, cardSignature(model))) patchCard(entry.card, entry.parts, model);
    setFact(entry.parts.uptime, uptimeText(service, context.now));
    drawMetrics(entry, service, context.metrics);
  }
}

/**
 * Draws only the sparklines whose samples changed (a `service-metrics` tick).
 * @param {readonly ServiceRecord[]} services
 * @param {MetricsHistory} metrics
 */
export function renderMetrics(services, metrics) {
  for (const service of services) {
    const entry = cards.get(service.service);
    if (entry) drawMetrics(entry, service, metrics);
  }
}

/**
 * Refreshes only the uptime lines (called every few seconds); equal text is not written.
 * @param {readonly ServiceRecord[]} services
 * @param {number} nowMs
 */
export function refreshUptimes(services, nowMs) {
  for (const service of services) {
    const entry = cards.get(service.service);
    if (entry) setFact(entry.parts.uptime, uptimeText(service, nowMs));
  }
}

/** Forgets what was drawn, so the next render draws every card in full (a new engine). */
export function resetDashboard() {
  drawn.keep([]);
  sparks.keep([]);
}

/**
 * Calls `handlers[action](name, button)` when a card button is clicked (start, stop, restart,
 * open-url, logs). One listener on the grid serves every card.
 * @param {CardHandlers} handlers
 */
export function wireDashboard(handlers) {
  on($('#service-grid'), 'click', (event) => {
    const target = event.target instanceof Element
      ? /** @type {HTMLButtonElement | null} */ (event.target.closest('button[data-action]'))
      : null;
    const card = /** @type {HTMLElement | null | undefined} */ (target?.closest('.service-card'));
    if (!target || !card || target.disabled) return;
    handlers[target.dataset.action ?? '']?.(card.dataset.service ?? '', target);
  });
}
