// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNotices } from '../lib/notices.js';
import { service } from './fixtures.js';

test('a failure gives a notice with the reason', () => {
  const notices = createNotices();
  const notice = notices.update(service('n8n', 'running'), service('n8n', 'error', { reason: 'it exited with code 1' }));
  assert.deepEqual(notice, { tone: 'bad', service: 'n8n', text: 'n8n failed: it exited with code 1' });
});

test('a failure without a reason uses the last error, or says just that it failed', () => {
  const notices = createNotices();
  assert.equal(
    notices.update(null, service('a', 'error', { lastError: { message: 'port 80 is taken', detail: null, cause: 'portInUse' } }))?.text,
    'a failed: port 80 is taken',
  );
  assert.equal(notices.update(service('b', 'starting'), service('b', 'error'))?.text, 'b failed.');
});

test('recovery after trouble gives an ok notice, once', () => {
  const notices = createNotices();
  notices.update(service('a', 'running'), service('a', 'error'));
  assert.equal(notices.update(service('a', 'error'), service('a', 'starting')), null);
  assert.deepEqual(notices.update(service('a', 'starting'), service('a', 'running')), {
    tone: 'ok', service: 'a', text: 'a recovered and is running again.',
  });
  assert.equal(notices.update(service('a', 'unhealthy'), service('a', 'running'))?.tone, undefined);
});

test('a crash that restarts the service and an unhealthy one warn', () => {
  const notices = createNotices();
  const crash = notices.update(service('a', 'running'), service('a', 'restarting', { reason: 'it exited with code 2; restarting in 1s' }));
  assert.equal(crash?.tone, 'warn');
  assert.equal(crash?.text, 'a stopped unexpectedly: it exited with code 2; restarting in 1s');
  assert.equal(notices.update(service('b', 'running'), service('b', 'unhealthy'))?.tone, 'warn');
  assert.equal(notices.update(service('b', 'unhealthy'), service('b', 'running'))?.tone, 'ok');
});

test('a normal start says nothing', () => {
  const notices = createNotices();
  assert.equal(notices.update(null, service('a', 'stopped')), null);
  assert.equal(notices.update(service('a', 'stopped'), service('a', 'starting')), null);
  assert.equal(notices.update(service('a', 'starting'), service('a', 'running')), null);
  assert.equal(notices.update(service('a', 'running'), service('a', 'running')), null);
  assert.equal(notices.update(service('a', 'running'), null), null);
});

test('stopping a troubled service by hand forgets the trouble', () => {
  const notices = createNotices();
  notices.update(null, service('a', 'error'));
  notices.update(service('a', 'error'), service('a', 'stopped'));
  notices.update(service('a', 'stopped'), service('a', 'starting'));
  assert.equal(notices.update(service('a', 'starting'), service('a', 'running')), null);
});
