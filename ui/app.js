// ClaraVerse desktop app: the entry module. Wires the backend (Tauri commands and events) to
// the views. Pure logic lives in lib/, DOM code in views/.
//
// Stable hooks for end-to-end (WebDriver) tests:
//   #summary                              the summary line (aria-live)
//   #startup-view, #startup-list          the start-up view; items are li.startup-item[data-service]
//   #dashboard, #service-grid             the dashboard
//   .service-card[data-service="NAME"]    one card per service; data-status is the state
//     .state-badge                        its text is the state ("running", "error", …)
//     .service-reason                     why it is in this state (waiting, error)
//     .service-detail                     how it runs ("CPU", "Docker … at …")
//     button.start, button.stop, button.restart, button.open-url, button.logs
//   #settings-button                      opens the features dialog
//   dialog#features-dialog                input[type=checkbox][data-feature="NAME"], .feature-status
//   dialog#confirm-dialog                 #confirm-message, button.confirm, button.cancel
//   dialog#failure-dialog                 .failure-service, .failure-message, .failure-hint,
//                                         button.retry, button.continue, button.show-logs,
//                                         button.copy-details, .copy-status
//   dialog#logs-dialog                    .log-output with .log-line (.log-stderr / .log-stdout)
//   #toasts .toast                        command errors; #banner for failures and recoveries
//   #no-tauri                             shown when the page is opened outside the app

import { errorText } from './lib/errors.js';
import { createMetricsHistory } from './lib/metrics.js';
import { createNotices } from './lib/notices.js';
import { isActive, isComingUp } from './lib/states.js';
import { createStartup } from './lib/startup.js';
import { createStore } from './lib/store.js';
import { summaryLine } from './lib/summary.js';
import { refreshUptimes, renderDashboard, wireDashboard } from './views/dashboard.js';
import { $, on, setText, show } from './views/dom.js';
import { openFeatures } from './views/features.js';
import { hideFailure, showFailure } from './views/failure.js';
import { onLogEvent, openLogs } from './views/logs.js';
import { renderStartup } from './views/startup.js';
import { showBanner, showToast } from './views/toasts.js';

const UPTIME_REFRESH_MS = 5000;

const store = createStore();
const startup = createStartup();
const metrics = createMetricsHistory(30);
const notices = createNotices();

let tauri = null;
let skippedStartup = false;
let loadError = '';
let renderQueued = false;

/**
 * Runs a backend command. Resolves `{ ok: true, value }` or `{ ok: false, error }` where
 * `error` is a plain sentence, shown as a toast unless `quiet`.
 */
async function call(command, args, { quiet = false } = {}) {
  try {
    const value = await tauri.core.invoke(command, args);
    return { ok: true, value };
  } catch (error) {
    const text = errorText(error);
    if (!quiet) showToast(text, 'error');
    return { ok: false, error: text };
  }
}

// ---------------------------------------------------------------- rendering

function render() {
  renderQueued = false;
  const services = store.services();
  const haveServices = store.hasSnapshot;
  let summary = 'Connecting…';
  if (loadError && !haveServices) summary = 'Could not reach the ClaraVerse core';
  else if (haveServices) summary = summaryLine(services, { startingUp: startup.phase === 'starting' });
  setText($('#summary'), summary);

  const startupVisible = startup.showStartupView && !skippedStartup;
  show($('#startup-view'), startupVisible);
  show($('#dashboard'), !startupVisible);
  show($('#skip-startup'), haveServices);
  const errorBox = $('#load-error');
  show(errorBox, Boolean(loadError) && !haveServices);
  setText($('.load-error-text', errorBox), loadError);

  const context = { metrics, startup, now: Date.now(), loaded: haveServices };
  renderStartup(services, startup);
  renderDashboard(services, context);
}

/** Renders once after the current burst of events. */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(render);
}

// ---------------------------------------------------------------- service changes

function afterChange(outcome, { announce }) {
  const { previous, service } = outcome;
  if (!isActive(service.status)) metrics.clear(service.name);
  if (!isComingUp(service.status)) startup.clearPull(service.name);
  const notice = notices.update(previous, service);
  if (notice && announce) showBanner(notice);
}

function onStatusChanged(payload) {
  const outcome = store.applyEvent(payload);
  if (outcome.result !== 'applied') return;
  afterChange(outcome, { announce: true });
  scheduleRender();
}

