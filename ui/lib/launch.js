// @ts-check
// What the app is doing at launch (`launch_state`, `retry_launch`) and
// which view that shows. Pure: no DOM.

/** @typedef {import('../types/LaunchState').LaunchState} LaunchState */
/** @typedef {import('../types/Welcome').Welcome} Welcome */
/** @typedef {import('../types/WelcomeFeature').WelcomeFeature} WelcomeFeature */
/** @typedef {import('../types/Problem').Problem} Problem */
/** @typedef {import('../types/Fact').Fact} Fact */
/** @typedef {import('../types/GpuNeed').GpuNeed} GpuNeed */
/**
 * Where the window is: "loading" until the launch state is known, then as it says.
 * @typedef {'loading' | LaunchState['phase']} LaunchPhase
 */
/** @typedef {'loading' | 'problem' | 'move' | 'welcome' | 'startup' | 'dashboard'} View */

const PROBLEM_TITLE = 'ClaraVerse could not start';

const text = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : '');
const strings = (/** @type {unknown} */ value) => (Array.isArray(value)
  ? value.filter(/** @returns {v is string} */ (v) => typeof v === 'string')
  : []);

/**
 * @param {Fact | null | undefined} raw
 * @returns {Fact}
 */
function fact(raw) {
  return { available: raw?.available === true, detail: text(raw?.detail).trim() };
}

/**
 * @param {unknown} value
 * @returns {GpuNeed | null}
 */
function gpuNeed(value) {
  return value === 'required' || value === 'optional' ? value : null;
}

/**
 * @param {unknown} value
 */
function bytes(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * One feature of the welcome view with every field filled in. Null when it has no name.
 * @param {WelcomeFeature | null | undefined} raw
 * @returns {WelcomeFeature | null}
 */
export function normalizeWelcomeFeature(raw) {
  const name = text(raw?.name);
  if (!raw || !name) return null;
  return {
    name,
    label: text(raw.label) || name,
    description: text(raw.description) || null,
    enabled: raw.enabled === true,
    services: strings(raw.services),
    needs: {
      docker: raw.needs?.docker === true,
      gpu: gpuNeed(raw.needs?.gpu),
      downloadBytes: bytes(raw.needs?.downloadBytes),
    },
  };
}

/**
 * A `Welcome` (features and machine facts) with every field filled in.
 * @param {Welcome | null | undefined} raw
 * @returns {Welcome}
 */
export function normalizeWelcome(raw) {
  const features = (Array.isArray(raw?.features) ? raw.features : [])
    .flatMap((feature) => normalizeWelcomeFeature(feature) ?? []);
  return {
    features,
    machine: {
      docker: fact(raw?.machine?.docker),
      gpu: fact(raw?.machine?.gpu),
    },
  };
}

/**
 * A `Problem` with a title, a message and its details (strings only).
 * @param {Partial<Problem> | null | undefined} raw
 * @returns {Problem}
 */
export function normalizeProblem(raw) {
  return {
    title: text(raw?.title).trim() || PROBLEM_TITLE,
    message: text(raw?.message).trim() || 'ClaraVerse stopped before its services could start. Try again, or quit and open it again.',
    details: strings(raw?.details).filter((line) => line.trim() !== ''),
  };
}

/**
 * The problem to show when asking for the launch state itself failed with `sentence`.
 * @param {string} sentence
 */
export function problemFromError(sentence) {
  return normalizeProblem({
    title: PROBLEM_TITLE,
    message: sentence || 'The window could not ask ClaraVerse how its start went. Try again, or quit and open it again.',
    details: [],
  });
}

/**
 * A launch state in one of four shapes: `{ phase: "running" }`, `{ phase: "welcome", welcome }`,
 * `{ phase: "move", plan }` (the earlier app's settings were found: carry them over?) or
 * `{ phase: "problem", problem }`. Anything else is shown as a problem, never ignored.
 * @param {LaunchState | null | undefined} raw
 * @returns {LaunchState}
 */
export function interpretLaunchState(raw) {
  if (raw?.phase === 'running') return { phase: 'running' };
  if (raw?.phase === 'welcome') return { phase: 'welcome', welcome: normalizeWelcome(raw.welcome) };
  if (raw?.phase === 'problem') return { phase: 'problem', problem: normalizeProblem(raw.problem) };
  if (raw?.phase === 'move') return { phase: 'move', plan: strings(raw.plan).filter((line) => line.trim() !== '') };
  let answer = '';
  try {
    answer = JSON.stringify(raw) ?? String(raw);
  } catch {
    answer = String(raw);
  }
  return {
    phase: 'problem',
    problem: normalizeProblem({
      title: PROBLEM_TITLE,
      message: 'ClaraVerse gave this window an answer it does not understand. Try again, or quit and open it again.',
      details: [`Answer: ${answer.slice(0, 500)}`],
    }),
  };
}

/**
 * What to do when the launch state becomes `next` while the window is in `current`
 * (`{ phase, hadSnapshot }`, phase "loading" before the first answer):
 * `{ enterRunning, resetEngine, showWelcome, showMove, showProblem, closeDialogs }`.
 * Entering "running" from another phase reads the services again; when an earlier engine was
 * already shown its numbering starts over, so the records of it are dropped first.
 * @param {{ phase?: LaunchPhase, hadSnapshot?: boolean } | null | undefined} current
 * @param {Pick<LaunchState, 'phase'> | null | undefined} next
 */
export function planLaunch(current, next) {
  const plan = {
    enterRunning: false, resetEngine: false, showWelcome: false, showMove: false, showProblem: false, closeDialogs: false,
  };
  const was = current?.phase ?? 'loading';
  if (next?.phase === 'running') {
    if (was !== 'running') {
      plan.enterRunning = true;
      plan.resetEngine = Boolean(current?.hadSnapshot);
    }
  } else if (next?.phase === 'welcome') {
    plan.showWelcome = true;
    plan.closeDialogs = true;
  } else if (next?.phase === 'move') {
    plan.showMove = true;
    plan.closeDialogs = true;
  } else {
    plan.showProblem = true;
    plan.closeDialogs = true;
  }
  return plan;
}

/**
 * The view the main area shows: "loading" (before the launch state is known), "problem",
 * "move", "welcome", "startup" or "dashboard".
 * @param {{ phase: LaunchPhase, welcomeOpen?: boolean, startupVisible?: boolean }} where
 * @returns {View}
 */
export function visibleView({ phase, welcomeOpen = false, startupVisible = false }) {
  if (phase === 'problem') return 'problem';
  if (phase === 'move') return 'move';
  if (welcomeOpen || phase === 'welcome') return 'welcome';
  if (phase !== 'running') return 'loading';
  return startupVisible ? 'startup' : 'dashboard';
}

/**
 * The header line for a launch phase, or null when the services' summary applies.
 * @param {LaunchPhase} phase
 * @returns {string | null}
 */
export function launchSummary(phase) {
  switch (phase) {
    case 'problem': return PROBLEM_TITLE;
    case 'welcome':
    case 'move': return 'Nothing is running yet';
    case 'running': return null;
    default: return 'Connecting…';
  }
}
