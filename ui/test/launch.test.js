// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  interpretLaunchState, launchSummary, normalizeProblem, normalizeWelcome, planLaunch,
  problemFromError, visibleView,
} from '../lib/launch.js';
import { malformed } from './fixtures.js';

/** @typedef {import('../types/LaunchState').LaunchState} LaunchState */

/** The problem of a launch state that must be one. */
const problemOf = (/** @type {LaunchState} */ state) => {
  assert.ok(state.phase === 'problem', JSON.stringify(state));
  return state.problem;
};

/** The welcome of a launch state that must be one. */
const welcomeOf = (/** @type {LaunchState} */ state) => {
  assert.ok(state.phase === 'welcome', JSON.stringify(state));
  return state.welcome;
};

/** @type {import('../types/Welcome').Welcome} */
const welcome = {
  features: [
    {
      name: 'claraCore', label: 'Clara Core', description: 'Local models', enabled: true,
      services: ['llamaswap'], needs: { docker: false, gpu: 'optional', downloadBytes: 1_200_000_000 },
    },
    {
      name: 'comfyUI', label: 'ComfyUI', description: null, enabled: false,
      services: ['docker', 'comfyui'], needs: { docker: true, gpu: 'required', downloadBytes: 4_500_000_000 },
    },
  ],
  machine: {
    docker: { available: false, detail: 'Docker is not installed.' },
    gpu: { available: true, detail: 'NVIDIA GeForce RTX 4070 (12 GB)' },
  },
};

test('running, welcome and problem are told apart', () => {
  assert.deepEqual(interpretLaunchState({ phase: 'running' }), { phase: 'running' });
  const w = interpretLaunchState({ phase: 'welcome', welcome });
  assert.equal(w.phase, 'welcome');
  assert.deepEqual(welcomeOf(w), welcome);
  const p = interpretLaunchState({
    phase: 'problem',
    problem: { title: 'services.toml has mistakes', message: 'Fix them and try again.', details: ['services.toml:3:9: service "a": unknown field'] },
  });
  assert.deepEqual(p, {
    phase: 'problem',
    problem: {
      title: 'services.toml has mistakes',
      message: 'Fix them and try again.',
      details: ['services.toml:3:9: service "a": unknown field'],
    },
  });
});

test('the offer to carry over the earlier app keeps its sentences', () => {
  const raw = { phase: 'move', plan: ['features turned on as before: claraCore, n8n', '', 42, 'data used where it is: ~/.clara/n8n (CLARA_N8N_DATA)'] };
  assert.deepEqual(interpretLaunchState(malformed(raw)), {
    phase: 'move',
    plan: ['features turned on as before: claraCore, n8n', 'data used where it is: ~/.clara/n8n (CLARA_N8N_DATA)'],
  });
  assert.deepEqual(interpretLaunchState(malformed({ phase: 'move' })), { phase: 'move', plan: [] });
  assert.equal(visibleView({ phase: 'move', welcomeOpen: true }), 'move');
  assert.equal(launchSummary('move'), 'Nothing is running yet');
});

test('an answer that is not a launch state is shown as a problem, never ignored', () => {
  for (const raw of [null, undefined, 42, 'running', {}, { phase: 'dancing' }]) {
    const state = interpretLaunchState(malformed(raw));
    assert.equal(state.phase, 'problem', JSON.stringify(raw));
    const problem = problemOf(state);
    assert.equal(problem.title, 'ClaraVerse could not start');
    assert.match(problem.message, /Try again/);
    assert.equal(problem.details.length, 1);
    assert.match(problem.details[0], /^Answer: /);
  }
  assert.equal(problemOf(interpretLaunchState(malformed({ phase: 'dancing' }))).details[0], 'Answer: {"phase":"dancing"}');
});

test('a problem always has a title, a message and string details', () => {
  assert.deepEqual(normalizeProblem(malformed({ title: '  ', message: null, details: ['a', 3, '', null, 'b'] })), {
    title: 'ClaraVerse could not start',
    message: 'ClaraVerse stopped before its services could start. Try again, or quit and open it again.',
    details: ['a', 'b'],
  });
  assert.deepEqual(normalizeProblem(undefined).details, []);
  assert.deepEqual(problemFromError('The app is shutting down.'), {
    title: 'ClaraVerse could not start', message: 'The app is shutting down.', details: [],
  });
  assert.match(problemFromError('').message, /could not ask ClaraVerse/);
});