/** Reads the services again; events meanwhile are buffered and applied after. */
async function loadSnapshot() {
  store.beginReload();
  const result = await call('list_services', undefined, { quiet: true });
  if (!result.ok) {
    const drained = store.cancelReload();
    drained.forEach((outcome) => afterChange(outcome, { announce: true }));
    if (store.hasSnapshot) showToast(result.error, 'error');
    else loadError = result.error;
    scheduleRender();
    return false;
  }
  loadError = '';
  const drained = store.applySnapshot(result.value);
  for (const service of store.services()) notices.update(null, service);
  drained.forEach((outcome) => afterChange(outcome, { announce: true }));
  startup.onSnapshot(store.services());
  // A start-up that ended before this page listened is part of the snapshot.
  const phase = result.value.startup;
  if (phase && phase.phase === 'failed') {
    onStartupFailed({ seq: phase.seq, service: phase.service, message: phase.message, hint: phase.hint });
  } else if (phase && phase.phase === 'complete') {
    onStartupComplete({ seq: phase.seq, degraded: phase.degraded });
  }
  scheduleRender();
  return true;
}

// ---------------------------------------------------------------- start-up

function openLogsFor(name) {
  openLogs(name, { call });
}

async function beginStartupAgain(command, args) {
  const previous = startup.restart();
  skippedStartup = false;
  scheduleRender();
  const result = await call(command, args);
  if (!result.ok) {
    startup.revert(previous);
    scheduleRender();
    if (startup.phase === 'failed' && startup.failure) showFailure(startup.failure, failureActions);
  }
}

const failureActions = {
  call,
  onRetry: () => beginStartupAgain('retry_startup'),
  onContinue: (name) => beginStartupAgain('continue_without', { name }),
  openLogs: openLogsFor,
};

function onStartupComplete(payload) {
  if (!startup.onComplete(payload)) return;
  hideFailure();
  scheduleRender();
}

function onStartupFailed(payload) {
  if (!startup.onFailed(payload)) return;
  scheduleRender();
  showFailure(startup.failure, failureActions);
}

function onPullProgress(payload) {
  if (startup.onPull(payload)) scheduleRender();
}

function onMetrics(payload) {
  metrics.add(payload);
  scheduleRender();
}

// ---------------------------------------------------------------- card buttons

const cardActions = {
  start: (name) => call('start_service', { name }),
  stop: async (name) => {
    const result = await call('stop_service', { name });
    const others = result.ok && Array.isArray(result.value) ? result.value.filter((n) => n !== name) : [];
    if (others.length) showToast(`Stopping ${name} also stops: ${others.join(', ')}`, 'info');
  },
  restart: (name) => call('restart_service', { name }),
  'open-url': (name) => call('open_service_url', { name }),
  logs: (name) => openLogsFor(name),
};

// ---------------------------------------------------------------- boot

function showOutsideApp() {
  show($('#no-tauri'), true);
  show($('#startup-view'), false);
  show($('#dashboard'), false);
  setText($('#summary'), 'Not connected');
}

async function subscribe() {
  const listen = tauri.event.listen;
  const handlers = {
    'service-status-changed': onStatusChanged,
    'startup-complete': onStartupComplete,
    'startup-failed': onStartupFailed,
    'pull-progress': onPullProgress,
    'service-metrics': onMetrics,
    'service-log': onLogEvent,
  };
  await Promise.all(Object.entries(handlers).map(([name, handler]) => listen(name, (event) => {
    try {
      handler(event?.payload);
    } catch {
      // A malformed event must not break the page; the next snapshot corrects the view.
    }
  })));
}

async function boot() {
  tauri = window.__TAURI__;
  if (!tauri?.core?.invoke || !tauri?.event?.listen) {
    showOutsideApp();
    return;
  }
  const settings = $('#settings-button');
  if (settings) settings.disabled = false;
  on(settings, 'click', () => openFeatures({ call, onChanged: () => loadSnapshot() }));
  on($('#skip-startup'), 'click', () => {
    skippedStartup = true;
    render();
    $('#service-grid button:not([disabled])')?.focus();
  });
  on($('#reload-button'), 'click', () => loadSnapshot());
  wireDashboard(cardActions);
  setInterval(() => refreshUptimes(store.services(), Date.now()), UPTIME_REFRESH_MS);

  // Subscribe first, so nothing that happens while the snapshot is read is missed.
  try {
    await subscribe();
  } catch (error) {
    loadError = `Could not listen to the ClaraVerse core: ${errorText(error)}`;
    render();
    return;
  }
  await loadSnapshot();
}

boot().catch(() => {
  setText($('#summary'), 'Something went wrong while loading. Please restart ClaraVerse.');
});
