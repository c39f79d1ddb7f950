/**
 * Capped exponential back-off with jitter, for reconnecting.
 *
 * Each wait is `initial * multiplier^attempt`, capped at `max`, then shortened
 * by up to `jitter` (a fraction) at random so that the clients a server restart
 * dropped do not all come back in the same instant.
 * @module backoff
 */

export const DEFAULT_BACKOFF = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 0.3,
});

export class Backoff {
  /**
   * @param {Partial<typeof DEFAULT_BACKOFF>} [options]
   * @param {() => number} [random] a source in [0, 1); tests pass a fixed one
   */
  constructor(options = {}, random = Math.random) {
    const settings = { ...DEFAULT_BACKOFF, ...options };
    if (!(settings.initialMs > 0) || !(settings.maxMs >= settings.initialMs)) {
      throw new RangeError('backoff: need 0 < initialMs <= maxMs');
    }
    if (!(settings.multiplier >= 1) || !(settings.jitter >= 0 && settings.jitter <= 1)) {
      throw new RangeError('backoff: need multiplier >= 1 and 0 <= jitter <= 1');
    }
    this.settings = settings;
    this.random = random;
    this.attempt = 0;
  }

  /** @returns {number} the next wait in milliseconds; each call counts one attempt */
  next() {
    const { initialMs, maxMs, multiplier, jitter } = this.settings;
    const base = Math.min(maxMs, initialMs * multiplier ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (1 - jitter * this.random()));
  }

  /** Starts again from `initialMs` (after a connection was established). */
  reset() {
    this.attempt = 0;
  }
}
