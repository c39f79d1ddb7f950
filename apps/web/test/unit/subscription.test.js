import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationClient } from '../../client/notifications.js';
import { FakeClock, FakeVisibility, FakeWebSocket, collect, jwt, nextEvent, nextState, routedFetch } from '../support/fakes.js';

const BASE = 'http://notify.test';
const NOW_S = new FakeClock().time / 1000;
const UNAUTHORIZED = { status: 401, body: { error: { code: 'unauthorized', message: 'invalid token' } } };

beforeEach(() => FakeWebSocket.reset());

function setup({ sinceSeq = 3, routes = {}, token = jwt(NOW_S + 3600), refreshToken, visibility, authMode } = {}) {
  const clock = new FakeClock();
  const { fetch, calls } = routedFetch({
    'GET /api/v1/notifications/unread-count': { body: { unread_count: 0, seq: 7 } },
    ...routes,
  });
  const client = new NotificationClient({
    baseUrl: BASE, token, refreshToken, fetch, WebSocket: FakeWebSocket, timers: clock.timers, now: clock.now, random: () => 0,
  });
  const socket = FakeWebSocket.next();
  const subscription = client.subscribe({ sinceSeq, visibility: visibility ?? new FakeVisibility(), authMode });
  return { clock, calls, client, subscription, socket };
}

const created = (seq, id = `n${seq}`) => ({ type: 'notification', data: { notification_id: id, title: `t${seq}` }, unread_count: seq, seq });
const read = (seq, id = 'n1') => ({ type: 'notification_update', notification_id: id, update_type: 'read', data: { status: 'READ' }, unread_count: 0, seq });
const seqs = (events) => events.map((e) => e.seq);

test('the token travels in the bearer subprotocol, never in the URL, and the socket resumes with since_seq', async () => {
  const { subscription, socket } = setup({ sinceSeq: 3 });
  const ws = await socket;
  assert.deepEqual(ws.protocols, ['notifications.v1', `bearer.${jwt(NOW_S + 3600)}`]);
  assert.equal(ws.url.pathname, '/ws/notifications');
  assert.equal(ws.url.protocol, 'ws:');
  assert.equal(ws.url.searchParams.get('since_seq'), '3');
  assert.equal(ws.url.searchParams.has('token'), false);
  const live = nextState(subscription, 'live');
  ws.serverOpen();
  await live;
  subscription.stop();
  assert.equal(ws.closedByClient.code, 1000);
});

test("authMode 'query' sends ?token= and offers no subprotocol", async () => {
  const { socket } = setup({ authMode: 'query', token: 'tkn' });
  const ws = await socket;
  assert.equal(ws.url.searchParams.get('token'), 'tkn');
  assert.equal(ws.protocols, undefined);
});

test('without sinceSeq the subscription starts from the seq the REST API reports', async () => {
  const { socket, calls } = setup({ sinceSeq: null });
  const ws = await socket;
  assert.equal(calls[0].path, '/api/v1/notifications/unread-count');
  assert.equal(ws.url.searchParams.get('since_seq'), '7');
});

test('changes are delivered once, in seq order; repeats are dropped', async () => {
  const { subscription, socket } = setup({ sinceSeq: 3 });
  const ws = await socket;
  ws.serverOpen();
  const notifications = collect(subscription, 'notification');
  const updates = collect(subscription, 'update');
  const last = nextEvent(subscription, 'update', (u) => u.seq === 6);
  for (const message of [created(3), created(4), created(4), created(5), read(5), read(6)]) ws.serverSend(message);
  await last;
  assert.deepEqual(seqs(notifications), [4, 5]);
  assert.deepEqual(notifications[0], { notification: created(4).data, unreadCount: 4, seq: 4 });
  assert.deepEqual(updates, [{ notificationId: 'n1', updateType: 'read', data: { status: 'READ' }, unreadCount: 0, seq: 6 }]);
  assert.equal(subscription.seq, 6);
});

test('a gap is filled from the changes feed before the change after it and anything later', async () => {
  const { subscription, socket, calls } = setup({
    sinceSeq: 3,
    routes: {
      'GET /api/v1/changes': (url) =>
        url.searchParams.get('after_seq') === '3'
          ? { body: { changes: [created(4)], seq: 8, has_more: true } }
          : { body: { changes: [created(5)], seq: 8, has_more: false } },
    },
  });
  const ws = await socket;
  ws.serverOpen();
  const delivered = collect(subscription, 'notification');
  const done = nextEvent(subscription, 'notification', (n) => n.seq === 7);
  ws.serverSend(created(6));
  ws.serverSend(created(7));
  await done;
  assert.deepEqual(seqs(delivered), [4, 5, 6, 7]);
  assert.deepEqual(calls.filter((c) => c.path === '/api/v1/changes').map((c) => c.query.get('after_seq')), ['3', '4']);
});

