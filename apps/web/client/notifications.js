/**
 * The notification service's JavaScript client: REST calls and a real-time
 * subscription for one user's inbox. A plain ES module with no dependencies;
 * import it straight from the server (`/client/notifications.js`) or copy the
 * `client/` folder into an application.
 *
 * ```js
 * import { NotificationClient } from '/client/notifications.js';
 * const client = new NotificationClient({ token, refreshToken: () => fetchNewToken() });
 * const page = await client.list({ limit: 20 });
 * const subscription = client.subscribe({ sinceSeq: page.seq });
 * subscription.on('notification', ({ notification, unreadCount }) => show(notification, unreadCount));
 * ```
 *
 * Modules: `subscription.js` (the socket: reconnect, resume, order),
 * `sequence.js` (the change sequence), `backoff.js`, `token.js` (expiry),
 * `visibility.js` (pause while hidden), `errors.js` (typed errors).
 * @module notifications
 */

import { errorFromResponse, isUnauthorized, NetworkError, UnexpectedResponseError } from './errors.js';
import { Subscription } from './subscription.js';

export * from './errors.js';
export { Backoff, DEFAULT_BACKOFF } from './backoff.js';
export { SequenceTracker } from './sequence.js';
export { Subscription, SUBPROTOCOL } from './subscription.js';
export { tokenExpiry } from './token.js';

const API = '/api/v1';

export class NotificationClient {
  /**
   * @param {object} options see notifications.d.ts (`ClientOptions`)
   */
  constructor(options = {}) {
    const baseUrl = options.baseUrl ?? globalThis.location?.origin;
    if (!baseUrl) throw new TypeError('NotificationClient: baseUrl is required outside a browser page');
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.currentToken = options.token;
    this.refreshCallback = options.refreshToken;
    this.fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (typeof this.fetchImpl !== 'function') throw new TypeError('NotificationClient: no fetch available');
    /** Passed to every subscription unless it overrides them. */
    this.subscriptionDefaults = {
      WebSocket: options.WebSocket,
      authMode: options.authMode,
      timers: options.timers,
      now: options.now,
      random: options.random,
    };
    this.subscriptions = new Set();
    this.pendingRefresh = undefined;
  }

  /** @returns {string | undefined} the token in use */
  get token() {
    return this.currentToken;
  }

  /**
   * Replaces the token: later REST calls use it, open subscriptions send it
   * in-band, and one that stopped as `unauthorized` connects again.
   * @param {string} token
   */
  setToken(token) {
    this.currentToken = token;
    for (const subscription of this.subscriptions) subscription.tokenChanged();
  }

  /**
   * Asks the application's `refreshToken` callback for a fresh token (one call
   * at a time: concurrent callers share it).
   * @returns {Promise<string | undefined>} the new token, or undefined when there is none
   */
  refresh() {
    if (typeof this.refreshCallback !== 'function') return Promise.resolve(undefined);
    this.pendingRefresh ??= (async () => {
      try {
        const token = await this.refreshCallback();
        if (typeof token !== 'string' || token === '') return undefined;
        this.setToken(token);
        return token;
      } catch {
        return undefined;
      } finally {
        this.pendingRefresh = undefined;
      }
    })();
    return this.pendingRefresh;
  }

  /**
   * One page of the inbox, newest first.
   * @param {{status?: string, limit?: number, cursor?: string}} [params]
   */
  async list(params = {}) {
    const body = await this.request('GET', '/notifications', { query: params });
    return { items: body.items, nextCursor: body.next_cursor ?? null, seq: body.seq };
  }

  /** @param {string} id */
  get(id) {
    return this.request('GET', `/notifications/${encodeURIComponent(id)}`);
  }

  async unreadCount() {
    const body = await this.request('GET', '/notifications/unread-count');
    return { unreadCount: body.unread_count, seq: body.seq };
  }

  /** @param {string} id */
  markRead(id) {
    return this.request('POST', `/notifications/${encodeURIComponent(id)}/read`);
  }

  /** @param {string} id */
  markUnread(id) {
    return this.request('POST', `/notifications/${encodeURIComponent(id)}/unread`);
  }

  /** @param {string} id */
  archive(id) {
    return this.request('POST', `/notifications/${encodeURIComponent(id)}/archive`);
  }

  /** @param {string} id */
  async delete(id) {
    await this.request('DELETE', `/notifications/${encodeURIComponent(id)}`);
  }

  /** @returns {Promise<number>} how many notifications were marked read */
  async readAll() {
    const body = await this.request('POST', '/notifications/read-all');
    return body.updated;
  }

  /**
   * The changes feed (contract §7): the messages a socket would have carried after `afterSeq`.
   * @param {{afterSeq: number, limit?: number}} params
   */
  async changes({ afterSeq, limit }) {
    const body = await this.request('GET', '/changes', { query: { after_seq: afterSeq, limit } });
    return { changes: body.changes, seq: body.seq, hasMore: body.has_more };
  }

  /**
   * Opens a real-time subscription (see subscription.js).
   * @param {object} [options] see notifications.d.ts (`SubscribeOptions`)
   * @returns {Subscription}
   */
  subscribe(options = {}) {
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    const subscription = new Subscription(this, { ...this.subscriptionDefaults, ...Object.fromEntries(given) });
    this.subscriptions.add(subscription);
    subscription.addEventListener('state', (event) => {
      if (event.detail.state === 'stopped') this.subscriptions.delete(subscription);
    });
    subscription.start();
    return subscription;
  }

  /**
   * An authenticated JSON call under `/api/v1`. On a 401 the token is refreshed
   * once through the callback and the call repeated once.
   * @returns {Promise<any>} the parsed body (undefined for 204)
   */
  async request(method, path, { query } = {}) {
    const url = new URL(`${this.baseUrl}${API}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const tokenUsed = this.currentToken;
    try {
      return await this.send(method, url, tokenUsed);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      // Another call may have refreshed meanwhile; otherwise ask for a new token.
      const fresh = this.currentToken !== tokenUsed ? this.currentToken : await this.refresh();
      if (!fresh || fresh === tokenUsed) throw error;
      return this.send(method, url, fresh);
    }
  }

  async send(method, url, token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await this.fetchImpl(url.toString(), { method, headers });
    } catch (cause) {
      throw new NetworkError(`${method} ${url.pathname}: ${cause?.message ?? cause}`, { cause });
    }
    if (response.status === 204) return undefined;
    let text;
    try {
      text = await response.text();
    } catch (cause) {
      throw new NetworkError(`${method} ${url.pathname}: body lost: ${cause?.message ?? cause}`, { cause });
    }
    if (!response.ok) throw errorFromResponse(response.status, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new UnexpectedResponseError(response.status, text);
    }
  }
}

