/**
 * One real-time subscription to a user's inbox over `/ws/notifications`.
 *
 * It keeps one socket open and hands the application every change once and in
 * `seq` order:
 * - authenticates through the `bearer.<jwt>` subprotocol (contract §8), or
 *   `?token=` when `authMode: 'query'` is asked for;
 * - resumes every connection with `?since_seq=<last applied seq>` (contract
 *   §7); a gap is filled from the changes feed before anything after it, and a
 *   `resync` (or a 410 from the feed) tells the application to reload;
 * - reconnects with capped exponential back-off and jitter;
 * - refreshes the token in-band (`{"type":"auth"}`) before `exp`;
 * - after a refused upgrade (which a browser only sees as close 1006) or a
 *   close 1008 it asks the REST API whether the token is still good, and stops
 *   as `unauthorized` when it is not and no fresh one can be had;
 * - closes its socket while the page stays hidden and resumes when shown.
 *
 * Events (an EventTarget; `on()` is a shortcut): `state`, `notification`,
 * `update`, `resync`, `token`, `error`. See notifications.d.ts.
 * @module subscription
 */

import { Backoff } from './backoff.js';
import { isUnauthorized, ApiError, NetworkError, ProtocolError, UnexpectedResponseError } from './errors.js';
import { SequenceTracker } from './sequence.js';
import { isExpired, refreshDelay } from './token.js';
import { defaultVisibility, watchVisibility } from './visibility.js';

/** The subprotocol the server selects (contract §8). */
export const SUBPROTOCOL = 'notifications.v1';

const DEFAULTS = Object.freeze({
  authMode: 'subprotocol',
  pauseWhenHidden: true,
  hiddenGraceMs: 30_000,
  connectTimeoutMs: 10_000,
  changesPageSize: 500,
});

/** Close codes after which the token is the suspect (contract §5: 1008 token expired, subject mismatch). */
const POLICY_VIOLATION = 1008;

