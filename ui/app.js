// @ts-check
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
//     button.start, button.stop, button.restart, button.open-url, button.logs,
//     button.choose-folder                (shown when its programs are missing)
//   #settings-button                      opens Settings (disabled until the engine runs)
//   dialog#features-dialog                Settings: input[type=checkbox][data-feature="NAME"],
//                                         .feature-status, button.show-welcome ("Choose features
//                                         again…"), input[data-setting="keepRunningInBackground"],
//                                         input[data-setting="startAtLogin"], .setting-note,
//                                         .settings-status; #server-list li.server-row[data-service]
//                                         (input.server-mode[value="managed"|"own"], input.server-url,
//                                         button.server-test, button.server-use, .server-status);
//                                         #earlier-app (#kept-list li.kept-row[data-container]
//                                         button.kept-remove, #undo-move, .earlier-status);
//                                         #backups (#backup-now, #restore-open, #backup-list
//                                         li.backup-row[data-name] button.backup-restore,
//                                         .backup-status)
//   #welcome-view                         first run, or Settings → Choose features again…:
//     #welcome-title, #welcome-machine      .machine-fact[data-fact="docker"|"gpu"][data-ok]
//     #welcome-features                     li.welcome-feature[data-feature="NAME"] with
//                                           input[type=checkbox][data-feature="NAME"],
//                                           .feature-needs li.need[data-need="docker"|"gpu"|
//                                           "download"][data-tone] (.need-text, .need-have),
//                                           .feature-services
//     #welcome-total                        "About N GB to download for what you chose"
//     #welcome-error                        the sentence when Start failed (role=alert)
//     #welcome-start, button.welcome-cancel Start ("Starting…" while busy); Cancel (from Settings)
//   #move-view                            first run after the earlier ClaraVerse app: ul.move-plan > li
//                                         (what Continue does), .move-status, #move-continue,
//                                         #move-fresh ("Start fresh")
//   #launch-problem                       the engine could not start: .launch-problem-title,
//                                         .launch-problem-message, ul.launch-problem-details > li,
//                                         .launch-problem-status, button.try-again, button.quit
//   dialog#confirm-dialog                 #confirm-message, button.confirm, button.cancel
//   dialog#failure-dialog                 .failure-service, .failure-message, .failure-hint,
//                                         button.retry, button.continue, button.show-logs,
//                                         button.copy-details, .copy-status
//   dialog#logs-dialog                    .log-output with .log-line (.log-stderr / .log-stdout)
//   #toasts .toast                        command errors (.toast-error), "ClaraVerse is already
//                                         running — here it is." on a second launch (.toast-info);
//                                         #banner for failures and recoveries
//   #no-tauri                             shown when the page is opened outside the app
//
// Launch: events are listened to first, then `launch_state` decides the view: `{ phase:
// "running" }` (start-up view, then dashboard), "welcome" (#welcome-view; Start calls
// `begin { features }`), "move" (#move-view; `move_earlier_app` or `start_fresh`, each
// answering the launch state that follows) or "problem" (#launch-problem; `retry_launch`,
// `quit_app`). When the
// services are first on screen, `services_painted` (the app logs the launch's time). Settings
// also calls `get_settings`,
// `set_setting { name, value }` and `welcome_info`; `second-launch` shows a toast.

import { createCall } from './lib/commands.js';
import { errorText } from './lib/errors.js';
import {
  interpretLaunchState, launchSummary, normalizeWelcome, planLaunch, problemFromError, visibleView,
} from './lib/launch.js';
import { createMetricsHistory } from './lib/metrics.js';
import { createNotices } from './lib/notices.js';
import { isActive, isComingUp } from './lib/states.js';
import { createStartup } from './lib/startup.js';
import { createStore } from './lib/store.js';
import {
  refreshUptimes, renderDashboard, renderMetrics, resetDashboard, wireDashboard,
} from './views/dashboard.js';
import { closeDialog } from './views/dialogs.js';
import { $, $$, on, setText, show } from './views/dom.js';
import { hideFailure, showFailure } from './views/failure.js';
import { onLogEvent, openLogs } from './views/logs.js';
import { hideMove, showMove } from './views/move.js';
import { hideProblem, showProblem } from './views/problem.js';
import { focusProgramsFolder } from './views/programs.js';
import { openSettings } from './views/settings.js';
import { renderStartup } from './views/startup.js';
import { showBanner, showToast } from './views/toasts.js';
import { hideWelcome, showWelcome } from './views/welcome.js';

