import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../client/backoff.js';

test('waits grow exponentially up to the cap', () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => backoff.next()), [100, 200, 400, 800, 1000, 1000]);
});

test('jitter shortens each wait by up to its fraction', () => {
  assert.equal(new Backoff({ initialMs: 1000, jitter: 0.3 }, () => 0).next(), 1000);
  assert.equal(new Backoff({ initialMs: 1000, jitter: 0.3 }, () => 0.5).next(), 850);
  assert.equal(new Backoff({ initialMs: 1000, jitter: 0.3 }, () => 0.9999).next(), 700);
});

test('reset starts again from the first wait', () => {
  const backoff = new Backoff({ initialMs: 100, jitter: 0 });
  backoff.next();
  backoff.next();
  backoff.reset();
  assert.equal(backoff.next(), 100);
});

test('nonsensical settings are refused', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
  assert.throws(() => new Backoff({ multiplier: 0.5 }), RangeError);
});