export class Subscription extends EventTarget {
  /**
   * @param {import('./notifications.js').NotificationClient} client REST calls and the token
   * @param {object} options see notifications.d.ts (`SubscribeOptions`)
   */
  constructor(client, options = {}) {
    super();
    this.client = client;
    // An option given as undefined (e.g. passed through from the client) keeps its default.
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    this.options = { ...DEFAULTS, ...Object.fromEntries(given) };
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocketImpl !== 'function') {
      throw new TypeError('subscribe: no WebSocket available; pass options.WebSocket');
    }
    if (this.options.authMode !== 'subprotocol' && this.options.authMode !== 'query') {
      throw new TypeError(`subscribe: authMode must be 'subprotocol' or 'query'`);
    }
    this.timers = options.timers ?? { setTimeout: globalThis.setTimeout.bind(globalThis), clearTimeout: globalThis.clearTimeout.bind(globalThis) };
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff(options.backoff, options.random ?? Math.random);
    this.tracker = new SequenceTracker(options.sinceSeq);
    this.visibility = options.visibility ?? defaultVisibility();
    /** @type {'connecting' | 'live' | 'offline' | 'paused' | 'unauthorized' | 'stopped' | 'idle'} */
    this.state = 'idle';
    this.socket = null;
    this.socketToken = undefined;
    /** Set once the starting point was read over REST (subscriptions without `sinceSeq`). */
    this.startedFrom = false;
    this.timer = { retry: null, connect: null, refresh: null, hidden: null };
    // Messages are handled one at a time, in arrival order, even when one
    // needs an await (filling a gap from the changes feed).
    this.queue = Promise.resolve();
    this.stopVisibility = () => {};
  }

  /** Starts connecting (the client's `subscribe()` calls it). */
  start() {
    if (this.state !== 'idle') return;
    this.stopVisibility = watchVisibility(this.visibility, (hidden) => this.visibilityChanged(hidden));
    if (this.options.pauseWhenHidden && this.visibility.hidden) {
      this.setState('paused');
      return;
    }
    this.connect();
  }

  /** Closes the socket for good. */
  stop() {
    if (this.state === 'stopped') return;
    this.stopVisibility();
    this.clearTimers();
    this.closeSocket(1000, 'client stopped');
    this.setState('stopped');
  }

  /** The last applied `seq` (undefined before the first, or with a v1 server). */
  get seq() {
    return this.tracker.seq;
  }

  /**
   * Adds a listener for `type` that receives the event's `detail`.
   * @returns {() => void} removes it
   */
  on(type, listener) {
    const wrapped = (event) => listener(event.detail);
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  /** The client's token changed: send it in-band, or connect again after `unauthorized`. */
  tokenChanged() {
    const token = this.client.token;
    if (this.state === 'unauthorized') {
      this.backoff.reset();
      this.connect();
    } else if (this.state === 'live' && token !== this.socketToken) {
      this.sendAuth(token);
    }
  }

  async connect() {
    if (this.state === 'stopped') return;
    this.clearTimers();
    this.setState('connecting');
    let token = this.client.token;
    if (!token || isExpired(token, this.now())) {
      token = await this.client.refresh();
      if (this.state !== 'connecting') return;
      if (!token) {
        this.setState('unauthorized', { error: new ApiError(401, 'unauthorized', 'no valid token') });
        return;
      }
    }
    if (this.tracker.seq === undefined && this.tracker.newestId === undefined && !this.startedFrom) {
      // "From now": read where the user's sequence stands before the socket opens,
      // so nothing made in between is missed.
      try {
        const { seq } = await this.client.unreadCount();
        this.tracker.resetTo(seq);
        this.startedFrom = true;
      } catch (error) {
        if (this.state === 'connecting') this.failedBeforeOpen(error);
        return;
      }
      if (this.state !== 'connecting') return;
      token = this.client.token;
    }
    this.open(token);
  }

  open(token) {
    const query = { ...this.tracker.resumeQuery() };
    if (this.options.authMode === 'query') query.token = token;
    const url = new URL(this.client.baseUrl.replace(/^http/, 'ws') + '/ws/notifications');
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    // In query mode no subprotocol is offered, so servers without §8 accept the socket too.
    const protocols = this.options.authMode === 'subprotocol' ? [SUBPROTOCOL, `bearer.${token}`] : undefined;
    let socket;
    try {
      socket = new this.WebSocketImpl(url.toString(), protocols);
    } catch (error) {
      this.scheduleRetry({ error: new NetworkError(`cannot open socket: ${error?.message ?? error}`) });
      return;
    }
    this.socket = socket;
    this.socketToken = token;
    let opened = false;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      opened = true;
      this.timers.clearTimeout(this.timer.connect);
      this.backoff.reset();
      this.setState('live');
      this.scheduleRefresh(token);
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.queue = this.queue.then(() => this.handle(socket, event.data));
    };
    socket.onerror = () => {
      // After an open, the close event that follows carries the code. Before it,
      // a failed handshake is all there is to know, and some implementations
      // (Node 20's undici) fire no close event after it.
      if (socket !== this.socket || opened) return;
      this.queue = this.queue.then(() => this.closed(socket, 1006, '', false));
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      // Let the messages that arrived before the close be handled first.
      this.queue = this.queue.then(() => this.closed(socket, event.code, event.reason, opened));
    };
    this.timer.connect = this.timers.setTimeout(() => {
      if (socket !== this.socket || opened) return;
      this.dropSocket();
      this.scheduleRetry({ error: new NetworkError('no answer to the upgrade in time') });
    }, this.options.connectTimeoutMs);
  }

  async handle(socket, raw) {
    if (socket !== this.socket) return;
    let message;
    try {
      message = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      this.emit('error', { error: new UnexpectedResponseError(0, `not JSON: ${String(raw)}`) });
      return;
    }
    switch (message?.type) {
      case 'notification':
      case 'notification_update':
        await this.applyChange(socket, message);
        break;
      case 'resync':
        this.tracker.resetTo(message.seq);
        this.emit('resync', { seq: message.seq, unreadCount: message.unread_count });
        break;
      case 'auth_ok':
        this.emit('token', { expiresAt: message.expires_at });
        this.scheduleRefresh(this.socketToken);
        break;
      case 'error':
        this.serverError(message.error ?? {});
        break;
      default:
        // pong, and message types newer than this client: nothing to do.
        break;
    }
  }

  async applyChange(socket, message) {
    const verdict = this.tracker.classify(message);
    if (verdict === 'duplicate') return;
    if (verdict === 'gap') {
      const healed = await this.fillGap(message.seq - 1);
      if (!healed || socket !== this.socket) return;
      if (this.tracker.classify(message) !== 'apply') return;
    }
    this.deliver(message);
  }

  /** Emits one change and records it as applied. */
  deliver(message) {
    this.tracker.applied(message);
    if (message.type === 'notification') {
      this.emit('notification', { notification: message.data, unreadCount: message.unread_count, seq: message.seq });
    } else {
      this.emit('update', {
        notificationId: message.notification_id,
        updateType: message.update_type,
        data: message.data ?? {},
        unreadCount: message.unread_count,
        seq: message.seq,
      });
    }
  }

  /**
   * Reads the changes after the last applied one up to `untilSeq` from the feed
   * and delivers them. On 410 the application is told to reload (`resync`).
   * @returns {Promise<boolean>} false when the socket was given up instead
   */
  async fillGap(untilSeq) {
    try {
      while (this.tracker.seq < untilSeq) {
        const page = await this.client.changes({ afterSeq: this.tracker.seq, limit: this.options.changesPageSize });
        for (const change of page.changes) {
          if (this.tracker.classify(change) === 'apply') this.deliver(change);
        }
        if (!page.hasMore || page.changes.length === 0) break;
      }
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'resync_required') {
        return this.resyncOverRest();
      }
      this.dropSocket();
      this.scheduleRetry({ error });
      return false;
    }
  }

  async resyncOverRest() {
    try {
      const { seq, unreadCount } = await this.client.unreadCount();
      this.tracker.resetTo(seq);
      this.emit('resync', { seq, unreadCount });
      return true;
    } catch (error) {
      this.dropSocket();
      this.scheduleRetry({ error });
      return false;
    }
  }

  serverError({ code, message }) {
    if (code === 'unknown_since') {
      // v1 resume point lost (deleted, or no longer logged): the application reloads.
      this.emit('resync', { seq: undefined, unreadCount: undefined });
      return;
    }
    this.emit('error', { error: new ProtocolError(String(code), String(message)) });
  }

  async closed(socket, code, reason, opened) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    if (this.state === 'stopped' || this.state === 'paused') return;
    if (!opened || code === POLICY_VIOLATION) {
      // A refused upgrade looks like close 1006 in a browser: ask REST whether it was the token.
      await this.checkToken({ code, reason });
    } else {
      this.scheduleRetry({ code, reason });
    }
  }

  /** After a failed upgrade or a 1008: reconnect at once with a fresh token, back off, or stop. */
  async checkToken(closeInfo) {
    const tokenBefore = this.socketToken;
    try {
      await this.client.unreadCount(); // refreshes the token through the callback on a 401
    } catch (error) {
      if (this.state !== 'stopped' && this.state !== 'paused') this.failedBeforeOpen(error, closeInfo);
      return;
    }
    if (this.state === 'stopped' || this.state === 'paused') return;
    if (this.client.token !== tokenBefore) {
      this.connect();
    } else if (closeInfo.code === POLICY_VIOLATION && isExpired(tokenBefore, this.now())) {
      this.setState('unauthorized', { ...closeInfo, error: new ApiError(401, 'unauthorized', 'token expired') });
    } else {
      this.scheduleRetry(closeInfo);
    }
  }

  failedBeforeOpen(error, closeInfo = {}) {
    if (isUnauthorized(error)) {
      this.setState('unauthorized', { ...closeInfo, error });
    } else {
      this.scheduleRetry({ ...closeInfo, error });
    }
  }

  scheduleRetry(info) {
    if (this.state === 'stopped' || this.state === 'paused') return;
    this.clearTimers();
    const retryInMs = this.backoff.next();
    this.setState('offline', { ...info, retryInMs });
    this.timer.retry = this.timers.setTimeout(() => this.connect(), retryInMs);
  }

  scheduleRefresh(token) {
    this.timers.clearTimeout(this.timer.refresh);
    if (typeof this.client.refreshCallback !== 'function') return;
    const delay = refreshDelay(token, this.now());
    if (delay === undefined) return;
    this.timer.refresh = this.timers.setTimeout(async () => {
      const fresh = await this.client.refresh();
      // setToken (through refresh) already sent it in-band when it changed.
      if (!fresh && this.state === 'live') this.emit('error', { error: new ApiError(401, 'unauthorized', 'token refresh failed') });
    }, delay);
  }

  sendAuth(token) {
    this.socketToken = token;
    try {
      this.socket?.send(JSON.stringify({ type: 'auth', token }));
    } catch {
      // The socket is closing; the next connection uses the new token.
    }
  }

  visibilityChanged(hidden) {
    if (!this.options.pauseWhenHidden || this.state === 'stopped') return;
    this.timers.clearTimeout(this.timer.hidden);
    if (hidden) {
      this.timer.hidden = this.timers.setTimeout(() => this.pause(), this.options.hiddenGraceMs);
    } else if (this.state === 'paused' || this.state === 'offline') {
      this.backoff.reset();
      this.connect();
    }
  }

  pause() {
    if (this.state === 'stopped' || this.state === 'unauthorized') return;
    this.clearTimers();
    this.closeSocket(1000, 'page hidden');
    this.setState('paused');
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  dropSocket() {
    this.closeSocket(1000, 'client reconnecting');
  }

  closeSocket(code, reason) {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    try {
      socket.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  clearTimers() {
    for (const key of Object.keys(this.timer)) {
      if (key === 'hidden') continue;
      this.timers.clearTimeout(this.timer[key]);
      this.timer[key] = null;
    }
  }

  setState(state, detail = {}) {
    const previous = this.state;
    this.state = state;
    this.emit('state', { ...detail, state, previous });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
