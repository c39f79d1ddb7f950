import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isExpired, refreshDelay, tokenExpiry } from '../../client/token.js';
import { jwt } from '../support/fakes.js';

const NOW = 1_800_000_000_000;

test('exp is read from the payload', () => {
  assert.equal(tokenExpiry(jwt(1_800_000_060)), 1_800_000_060);
});

test('a token that is not a readable JWT has no expiry', () => {
  assert.equal(tokenExpiry('opaque'), undefined);
  assert.equal(tokenExpiry('a.!!!.c'), undefined);
  assert.equal(tokenExpiry(`a.${Buffer.from('{"sub":"x"}').toString('base64url')}.c`), undefined);
  assert.equal(isExpired('opaque', NOW), false);
});

test('expiry compares exp with the clock', () => {
  assert.equal(isExpired(jwt(NOW / 1000 - 1), NOW), true);
  assert.equal(isExpired(jwt(NOW / 1000 + 1), NOW), false);
});

test('a long-lived token is refreshed 30 s before exp', () => {
  assert.equal(refreshDelay(jwt(NOW / 1000 + 3600), NOW), 3570_000);
});

test('a short-lived token is refreshed half-way, never sooner than a second', () => {
  assert.equal(refreshDelay(jwt(NOW / 1000 + 60), NOW), 30_000);
  assert.equal(refreshDelay(jwt(NOW / 1000 + 1), NOW), 1_000);
  assert.equal(refreshDelay(jwt(NOW / 1000 - 100), NOW), 1_000);
  assert.equal(refreshDelay('opaque', NOW), undefined);
});
