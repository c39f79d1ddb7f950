/**
 * What the client needs to know about a JWT without verifying it: its expiry.
 *
 * The client has no key, so it only reads the payload's `exp` to decide when
 * to ask the application for a fresh token; the server does the checking.
 * @module token
 */

/** Refresh this long before `exp` (tokens that live under two minutes: half-way). */
export const REFRESH_MARGIN_MS = 30_000;
/** Never schedule a refresh sooner than this, so a bad clock cannot spin. */
export const MIN_REFRESH_DELAY_MS = 1_000;

/**
 * @param {string} token a JWT
 * @returns {number | undefined} its `exp` in unix seconds, when readable
 */
export function tokenExpiry(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const payload = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
    return Number.isFinite(payload?.exp) ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {string} token
 * @param {number} nowMs the current time (ms since the epoch)
 * @returns {boolean} true when the token's `exp` has passed
 */
export function isExpired(token, nowMs) {
  const exp = tokenExpiry(token);
  return exp !== undefined && exp * 1000 <= nowMs;
}

/**
 * How long to wait before refreshing `token`.
 * @param {string} token
 * @param {number} nowMs
 * @returns {number | undefined} milliseconds, or undefined when the token has no readable `exp`
 */
export function refreshDelay(token, nowMs) {
  const exp = tokenExpiry(token);
  if (exp === undefined) return undefined;
  const remaining = exp * 1000 - nowMs;
  const margin = remaining < 4 * REFRESH_MARGIN_MS ? remaining / 2 : REFRESH_MARGIN_MS;
  return Math.max(MIN_REFRESH_DELAY_MS, Math.round(remaining - margin));
}