/** @typedef {import('./types/contract').Events} Events */
/** @typedef {import('./types/LaunchState').LaunchState} LaunchState */
/** @typedef {import('./types/MetricsUpdate').MetricsUpdate} MetricsUpdate */
/** @typedef {import('./types/Problem').Problem} Problem */
/** @typedef {import('./types/PullProgress').PullProgress} PullProgress */
/** @typedef {import('./types/StartupComplete').StartupComplete} StartupComplete */
/** @typedef {import('./types/StartupFailed').StartupFailed} StartupFailed */
/** @typedef {import('./types/StatusChanged').StatusChanged} StatusChanged */
/** @typedef {import('./types/SummaryChanged').SummaryChanged} SummaryChanged */
/** @typedef {import('./types/Welcome').Welcome} Welcome */
/** @typedef {import('./lib/launch.js').LaunchPhase} LaunchPhase */
/** @typedef {import('./lib/launch.js').View} View */
/** @typedef {import('./lib/store.js').Applied} Applied */
/**
 * What the page uses of `window.__TAURI__` (the app sets `withGlobalTauri`).
 * @typedef {{
 *   core: { invoke: (command: string, args?: object) => Promise<unknown> },
 *   event: { listen: (name: string, handler: (event: { payload: unknown }) => void) => Promise<unknown> },
 * }} Tauri
 */

const UPTIME_REFRESH_MS = 5000;

// What one run of the engine told us. A new engine (after a launch problem) starts afresh.
let store = createStore();
let startup = createStartup();
let metrics = createMetricsHistory(30);
let notices = createNotices();

/** @type {Tauri | null} */
let tauri = null;
let skippedStartup = false;
let loadError = '';
let renderQueued = false;
let metricsQueued = false;
/** @type {ReturnType<typeof setInterval> | null} */
let uptimeTimer = null;
/** @type {View} */
let shownView = 'loading';

// "loading" until `launch_state` answers, then "running", "welcome" or "problem".
/** @type {LaunchPhase} */
let launchPhase = 'loading';
// The welcome view: null (closed), "first-run" or "settings" (opened from Settings).
/** @type {null | 'first-run' | 'settings'} */
let welcomeMode = null;
/** @type {Promise<boolean> | null} */
let subscribed = null;

/**
 * Runs a backend command. Resolves `{ ok: true, value }` or `{ ok: false, error }` where
 * `error` is a plain sentence, shown as a toast unless `quiet`.
 */
const call = createCall(
  (command, args) => (tauri ? tauri.core.invoke(command, args) : Promise.reject(new Error('Not connected'))),
  (sentence) => showToast(sentence, 'error'),
);

function pageHidden() {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

// ---------------------------------------------------------------- rendering

function currentView() {
  return visibleView({
    phase: launchPhase,
    welcomeOpen: welcomeMode !== null,
    startupVisible: startup.showStartupView && !skippedStartup,
  });
}

function render() {
  renderQueued = false;
  metricsQueued = false;
  const services = store.services();
  const haveServices = store.hasSnapshot;
  let summary = launchSummary(launchPhase);
  if (summary === null) {
    summary = 'Connecting…';
    if (loadError && !haveServices) summary = 'Could not reach the ClaraVerse core';
    else if (haveServices) summary = store.summary;
  }
  setText($('#summary'), summary);

  const view = currentView();
  show($('#launch-problem'), view === 'problem');
  show($('#move-view'), view === 'move');
  show($('#welcome-view'), view === 'welcome');
  show($('#startup-view'), view === 'startup');
  show($('#dashboard'), view === 'dashboard');
  const settings = /** @type {HTMLButtonElement | null} */ ($('#settings-button'));
  const settingsOn = launchPhase === 'running' && welcomeMode === null;
  if (settings && settings.disabled === settingsOn) settings.disabled = !settingsOn;

  if (view === 'startup') {
    show($('#skip-startup'), haveServices);
    const errorBox = $('#load-error');
    show(errorBox, Boolean(loadError) && !haveServices);
    setText($('.load-error-text', errorBox), loadError);
    renderStartup(services, startup);
  } else if (view === 'dashboard') {
    renderDashboard(services, { metrics, startup, now: Date.now(), loaded: haveServices });
  }
  if (view !== shownView) {
    const from = shownView;
    shownView = view;
    if (from !== 'loading') keepFocus(view);
  }
  if (haveServices && (view === 'startup' || view === 'dashboard')) reportFirstPaint();
  syncTimers(view);
}

let paintReported = false;

/**
 * Tells the app, once, that the services are on screen: it logs how long the launch took
 * (the benchmark reads it). Two animation frames: the first runs before that paint.
 */
function reportFirstPaint() {
  if (paintReported) return;
  paintReported = true;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    call('services_painted', undefined, { quiet: true });
  }));
}

