// The client's REST calls against the real server binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApiError, NotificationClient } from '../../client/notifications.js';
import { TestServer } from '../support/server.js';

const server = new TestServer();
before(() => server.start());
after(() => server.dispose());

function userClient(extra = {}) {
  const userId = randomUUID();
  return { userId, client: new NotificationClient({ baseUrl: server.baseUrl, token: server.token(userId), ...extra }) };
}

test('list pages through the inbox newest first', async () => {
  const { userId, client } = userClient();
  const created = [];
  for (let i = 0; i < 5; i++) created.push(await server.publish(userId, { title: `n${i}` }));
  const first = await client.list({ limit: 2 });
  assert.deepEqual(first.items.map((n) => n.title), ['n4', 'n3']);
  assert.notEqual(first.nextCursor, null);
  const second = await client.list({ limit: 2, cursor: first.nextCursor });
  assert.deepEqual(second.items.map((n) => n.title), ['n2', 'n1']);
  const third = await client.list({ limit: 2, cursor: second.nextCursor });
  assert.deepEqual(third.items.map((n) => n.title), ['n0']);
  assert.equal(third.nextCursor, null);
  assert.equal((await client.get(created[0].notification_id)).title, 'n0');
});

test('read, unread, archive, read-all and delete change the inbox and the count', async () => {
  const { userId, client } = userClient();
  const [a, b, c] = [await server.publish(userId), await server.publish(userId), await server.publish(userId)];
  assert.equal((await client.unreadCount()).unreadCount, 3);
  assert.equal((await client.markRead(a.notification_id)).status, 'READ');
  assert.equal((await client.markUnread(a.notification_id)).status, 'UNREAD');
  assert.equal((await client.archive(b.notification_id)).status, 'ARCHIVED');
  assert.deepEqual((await client.list()).items.map((n) => n.notification_id), [c.notification_id, a.notification_id]);
  assert.deepEqual((await client.list({ status: 'ARCHIVED' })).items.map((n) => n.notification_id), [b.notification_id]);
  assert.equal(await client.readAll(), 2);
  assert.equal((await client.unreadCount()).unreadCount, 0);
  await client.delete(c.notification_id);
  await assert.rejects(client.get(c.notification_id), (e) => e instanceof ApiError && e.status === 404 && e.code === 'not_found');
});

test("another user's notification is not found", async () => {
  const owner = randomUUID();
  const theirs = await server.publish(owner);
  const { client } = userClient();
  await assert.rejects(client.markRead(theirs.notification_id), (e) => e instanceof ApiError && e.code === 'not_found');
});

test('bad input comes back as the typed error of the contract', async () => {
  const { client } = userClient();
  await assert.rejects(client.list({ limit: 1000 }), (e) => e instanceof ApiError && e.status === 422 && e.code === 'validation_failed');
});

test('a refused token is replaced through the refresh callback and the call repeated', async () => {
  const userId = randomUUID();
  let refreshed = 0;
  const client = new NotificationClient({
    baseUrl: server.baseUrl,
    token: 'not-a-jwt',
    refreshToken: async () => (refreshed++, server.token(userId)),
  });
  assert.equal((await client.unreadCount()).unreadCount, 0);
  assert.equal(refreshed, 1);
  const stuck = new NotificationClient({ baseUrl: server.baseUrl, token: 'not-a-jwt' });
  await assert.rejects(stuck.unreadCount(), (e) => e instanceof ApiError && e.status === 401 && e.code === 'unauthorized');
});

test('list and unread-count report the change sequence (contract §7)', async () => {
  const { userId, client } = userClient();
  assert.equal((await client.unreadCount()).seq, 0);
  await server.publish(userId);
  assert.equal((await client.list()).seq, 1);
  const feed = await client.changes({ afterSeq: 0 });
  assert.deepEqual(feed.changes.map((m) => [m.type, m.seq]), [['notification', 1]]);
});
