import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboxModel } from '../../public/inbox-model.js';

const n = (id, status = 'UNREAD') => ({ notification_id: id, title: id, message: 'm', type: 'INFO', status, read_at: null, archived_at: null });
const ids = (model) => model.visibleItems().map((x) => x.notification_id);

test('the inbox shows what is not archived, newest first', () => {
  const model = new InboxModel();
  model.replacePage({ items: [n('01b'), n('01a', 'ARCHIVED'), n('01c', 'READ')], nextCursor: 'c' });
  assert.deepEqual(ids(model), ['01c', '01b']);
  assert.equal(model.nextCursor, 'c');
  model.setFilter('ARCHIVED');
  assert.deepEqual(ids(model), ['01a']);
  assert.equal(model.statusQuery(), 'ARCHIVED');
  assert.throws(() => model.setFilter('nope'), RangeError);
});

test('a live arrival is announced once and sorted in', () => {
  const model = new InboxModel();
  const arrivals = [];
  model.subscribe((change) => change.kind === 'arrived' && arrivals.push(change.notification.notification_id));
  model.replacePage({ items: [n('01a')], nextCursor: null });
  assert.equal(model.addNotification(n('01b'), 2), true);
  assert.equal(model.addNotification(n('01b'), 2), false);
  assert.deepEqual(arrivals, ['01b']);
  assert.deepEqual(ids(model), ['01b', '01a']);
  assert.equal(model.unreadCount, 2);
});

test('updates change status, move items out of the filter, and carry the badge', () => {
  const model = new InboxModel();
  model.replacePage({ items: [n('01a'), n('01b'), n('01c')], nextCursor: null });
  model.applyUpdate({ notificationId: '01a', updateType: 'read', data: { status: 'READ', read_at: 't1' }, unreadCount: 2 });
  assert.equal(model.items.get('01a').status, 'READ');
  assert.equal(model.items.get('01a').read_at, 't1');
  assert.equal(model.unreadCount, 2);
  model.applyUpdate({ notificationId: '01b', updateType: 'archive', data: { archived_at: 't2' }, unreadCount: 2 });
  assert.deepEqual(ids(model), ['01c', '01a']);
  model.applyUpdate({ notificationId: '01b', updateType: 'unread', data: {}, unreadCount: 2 });
  assert.deepEqual(ids(model), ['01c', '01b', '01a']);
  model.applyUpdate({ notificationId: '01c', updateType: 'delete', data: {}, unreadCount: 1 });
  assert.deepEqual(ids(model), ['01b', '01a']);
  model.applyUpdate({ notificationId: null, updateType: 'read_all', data: { read_at: 't3', updated: 1 }, unreadCount: 0 });
  assert.deepEqual(model.visibleItems().map((x) => x.status), ['READ', 'READ']);
  assert.equal(model.items.get('01b').read_at, 't3');
  assert.equal(model.unreadCount, 0);
});

test('an update for a notification the page does not show still moves the badge', () => {
  const model = new InboxModel();
  model.applyUpdate({ notificationId: 'elsewhere', updateType: 'read', data: {}, unreadCount: 7 });
  assert.equal(model.items.size, 0);
  assert.equal(model.unreadCount, 7);
  model.setUnreadCount(undefined);
  assert.equal(model.unreadCount, 7, 'a missing count keeps the last one');
});

test('older pages append without duplicates', () => {
  const model = new InboxModel();
  model.replacePage({ items: [n('01c'), n('01b')], nextCursor: 'x' });
  model.appendPage({ items: [n('01b'), n('01a')], nextCursor: null });
  assert.deepEqual(ids(model), ['01c', '01b', '01a']);
  assert.equal(model.nextCursor, null);
});