/**
 * When the view that had focus went away, focus the start of the new one.
 * @param {View} view
 */
function keepFocus(view) {
  const active = document.activeElement;
  const lost = !active || active === document.body || Boolean(active.closest?.('[hidden]'));
  if (!lost) return;
  // The welcome and problem views focus their own heading when they show.
  if (view === 'startup') $('#startup-title')?.focus();
  else if (view === 'dashboard') ($('#service-grid button:not([disabled])') ?? $('#settings-button'))?.focus();
}

/** Renders once after the current burst of events. */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(render);
}

/** Draws the sparklines that changed, after the current burst of metrics. */
function scheduleMetrics() {
  if (renderQueued || metricsQueued) return;
  metricsQueued = true;
  queueMicrotask(() => {
    if (!metricsQueued) return;
    metricsQueued = false;
    if (!pageHidden() && currentView() === 'dashboard') renderMetrics(store.services(), metrics);
  });
}

// The uptime lines tick only while the dashboard is on screen and the page is shown.
function syncTimers(view = currentView()) {
  const wanted = view === 'dashboard' && !pageHidden();
  if (wanted && uptimeTimer === null) {
    uptimeTimer = setInterval(() => refreshUptimes(store.services(), Date.now()), UPTIME_REFRESH_MS);
  } else if (!wanted && uptimeTimer !== null) {
    clearInterval(uptimeTimer);
    uptimeTimer = null;
  }
}

function onVisibilityChange() {
  if (pageHidden()) syncTimers();
  else render();
}

// ---------------------------------------------------------------- service changes

/**
 * @param {Applied} outcome
 * @param {{ announce: boolean }} options
 */
function afterChange(outcome, { announce }) {
  const { previous, current } = outcome;
  if (!isActive(current.status)) metrics.clear(current.service);
  if (!isComingUp(current.status)) startup.clearPull(current.service);
  const notice = notices.update(previous, current);
  if (notice && announce) showBanner(notice);
}

/** @param {StatusChanged} payload */
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
  if (phase.phase === 'failed') onStartupFailed(phase);
  else if (phase.phase === 'complete') onStartupComplete(phase);
  scheduleRender();
  return true;
}

// ---------------------------------------------------------------- start-up

/** @param {string} name */
function openLogsFor(name) {
  openLogs(name, { call });
}

/**
 * @param {'retry_startup' | 'continue_without'} command
 * @param {{ name: string }} [args]
 */
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

/** @type {import('./views/failure.js').FailureActions} */
const failureActions = {
  call,
  onRetry: () => beginStartupAgain('retry_startup'),
  onContinue: (name) => beginStartupAgain('continue_without', { name }),
  openLogs: openLogsFor,
};

/** @param {StartupComplete} payload */
function onStartupComplete(payload) {
  if (!startup.onComplete(payload)) return;
  hideFailure();
  scheduleRender();
}

/** @param {StartupFailed} payload */
function onStartupFailed(payload) {
  if (!startup.onFailed(payload)) return;
  scheduleRender();
  // Only a running engine has a start-up to fail; the welcome and problem views stay alone.
  if (launchPhase === 'running') showFailure(startup.failure, failureActions);
}