test('changes no longer kept (410) make the subscription ask for a reload at the current seq', async () => {
  const { subscription, socket } = setup({
    sinceSeq: 3,
    routes: {
      'GET /api/v1/changes': { status: 410, body: { error: { code: 'resync_required', message: 'gone' } } },
      'GET /api/v1/notifications/unread-count': { body: { unread_count: 2, seq: 9 } },
    },
  });
  const ws = await socket;
  ws.serverOpen();
  const resync = nextEvent(subscription, 'resync');
  const delivered = collect(subscription, 'notification');
  const after = nextEvent(subscription, 'notification');
  ws.serverSend(created(8));
  ws.serverSend(created(10));
  assert.deepEqual(await resync, { seq: 9, unreadCount: 2 });
  await after;
  assert.deepEqual(seqs(delivered), [10], 'changes covered by the reload are not delivered again');
});

test('a resync message resets the resume point and asks for a reload', async () => {
  const { subscription, socket, clock } = setup({ sinceSeq: 50 });
  const ws = await socket;
  ws.serverOpen();
  const resync = nextEvent(subscription, 'resync');
  ws.serverSend({ type: 'resync', seq: 12, unread_count: 4 });
  assert.deepEqual(await resync, { seq: 12, unreadCount: 4 });
  const offline = nextState(subscription, 'offline');
  const next = FakeWebSocket.next();
  ws.serverClose(1001, 'server shutting down');
  await offline;
  clock.advance(500);
  assert.equal((await next).url.searchParams.get('since_seq'), '12');
});

test('a closed socket is reopened after a jittered, growing back-off, resuming after the last applied change', async () => {
  const { subscription, socket, clock } = setup({ sinceSeq: 3 });
  const first = await socket;
  first.serverOpen();
  const applied = nextEvent(subscription, 'notification');
  first.serverSend(created(4));
  await applied;

  const offline = nextState(subscription, 'offline');
  first.serverClose(1001, 'server shutting down');
  const state = await offline;
  assert.equal(state.code, 1001);
  assert.equal(state.retryInMs, 500);

  // The next two upgrades fail (1006 before open); the REST check says the token is fine.
  const waits = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const next = FakeWebSocket.next();
    clock.advance(clock.delays()[0]);
    const ws = await next;
    assert.equal(ws.url.searchParams.get('since_seq'), '4');
    const again = nextState(subscription, 'offline');
    ws.serverClose(1006);
    waits.push((await again).retryInMs);
  }
  assert.deepEqual(waits, [1000, 2000]);

  const next = FakeWebSocket.next();
  clock.advance(2000);
  const ws = await next;
  const live = nextState(subscription, 'live');
  ws.serverOpen();
  await live;
  const offlineAgain = nextState(subscription, 'offline');
  ws.serverClose(1012, 'events may have been missed; resume with since');
  assert.equal((await offlineAgain).retryInMs, 500, 'an open socket resets the back-off');
});

test('jitter comes from the random source', async () => {
  const clock = new FakeClock();
  const { fetch } = routedFetch({});
  const client = new NotificationClient({ baseUrl: BASE, token: 't', fetch, WebSocket: FakeWebSocket, timers: clock.timers, now: clock.now, random: () => 0.5 });
  const socket = FakeWebSocket.next();
  const subscription = client.subscribe({ sinceSeq: 0, visibility: new FakeVisibility() });
  const ws = await socket;
  ws.serverOpen();
  const offline = nextState(subscription, 'offline');
  ws.serverClose(1001);
  assert.equal((await offline).retryInMs, 425);
});

test('a refused upgrade with a rejected token gets a fresh token and reconnects at once', async () => {
  const fresh = jwt(NOW_S + 7200);
  const { subscription, socket } = setup({
    refreshToken: async () => fresh,
    routes: {
      'GET /api/v1/notifications/unread-count': (_u, init) =>
        init.headers.Authorization === `Bearer ${fresh}` ? { body: { unread_count: 0, seq: 3 } } : UNAUTHORIZED,
    },
  });
  const ws = await socket;
  const next = FakeWebSocket.next();
  ws.serverClose(1006);
  const second = await next;
  assert.deepEqual(second.protocols, ['notifications.v1', `bearer.${fresh}`]);
  assert.equal(subscription.state, 'connecting');
});

test('without a fresh token the subscription stops as unauthorized and waits for setToken', async () => {
  const { subscription, socket, client, clock } = setup({ routes: { 'GET /api/v1/notifications/unread-count': UNAUTHORIZED } });
  const ws = await socket;
  const unauthorized = nextState(subscription, 'unauthorized');
  ws.serverClose(1006);
  const state = await unauthorized;
  assert.equal(state.error.status, 401);
  clock.advance(60_000);
  assert.equal(FakeWebSocket.instances.length, 1, 'nothing is retried');
  const next = FakeWebSocket.next();
  client.setToken('another');
  assert.deepEqual((await next).protocols, ['notifications.v1', 'bearer.another']);
});

test('close 1008 token expired with an expired token and no refresh callback ends as unauthorized', async () => {
  const token = jwt(NOW_S + 10);
  const { subscription, socket, clock } = setup({ token, routes: { 'GET /api/v1/notifications/unread-count': UNAUTHORIZED } });
  const ws = await socket;
  ws.serverOpen();
  clock.advance(11_000);
  const unauthorized = nextState(subscription, 'unauthorized');
  ws.serverClose(1008, 'token expired');
  assert.equal((await unauthorized).code, 1008);
});

