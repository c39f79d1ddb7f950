// The subscription against the real server binary, with Node's WebSocket
// (run with --experimental-websocket on Node 20: it behaves like a browser's,
// a refused upgrade is a close 1006).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NotificationClient } from '../../client/notifications.js';
import { TestServer } from '../support/server.js';
import { nextEvent, nextState } from '../support/fakes.js';

const server = new TestServer();
before(() => {
  assert.equal(typeof WebSocket, 'function', 'run with node --experimental-websocket (Node 20) or Node 22+');
  return server.start();
});
after(() => server.dispose());

const fastBackoff = { initialMs: 50, maxMs: 200 };

function subscribe(userId, options = {}) {
  const client = new NotificationClient({ baseUrl: server.baseUrl, token: server.token(userId) });
  return client.subscribe({ backoff: fastBackoff, ...options });
}

test('live notifications and updates arrive with the unread count; a restart loses nothing', async () => {
  const userId = randomUUID();
  const subscription = subscribe(userId, { authMode: 'query' });
  try {
    await nextState(subscription, 'live');
    const arrived = nextEvent(subscription, 'notification');
    const first = await server.publish(userId, { title: 'first' });
    const { notification, unreadCount } = await arrived;
    assert.equal(notification.notification_id, first.notification_id);
    assert.equal(unreadCount, 1);

    const updated = nextEvent(subscription, 'update');
    await new NotificationClient({ baseUrl: server.baseUrl, token: server.token(userId) }).markRead(first.notification_id);
    const update = await updated;
    assert.equal(update.updateType, 'read');
    assert.equal(update.notificationId, first.notification_id);
    assert.equal(update.unreadCount, 0);

    // The server goes away (1001) and comes back on the same port with the same database.
    const offline = nextState(subscription, 'offline');
    await server.stop();
    assert.equal((await offline).code, 1001);
    await server.start();
    // Listen before publishing: the push may be handled before the publish's reply.
    const caughtUp = nextEvent(subscription, 'notification');
    const whileAway = await server.publish(userId, { title: 'while away' });
    const resumed = await caughtUp;
    assert.equal(resumed.notification.notification_id, whileAway.notification_id);
  } finally {
    subscription.stop();
  }
});

test('a token the server refuses stops the subscription as unauthorized', async () => {
  const client = new NotificationClient({ baseUrl: server.baseUrl, token: 'not-a-jwt' });
  const subscription = client.subscribe({ authMode: 'query', sinceSeq: 0, backoff: fastBackoff });
  try {
    const state = await nextState(subscription, 'unauthorized');
    assert.equal(state.error.status, 401);
  } finally {
    subscription.stop();
  }
});

test('the token in the bearer subprotocol authenticates (contract §8)', async () => {
  const userId = randomUUID();
  const subscription = subscribe(userId, { sinceSeq: 0 });
  try {
    const state = await nextEvent(subscription, 'state', (s) => s.state === 'live' || s.state === 'offline' || s.state === 'unauthorized');
    assert.equal(state.state, 'live');
  } finally {
    subscription.stop();
  }
});

test('since_seq resumes exactly after the last applied change (contract §7)', async () => {
  const userId = randomUUID();
  await server.publish(userId, { title: 'before' });
  const subscription = subscribe(userId, { authMode: 'query', sinceSeq: 0 });
  try {
    const first = nextEvent(subscription, 'notification');
    await nextState(subscription, 'live');
    // Something live too, so that a server without since_seq answers as well (with the wrong one).
    await server.publish(userId, { title: 'after' });
    const replayed = await first;
    assert.equal(replayed.notification.title, 'before');
    assert.equal(replayed.seq, 1);
  } finally {
    subscription.stop();
  }
});

test('a since_seq beyond what the server keeps asks the application to reload (resync)', async () => {
  const userId = randomUUID();
  await server.publish(userId, { title: 'only one' });
  const subscription = subscribe(userId, { authMode: 'query', sinceSeq: 40 });
  try {
    const resync = await nextEvent(subscription, 'resync');
    assert.deepEqual(resync, { seq: 1, unreadCount: 1 });
    assert.equal(subscription.seq, 1);
    const next = nextEvent(subscription, 'notification');
    await server.publish(userId, { title: 'after the reload' });
    assert.equal((await next).seq, 2);
  } finally {
    subscription.stop();
  }
});

/** A WebSocket that loses the change messages whose seq is in `lost` (as a broken proxy would). */
function lossyWebSocket(lost) {
  return class extends WebSocket {
    set onmessage(handler) {
      super.onmessage = (event) => {
        const seq = JSON.parse(event.data).seq;
        if (!lost.has(seq)) handler(event);
      };
    }
  };
}

test('a gap in what the socket carries is filled from the changes feed, in order', async () => {
  const userId = randomUUID();
  const subscription = subscribe(userId, { authMode: 'query', sinceSeq: 0, WebSocket: lossyWebSocket(new Set([2, 3])) });
  try {
    const seqs = [];
    const titles = [];
    subscription.on('notification', ({ notification, seq }) => {
      seqs.push(seq);
      titles.push(notification.title);
    });
    await nextState(subscription, 'live');
    // Listen before publishing: the last push may be handled before the last publish's reply.
    const fourth = nextEvent(subscription, 'notification', ({ seq }) => seq === 4);
    for (const title of ['one', 'two (lost)', 'three (lost)', 'four']) {
      await server.publish(userId, { title });
    }
    await fourth;
    assert.deepEqual(seqs, [1, 2, 3, 4]);
    assert.deepEqual(titles, ['one', 'two (lost)', 'three (lost)', 'four']);
  } finally {
    subscription.stop();
  }
});
