// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../lib/report.js';

const failure = {
  service: 'core',
  message: 'core could not start: cannot start: the program /x was not found',
  hint: 'Reinstall ClaraVerse, or turn off Clara Core in Settings.',
};

test('the report names the service, the message, the hint and the logs', () => {
  const report = failureReport(failure, [
    { stream: 'stdout', text: 'starting up\n' },
    { stream: 'stderr', text: 'fatal: no such file' },
  ], { time: '2026-01-02T03:04:05.000Z' });
  assert.equal(report, [
    'ClaraVerse could not start',
    '',
    'Service: core',
    'What happened: core could not start: cannot start: the program /x was not found',
    'What to do: Reinstall ClaraVerse, or turn off Clara Core in Settings.',
    'Time: 2026-01-02T03:04:05.000Z',
    '',
    'Recent log lines (2):',
    '         starting up',
    '[stderr] fatal: no such file',
    '',
  ].join('\n'));
});

test('without logs the report says so', () => {
  const report = failureReport(failure, []);
  assert.match(report, /Recent log lines: none\n$/);
  assert.doesNotMatch(report, /Time:/);
});

test('missing fields read as sentences, never "undefined"', () => {
  const report = failureReport({}, undefined);
  assert.match(report, /Service: unknown/);
  assert.match(report, /What happened: No message was given\./);
  assert.match(report, /What to do: No hint was given\./);
  assert.doesNotMatch(report, /undefined|null/);
});
