import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker } from '../../client/sequence.js';

const change = (seq) => ({ type: 'notification_update', seq, update_type: 'read', notification_id: 'n', data: {} });
const created = (id, seq) => ({ type: 'notification', seq, data: { notification_id: id } });

test('the next seq is applied, older ones are repeats, later ones a gap', () => {
  const tracker = new SequenceTracker(5);
  assert.equal(tracker.classify(change(6)), 'apply');
  assert.equal(tracker.classify(change(5)), 'duplicate');
  assert.equal(tracker.classify(change(2)), 'duplicate');
  assert.equal(tracker.classify(change(8)), 'gap');
  tracker.applied(change(6));
  assert.equal(tracker.seq, 6);
  assert.equal(tracker.classify(change(6)), 'duplicate');
});

test('the resume point is since_seq once a seq is known', () => {
  assert.deepEqual(new SequenceTracker(0).resumeQuery(), { since_seq: '0' });
  assert.deepEqual(new SequenceTracker(undefined).resumeQuery(), {});
  const tracker = new SequenceTracker(undefined);
  tracker.resetTo(12);
  assert.deepEqual(tracker.resumeQuery(), { since_seq: '12' });
});

test('without seq (v1 server) repeats are dropped by id and the resume point is the newest id', () => {
  const tracker = new SequenceTracker(undefined);
  const older = created('0192aaaa-0000-7000-8000-000000000001');
  const newer = created('0192aaaa-0000-7000-8000-000000000002');
  assert.equal(tracker.classify(newer), 'apply');
  tracker.applied(newer);
  tracker.applied(older);
  assert.equal(tracker.classify(newer), 'duplicate');
  assert.deepEqual(tracker.resumeQuery(), { since: newer.data.notification_id });
});

test('invalid starting points are ignored', () => {
  assert.equal(new SequenceTracker(-1).seq, undefined);
  assert.equal(new SequenceTracker(1.5).seq, undefined);
});
