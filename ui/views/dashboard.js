// The dashboard: one card per service with its state, facts, sparklines and buttons.

import { availableActions } from '../lib/actions.js';
import {
  currentUptime, describeExit, formatBytes, formatPercent, formatUptime, healthLabel,
} from '../lib/format.js';
import { sparklinePath } from '../lib/sparkline.js';
import { isActive, isComingUp } from '../lib/states.js';
import { pullProgress, stateBadge, updateBadge } from './badge.js';
import { $, $$, h, on, setText, show, svg } from './dom.js';
import { updatePull } from './startup.js';

const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 28;

function fact(label, valueClass) {
  return h('div', { class: `fact ${valueClass}` },
    h('dt', { text: label }),
    h('dd', { class: 'fact-value' }));
}

function sparkline(kind, label) {
  const box = svg('svg', {
    class: 'sparkline', viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`,
    preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false',
  });
  box.append(svg('path', { class: 'spark-line', d: '' }));
  return h('div', { class: `metric metric-${kind}` },
    h('span', { class: 'metric-label', text: label }),
    box,
    h('span', { class: 'metric-value', text: '—' }));
}

function button(action, text, extraClass = '') {
  return h('button', {
    class: `button ${action} ${extraClass}`.trim(), type: 'button', dataset: { action }, text,
  });
}

function createCard(name) {
  const title = `card-title-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return h('article', { class: 'service-card', dataset: { service: name }, 'aria-labelledby': title },
    h('header', { class: 'card-head' },
      h('h2', { class: 'service-name', id: title, text: name }),
      stateBadge('stopped')),
    h('p', { class: 'service-description', hidden: true }),
    h('p', { class: 'service-detail', hidden: true }),
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
      h('span', { class: 'spacer' }),
      button('start', 'Start'),
      button('stop', 'Stop'),
      button('restart', 'Restart')));
}

function setFact(card, className, text) {
  const wrap = $(`.${className}`, card);
  show(wrap, Boolean(text));
  setText($('.fact-value', wrap), text || '');
}

function setLine(element, text) {
  setText(element, text || '');
  show(element, Boolean(text));
}

function setEnabled(element, enabled) {
  if (element && element.disabled === enabled) element.disabled = !enabled;
}

function updateMetric(card, kind, values, live, format, options) {
  const box = $(`.metric-${kind}`, card);
  if (!box) return;
  const path = $('path', box);
  const d = live ? sparklinePath(values, { width: SPARK_WIDTH, height: SPARK_HEIGHT, ...options }) : '';
  if (path && path.getAttribute('d') !== d) path.setAttribute('d', d);
  const last = values[values.length - 1];
  setText($('.metric-value', box), live && typeof last === 'number' ? format(last) : '—');
}

/** The uptime text of a service now, or "" when it is not up. */
export function uptimeText(service, nowMs) {
  if (!isActive(service.status) || service.status === 'stopping') return '';
  const seconds = currentUptime(service, nowMs);
  return seconds === null ? '' : formatUptime(seconds);
}

function updateCard(card, service, { metrics, startup, now }) {
  const state = service.status;
  card.dataset.status = state;
  updateBadge($('.state-badge', card), state);
  setLine($('.service-description', card), service.description);
  setLine($('.service-detail', card), service.detail);

  let reason = service.reason || '';
  if (!reason && state === 'error') reason = service.lastError?.message || 'It stopped with an error.';
  const reasonElement = $('.service-reason', card);
  setLine(reasonElement, reason);
  reasonElement?.classList.toggle('is-error', state === 'error');

  updatePull($('.pull', card), startup.pull(service.name), isComingUp(state));

  setFact(card, 'fact-health', isActive(state) ? healthLabel(service.health, service.healthCheck !== false) : '');
  const healthValue = $('.fact-health .fact-value', card);
  if (healthValue) healthValue.dataset.health = service.health;
  setFact(card, 'fact-uptime', uptimeText(service, now));
  setFact(card, 'fact-restarts', String(service.restarts ?? 0));
  setFact(card, 'fact-ports', (service.ports ?? []).join(', '));
  setFact(card, 'fact-exit', isActive(state) ? '' : describeExit(service.lastExit));

  const live = isActive(state);
  const samples = metrics.of(service.name);
  updateMetric(card, 'cpu', samples.cpu, live, formatPercent, { floor: 10 });
  updateMetric(card, 'memory', samples.memory, live, formatBytes, { floor: 1 });

  const actions = availableActions(service);
  const open = $('button.open-url', card);
  show(open, Boolean(service.url));
  if (open) {
    setText(open, service.url ? `Open ${service.url}` : 'Open');
    open.title = actions.open ? `Open ${service.url} in your browser` : 'Available while the service runs';
  }
  setEnabled(open, actions.open);
  setEnabled($('button.start', card), actions.start);
  setEnabled($('button.stop', card), actions.stop);
  setEnabled($('button.restart', card), actions.restart);
  $('button.restart', card)?.classList.toggle('primary', actions.prominentRestart);
}

/**
 * Renders one card per service in start order into `#service-grid`. Cards are kept and
 * updated in place (focus stays on the button that has it). `context` holds `metrics`,
 * `startup`, `now` (ms) and `loaded` (a snapshot was read).
 */
export function renderDashboard(services, context) {
  const grid = $('#service-grid');
  if (!grid) return;
  show($('#no-services'), Boolean(context.loaded) && services.length === 0);
  const names = new Set(services.map((s) => s.name));
  const cards = new Map();
  for (const card of $$('.service-card', grid)) {
    if (names.has(card.dataset.service)) cards.set(card.dataset.service, card);
    else card.remove();
  }
  services.forEach((service, index) => {
    let card = cards.get(service.name);
    if (!card) card = createCard(service.name);
    if (grid.children[index] !== card) grid.insertBefore(card, grid.children[index] ?? null);
    updateCard(card, service, context);
  });
}

/** Refreshes only the uptime lines (called every few seconds). */
export function refreshUptimes(services, nowMs) {
  for (const service of services) {
    const card = $$('.service-card', $('#service-grid')).find((el) => el.dataset.service === service.name);
    if (card) setFact(card, 'fact-uptime', uptimeText(service, nowMs));
  }
}

/**
 * Calls `handlers[action](name, button)` when a card button is clicked (start, stop, restart,
 * open-url, logs). One listener on the grid serves every card.
 */
export function wireDashboard(handlers) {
  on($('#service-grid'), 'click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    const card = target?.closest('.service-card');
    if (!target || !card || target.disabled) return;
    handlers[target.dataset.action]?.(card.dataset.service, target);
  });
}
