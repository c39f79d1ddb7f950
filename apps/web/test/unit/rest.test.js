import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, NetworkError, NotificationClient, UnexpectedResponseError } from '../../client/notifications.js';
import { routedFetch } from '../support/fakes.js';

const BASE = 'http://notify.test';
const client = (fetch, extra = {}) => new NotificationClient({ baseUrl: `${BASE}/`, token: 'old', fetch, ...extra });

test('list sends the paging query and the bearer token, and maps the page', async () => {
  const { fetch, calls } = routedFetch({
    'GET /api/v1/notifications': { body: { items: [{ notification_id: 'a' }], next_cursor: 'c2', seq: 9 } },
  });
  const page = await client(fetch).list({ status: 'UNREAD', limit: 5, cursor: 'c1' });
  assert.deepEqual(page, { items: [{ notification_id: 'a' }], nextCursor: 'c2', seq: 9 });
  assert.equal(calls[0].query.toString(), 'status=UNREAD&limit=5&cursor=c1');
  assert.equal(calls[0].headers.Authorization, 'Bearer old');
});

test('each call reaches its endpoint', async () => {
  const { fetch, calls } = routedFetch({
    'GET /api/v1/notifications/unread-count': { body: { unread_count: 3, seq: 4 } },
    'POST /api/v1/notifications/id%2F1/read': { body: { status: 'READ' } },
    'POST /api/v1/notifications/x/unread': { body: { status: 'UNREAD' } },
    'POST /api/v1/notifications/x/archive': { body: { status: 'ARCHIVED' } },
    'DELETE /api/v1/notifications/x': { status: 204 },
    'POST /api/v1/notifications/read-all': { body: { updated: 2 } },
    'GET /api/v1/changes': { body: { changes: [], seq: 4, has_more: false } },
  });
  const c = client(fetch);
  assert.deepEqual(await c.unreadCount(), { unreadCount: 3, seq: 4 });
  assert.equal((await c.markRead('id/1')).status, 'READ');
  assert.equal((await c.markUnread('x')).status, 'UNREAD');
  assert.equal((await c.archive('x')).status, 'ARCHIVED');
  assert.equal(await c.delete('x'), undefined);
  assert.equal(await c.readAll(), 2);
  assert.deepEqual(await c.changes({ afterSeq: 4 }), { changes: [], seq: 4, hasMore: false });
  assert.equal(calls.at(-1).query.get('after_seq'), '4');
});

test("the contract's error body becomes an ApiError with code and field", async () => {
  const { fetch } = routedFetch({
    'GET /api/v1/notifications/missing': { status: 404, body: { error: { code: 'not_found', message: 'no such notification' } } },
    'GET /api/v1/notifications': { status: 422, body: { error: { code: 'validation_failed', message: 'bad', field: 'limit' } } },
  });
  await assert.rejects(client(fetch).get('missing'), (e) => e instanceof ApiError && e.status === 404 && e.code === 'not_found');
  await assert.rejects(client(fetch).list({ limit: 0 }), (e) => e instanceof ApiError && e.field === 'limit');
});

test('another body is an UnexpectedResponseError, a failed fetch a NetworkError', async () => {
  const { fetch } = routedFetch({ 'GET /api/v1/notifications': { status: 502, body: '<html>Bad Gateway</html>' } });
  await assert.rejects(client(fetch).list(), (e) => e instanceof UnexpectedResponseError && e.status === 502);
  const failing = async () => {
    throw new TypeError('fetch failed');
  };
  await assert.rejects(client(failing).list(), NetworkError);
});

test('a 401 refreshes the token once and repeats the call with it', async () => {
  const { fetch, calls } = routedFetch({
    'GET /api/v1/notifications/unread-count': (_url, init) =>
      init.headers.Authorization === 'Bearer new'
        ? { body: { unread_count: 1, seq: 1 } }
        : { status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } },
  });
  let refreshes = 0;
  const c = client(fetch, { refreshToken: async () => (refreshes++, 'new') });
  const [a, b] = await Promise.all([c.unreadCount(), c.unreadCount()]);
  assert.deepEqual([a.unreadCount, b.unreadCount], [1, 1]);
  assert.equal(refreshes, 1, 'concurrent 401s share one refresh');
  assert.equal(c.token, 'new');
  assert.equal(calls.length, 4);
});

test('a 401 with nothing better to try is thrown', async () => {
  const unauthorized = { status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } };
  const { fetch, calls } = routedFetch({ 'GET /api/v1/notifications': unauthorized });
  await assert.rejects(client(fetch).list(), (e) => e instanceof ApiError && e.status === 401);
  await assert.rejects(client(fetch, { refreshToken: () => undefined }).list(), ApiError);
  await assert.rejects(client(fetch, { refreshToken: () => Promise.reject(new Error('idp down')) }).list(), ApiError);
  assert.equal(calls.length, 3, 'no retry without a new token');
});

test('outside a browser the base URL is required', () => {
  assert.throws(() => new NotificationClient({ fetch: async () => {} }), TypeError);
});