test('a welcome is filled in: labels, needs, machine facts', () => {
  const normal = normalizeWelcome(malformed({
    features: [
      { name: 'rag' },
      { label: 'no name' },
      null,
      { name: 'n8n', label: 'N8N', description: '', enabled: 'yes', services: ['n8n', 7], needs: { docker: 1, gpu: 'maybe', downloadBytes: -5 } },
    ],
  }));
  assert.deepEqual(normal.features, [
    { name: 'rag', label: 'rag', description: null, enabled: false, services: [], needs: { docker: false, gpu: null, downloadBytes: null } },
    { name: 'n8n', label: 'N8N', description: null, enabled: false, services: ['n8n'], needs: { docker: false, gpu: null, downloadBytes: null } },
  ]);
  assert.deepEqual(normal.machine, {
    docker: { available: false, detail: '' },
    gpu: { available: false, detail: '' },
  });
  assert.deepEqual(normalizeWelcome(undefined).features, []);
  assert.equal(welcomeOf(interpretLaunchState(malformed({ phase: 'welcome' }))).features.length, 0);
});

test('what a new launch state does to the window', () => {
  const none = {
    enterRunning: false, resetEngine: false, showWelcome: false, showMove: false, showProblem: false, closeDialogs: false,
  };
  // First answer: running connects.
  assert.deepEqual(planLaunch({ phase: 'loading', hadSnapshot: false }, { phase: 'running' }), { ...none, enterRunning: true });
  // Running again (say, after a second launch) changes nothing.
  assert.deepEqual(planLaunch({ phase: 'running', hadSnapshot: true }, { phase: 'running' }), none);
  // Back to running after a problem, with an earlier engine on screen: start afresh.
  assert.deepEqual(planLaunch({ phase: 'problem', hadSnapshot: true }, { phase: 'running' }), { ...none, enterRunning: true, resetEngine: true });
  assert.deepEqual(planLaunch({ phase: 'welcome', hadSnapshot: false }, { phase: 'running' }), { ...none, enterRunning: true });
  // Welcome and problem take the whole window: open dialogs close.
  assert.deepEqual(planLaunch({ phase: 'running', hadSnapshot: true }, { phase: 'welcome' }), { ...none, showWelcome: true, closeDialogs: true });
  assert.deepEqual(planLaunch({ phase: 'problem' }, { phase: 'problem' }), { ...none, showProblem: true, closeDialogs: true });
  assert.deepEqual(planLaunch(undefined, { phase: 'running' }), { ...none, enterRunning: true });
  assert.deepEqual(planLaunch({ phase: 'loading' }, { phase: 'move' }), { ...none, showMove: true, closeDialogs: true });
  assert.deepEqual(planLaunch({ phase: 'move' }, { phase: 'welcome' }), { ...none, showWelcome: true, closeDialogs: true });
  assert.deepEqual(planLaunch({ phase: 'move' }, { phase: 'running' }), { ...none, enterRunning: true });
});

test('which view shows', () => {
  assert.equal(visibleView({ phase: 'loading' }), 'loading');
  assert.equal(visibleView({ phase: 'problem', welcomeOpen: true, startupVisible: true }), 'problem');
  assert.equal(visibleView({ phase: 'welcome' }), 'welcome');
  assert.equal(visibleView({ phase: 'running', welcomeOpen: true }), 'welcome');
  assert.equal(visibleView({ phase: 'running', startupVisible: true }), 'startup');
  assert.equal(visibleView({ phase: 'running', startupVisible: false }), 'dashboard');
});

test('the header line per phase', () => {
  assert.equal(launchSummary('problem'), 'ClaraVerse could not start');
  assert.equal(launchSummary('welcome'), 'Nothing is running yet');
  assert.equal(launchSummary('loading'), 'Connecting…');
  assert.equal(launchSummary('running'), null);
});