/** @param {SummaryChanged} payload */
function onSummaryChanged(payload) {
  if (store.applySummary(payload)) scheduleRender();
}

/** @param {PullProgress} payload */
function onPullProgress(payload) {
  if (startup.onPull(payload)) scheduleRender();
}

/** @param {MetricsUpdate} payload */
function onMetrics(payload) {
  metrics.add(payload);
  // Hidden: keep the samples, draw nothing; becoming visible draws once.
  if (!pageHidden()) scheduleMetrics();
}

// ---------------------------------------------------------------- card buttons

/** @type {import('./views/dashboard.js').CardHandlers} */
const cardActions = {
  start: (name) => call('start_service', { name }),
  stop: async (name) => {
    const result = await call('stop_service', { name });
    const others = result.ok && Array.isArray(result.value) ? result.value.filter((n) => n !== name) : [];
    if (others.length) showToast(`Stopping ${name} also stops: ${others.join(', ')}`, 'info');
  },
  restart: (name) => call('restart_service', { name }),
  'open-url': (name) => call('open_service_url', { name }),
  'choose-folder': (name) => {
    if (launchPhase !== 'running') return;
    openSettings({ call, onChanged: () => loadSnapshot(), onShowWelcome: showSettingsWelcome });
    focusProgramsFolder(name);
  },
  logs: (name) => openLogsFor(name),
};

// ---------------------------------------------------------------- launch

function closeOpenDialogs() {
  for (const dialog of $$('dialog')) closeDialog(/** @type {HTMLDialogElement} */ (dialog));
}

/** Forgets what an earlier engine said: a new one numbers its events from the start. */
function resetEngineState() {
  store = createStore();
  startup = createStartup();
  metrics = createMetricsHistory(30);
  notices = createNotices();
  skippedStartup = false;
  loadError = '';
  resetDashboard();
}

/** Listens to the engine's events once; resolves true when listening. */
function ensureSubscribed() {
  if (!subscribed) {
    subscribed = subscribe().then(() => true, (error) => {
      subscribed = null;
      loadError = `Could not listen to the ClaraVerse core: ${errorText(error)}`;
      return false;
    });
  }
  return subscribed;
}

/** Listens if not yet, then reads the services (the start-up view or the dashboard follows). */
async function connect() {
  if (!(await ensureSubscribed())) {
    scheduleRender();
    return false;
  }
  return loadSnapshot();
}


/** @param {Welcome} welcome */
function showFirstRunWelcome(welcome) {
  welcomeMode = 'first-run';
  hideProblem();
  render();
  showWelcome(welcome, {
    mode: 'first-run',
    begin: (names) => call('begin', { features: names }, { quiet: true }),
    onStarted: () => {
      // The engine runs now: the services start.
      applyLaunchState({ phase: 'running' });
    },
  });
}

/**
 * Settings → Choose features again…: the welcome view with the current choice.
 * @param {Welcome} raw
 */
function showSettingsWelcome(raw) {
  welcomeMode = 'settings';
  render();
  const back = () => {
    welcomeMode = null;
    hideWelcome();
    render();
    $('#settings-button')?.focus();
  };
  showWelcome(normalizeWelcome(raw), {
    mode: 'settings',
    begin: (names) => call('begin', { features: names }, { quiet: true }),
    onStarted: () => {
      back();
      showToast('Your choice of features is saved.', 'ok');
      loadSnapshot();
    },
    onCancel: back,
  });
}

/** @param {Problem} problem */
function showLaunchProblem(problem) {
  welcomeMode = null;
  hideWelcome();
  render();
  showProblem(problem, {
    onTryAgain: async () => {
      const result = await call('retry_launch', undefined, { quiet: true });
      if (result.ok) applyLaunchState(result.value);
      return result;
    },
    onQuit: () => call('quit_app', undefined, { quiet: true }),
  });
}

/**
 * The offer to carry over the earlier app: Continue and Start fresh each answer the launch
 * state that follows, which is applied.
 * @param {string[]} plan
 */