test('the token is refreshed in-band before it expires, with no reconnect', async () => {
  const first = jwt(NOW_S + 120);
  const second = jwt(NOW_S + 3600);
  let asked = 0;
  const { subscription, socket, clock, client } = setup({ token: first, refreshToken: async () => (asked++, second) });
  const ws = await socket;
  ws.serverOpen();
  assert.deepEqual(clock.delays().at(-1), 90_000, 'refresh 30 s before exp');
  clock.advance(90_000);
  await client.pendingRefresh;
  assert.equal(asked, 1);
  assert.deepEqual(ws.sent, [{ type: 'auth', token: second }]);
  const confirmed = nextEvent(subscription, 'token');
  ws.serverSend({ type: 'auth_ok', expires_at: NOW_S + 3600 });
  assert.deepEqual(await confirmed, { expiresAt: NOW_S + 3600 });
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(subscription.state, 'live');
});

test('a hidden page closes the socket after the grace period and resumes when shown', async () => {
  const visibility = new FakeVisibility();
  const { subscription, socket, clock } = setup({ sinceSeq: 3, visibility });
  const ws = await socket;
  ws.serverOpen();
  visibility.set(true);
  clock.advance(29_000);
  assert.equal(subscription.state, 'live', 'a short glance away keeps the socket');
  clock.advance(1_000);
  assert.equal(subscription.state, 'paused');
  assert.equal(ws.closedByClient.code, 1000);
  ws.serverClose(1000);
  clock.advance(600_000);
  assert.equal(FakeWebSocket.instances.length, 1, 'nothing happens while hidden');
  const next = FakeWebSocket.next();
  visibility.set(false);
  assert.equal((await next).url.searchParams.get('since_seq'), '3');
});

test('a page hidden from the start connects only once shown', async () => {
  const visibility = new FakeVisibility(true);
  const { subscription, socket } = setup({ visibility });
  assert.equal(subscription.state, 'paused');
  assert.equal(FakeWebSocket.instances.length, 0);
  visibility.set(false);
  await socket;
});

test('with a v1 server (no seq) repeats are dropped by id and the resume point is since=<newest id>', async () => {
  const { subscription, socket, clock } = setup({
    sinceSeq: null,
    routes: { 'GET /api/v1/notifications/unread-count': { body: { unread_count: 0 } } },
  });
  const ws = await socket;
  assert.equal(ws.url.search, '');
  ws.serverOpen();
  const delivered = collect(subscription, 'notification');
  const second = nextEvent(subscription, 'notification', (n) => n.notification.notification_id === '0192-b');
  for (const id of ['0192-a', '0192-a', '0192-b']) ws.serverSend({ type: 'notification', data: { notification_id: id }, unread_count: 1 });
  await second;
  assert.equal(delivered.length, 2);
  const reload = nextEvent(subscription, 'resync');
  ws.serverSend({ type: 'error', error: { code: 'unknown_since', message: 'gone' } });
  assert.deepEqual(await reload, { seq: undefined, unreadCount: undefined });
  const next = FakeWebSocket.next();
  ws.serverClose(1001);
  await nextState(subscription, 'offline');
  clock.advance(500);
  assert.equal((await next).url.searchParams.get('since'), '0192-b');
});

test('bad frames and server errors are reported without dropping the socket', async () => {
  const { subscription, socket } = setup();
  const ws = await socket;
  ws.serverOpen();
  const errors = collect(subscription, 'error');
  const second = nextEvent(subscription, 'error', () => errors.length === 2);
  ws.serverSend('not json');
  ws.serverSend({ type: 'error', error: { code: 'invalid_message', message: 'unknown type' } });
  ws.serverSend({ type: 'pong', timestamp: 1 });
  ws.serverSend({ type: 'something_new' });
  await second;
  assert.equal(errors[0].error.name, 'UnexpectedResponseError');
  assert.equal(errors[1].error.name, 'ProtocolError');
  assert.equal(errors[1].error.code, 'invalid_message');
  assert.equal(subscription.state, 'live');
  assert.equal(ws.closedByClient, undefined);
});

test('after stop nothing reconnects', async () => {
  const { subscription, socket, clock } = setup();
  const ws = await socket;
  ws.serverOpen();
  subscription.stop();
  ws.serverClose(1000);
  clock.advance(600_000);
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(subscription.state, 'stopped');
});

test('an upgrade that gets no answer is abandoned and retried', async () => {
  const { subscription, socket, clock } = setup();
  const ws = await socket;
  const offline = nextState(subscription, 'offline');
  clock.advance(10_000);
  assert.equal((await offline).error.name, 'NetworkError');
  assert.equal(ws.closedByClient.code, 1000);
});

test('a failed handshake reported only as an error event is handled like a refused upgrade', async () => {
  const { subscription, socket } = setup();
  const ws = await socket;
  const offline = nextState(subscription, 'offline');
  ws.onerror({});
  assert.equal((await offline).code, 1006);
  ws.serverClose(1006);
  assert.equal(subscription.state, 'offline', 'the close that may follow is not counted twice');
});
