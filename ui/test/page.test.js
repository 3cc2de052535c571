// @ts-check
// Static checks of the page: nothing the strict CSP would block, every hook the end-to-end
// tests rely on, and imports that resolve. Reads files only; no browser needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (/** @type {string} */ path) => readFileSync(join(root, path), 'utf8');
const html = read('index.html');

function sources() {
  const files = ['app.js'];
  for (const dir of ['lib', 'views']) {
    for (const name of readdirSync(join(root, dir))) if (name.endsWith('.js')) files.push(`${dir}/${name}`);
  }
  return files;
}

test('index.html has nothing the CSP blocks', () => {
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attributes');
  assert.doesNotMatch(html, /<style[\s>]/i, 'no <style> elements');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handlers');
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /(src|href)\s*=\s*"(https?:)?\/\//i, 'nothing remote');
  for (const [, attributes, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
    assert.match(attributes, /\ssrc="/, 'scripts load from files');
    assert.equal(body.trim(), '', 'no inline script');
  }
  assert.match(html, /<script type="module" src="app.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="style.css">/);
});

test('the scripts use nothing the CSP blocks, and no innerHTML', () => {
  for (const file of sources()) {
    const text = read(file);
    assert.doesNotMatch(text, /\beval\s*\(/, `${file}: eval`);
    assert.doesNotMatch(text, /new\s+Function\s*\(/, `${file}: new Function`);
    assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML/, `${file}: HTML strings`);
    assert.doesNotMatch(text, /setAttribute\(\s*['"]style['"]/, `${file}: style attribute`);
    assert.doesNotMatch(text, /setTimeout\(\s*['"`]/, `${file}: string timer`);
  }
});

test('the stylesheet loads nothing remote and keeps badge text as the state', () => {
  const css = read('style.css');
  assert.doesNotMatch(css, /@import|url\(\s*['"]?(https?:)?\/\//i);
  // WebDriver reads rendered text: a transformed badge would read "Running", not "running".
  const badge = css.match(/\.state-badge \{[^}]*\}/)?.[0];
  assert.ok(badge, 'a .state-badge rule');
  assert.doesNotMatch(badge, /text-transform\s*:/);
});

test('ids in the page are unique', () => {
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), []);
});

test('the hooks for end-to-end tests are in the page', () => {
  const ids = [
    'summary', 'settings-button', 'startup-view', 'dashboard', 'service-grid', 'startup-list',
    'features-dialog', 'feature-list', 'confirm-dialog', 'confirm-message', 'failure-dialog',
    'logs-dialog', 'toasts', 'banner', 'no-tauri',
    'welcome-view', 'welcome-title', 'welcome-machine', 'welcome-features', 'welcome-total',
    'welcome-error', 'welcome-start', 'launch-problem',
  ];
  for (const id of ids) assert.match(html, new RegExp(`id="${id}"`), id);
  for (const dialog of ['features-dialog', 'confirm-dialog', 'failure-dialog', 'logs-dialog']) {
    assert.match(html, new RegExp(`<dialog id="${dialog}"`), dialog);
  }
  for (const name of [
    'failure-service', 'failure-message', 'failure-hint', 'retry', 'continue', 'show-logs',
    'copy-details', 'confirm', 'log-output',
    'launch-problem-title', 'launch-problem-message', 'launch-problem-details', 'try-again', 'quit',
    'welcome-cancel', 'show-welcome', 'feature-status',
  ]) {
    assert.match(html, new RegExp(`class="[^"]*\\b${name}\\b`), name);
  }
  assert.match(html, /<ul class="launch-problem-details/);
  assert.match(html, /<button id="welcome-start"[^>]*>Start<\/button>/);
  for (const setting of ['keepRunningInBackground', 'startAtLogin']) {
    assert.match(html, new RegExp(`<input type="checkbox"[^>]*data-setting="${setting}"`), setting);
  }
  assert.match(html, /<h2 id="features-title">Settings<\/h2>/);
  assert.match(html, /id="welcome-total"[^>]*aria-live="polite"/);
  assert.match(html, /id="welcome-error"[^>]*role="alert"/);
  assert.match(html, /id="summary"[^>]*aria-live="polite"/);
  const dashboard = read('views/dashboard.js');
  for (const name of ['service-card', 'state-badge', "'start'", "'stop'", "'restart'"]) {
    assert.ok(dashboard.includes(name), name);
  }
  assert.ok(read('views/features.js').includes("type: 'checkbox'"));
  assert.ok(read('views/welcome.js').includes("type: 'checkbox'"));
  assert.ok(read('views/logs.js').includes('log-line'));
});

test('every relative import resolves to a file that exports the names', () => {
  for (const file of sources()) {
    const text = read(file);
    for (const [, names, target] of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(\.[^']+)'/g)) {
      const path = join(dirname(join(root, file)), target);
      assert.ok(existsSync(path), `${file} imports ${target}`);
      const exported = readFileSync(path, 'utf8');
      for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
        const escaped = name.replace(/[$]/g, '\\$');
        assert.match(exported, new RegExp(`export (async )?(function|const|let) ${escaped}(?![\\w$])`),
          `${relative(root, path)} exports ${name} (imported by ${file})`);
      }
    }
  }
});

test('package.json runs the tests with node only', () => {
  const pkg = JSON.parse(read('package.json'));
  assert.equal(pkg.private, true);
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.scripts.test, 'node --test test/');
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.devDependencies, undefined);
});