function showMoveOffer(plan) {
  welcomeMode = null;
  hideWelcome();
  hideProblem();
  render();
  /** @param {'move_earlier_app' | 'start_fresh'} command */
  const answer = async (command) => {
    const result = await call(command, undefined, { quiet: true });
    if (result.ok) applyLaunchState(result.value);
    return result;
  };
  showMove(plan, {
    onContinue: () => answer('move_earlier_app'),
    onFresh: () => answer('start_fresh'),
  });
}

/**
 * Applies a launch state (from `launch_state`, `retry_launch`, `move_earlier_app`,
 * `start_fresh` or `begin`): the offer to carry over the earlier app, the welcome view, the
 * launch problem, or the running engine.
 * @param {LaunchState} raw
 */
function applyLaunchState(raw) {
  const state = interpretLaunchState(raw);
  const plan = planLaunch({ phase: launchPhase, hadSnapshot: store.hasSnapshot }, state);
  if (plan.closeDialogs) closeOpenDialogs();
  launchPhase = state.phase;
  if (state.phase !== 'move') hideMove();
  if (plan.showMove && state.phase === 'move') {
    showMoveOffer(state.plan);
    return;
  }
  if (plan.showProblem && state.phase === 'problem') {
    showLaunchProblem(state.problem);
    return;
  }
  if (plan.showWelcome && state.phase === 'welcome') {
    showFirstRunWelcome(state.welcome);
    return;
  }
  hideProblem();
  if (welcomeMode === 'first-run') {
    welcomeMode = null;
    hideWelcome();
  }
  if (!plan.enterRunning) {
    scheduleRender();
    return;
  }
  if (plan.resetEngine) resetEngineState();
  render();
  connect();
}

// ---------------------------------------------------------------- boot

function showOutsideApp() {
  show($('#no-tauri'), true);
  show($('#startup-view'), false);
  show($('#dashboard'), false);
  setText($('#summary'), 'Not connected');
}

async function subscribe() {
  if (!tauri) throw new Error('Not connected');
  const listen = tauri.event.listen;
  // One handler per event of the contract, each with its payload's type.
  /** @type {{ [K in keyof Events]: (payload: Events[K]) => void }} */
  const handlers = {
    'service-status-changed': (payload) => onStatusChanged(payload),
    'startup-complete': (payload) => onStartupComplete(payload),
    'startup-failed': (payload) => onStartupFailed(payload),
    'pull-progress': (payload) => onPullProgress(payload),
    'summary-changed': (payload) => onSummaryChanged(payload),
    'service-metrics': (payload) => onMetrics(payload),
    'service-log': (payload) => onLogEvent(payload),
    'second-launch': () => showToast('ClaraVerse is already running — here it is.', 'info'),
  };
  await Promise.all(Object.entries(handlers).map(([name, handler]) => listen(name, (event) => {
    try {
      /** @type {(payload: unknown) => void} */ (handler)(event?.payload);
    } catch {
      // A malformed event must not break the page; the next snapshot corrects the view.
    }
  })));
}

async function boot() {
  tauri = /** @type {{ __TAURI__?: Tauri }} */ (/** @type {unknown} */ (window)).__TAURI__ ?? null;
  if (!tauri?.core?.invoke || !tauri?.event?.listen) {
    showOutsideApp();
    return;
  }
  const settings = $('#settings-button');
  on(settings, 'click', () => {
    if (launchPhase !== 'running') return;
    openSettings({ call, onChanged: () => loadSnapshot(), onShowWelcome: showSettingsWelcome });
  });
  on($('#skip-startup'), 'click', () => {
    skippedStartup = true;
    render();
    $('#service-grid button:not([disabled])')?.focus();
  });
  on($('#reload-button'), 'click', () => connect());
  wireDashboard(cardActions);
  on(document, 'visibilitychange', onVisibilityChange);
  render();

  // Subscribe first, so nothing that happens while the launch state and the snapshot are read
  // is missed. Should listening fail, connecting to the running engine tries again.
  await ensureSubscribed();
  const launch = await call('launch_state', undefined, { quiet: true });
  applyLaunchState(launch.ok ? launch.value : { phase: 'problem', problem: problemFromError(launch.error) });
}

boot().catch(() => {
  setText($('#summary'), 'Something went wrong while loading. Please restart ClaraVerse.');
});
