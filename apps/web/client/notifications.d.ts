// Type declarations for the notification service's JavaScript client
// (notifications.js and the modules it re-exports). Wire objects keep the
// server's snake_case names; the client's own values are camelCase.

export type NotificationType = 'INFO' | 'SUCCESS' | 'WARNING' | 'ERROR';
export type NotificationStatus = 'UNREAD' | 'READ' | 'ARCHIVED';
export type UpdateType = 'read' | 'unread' | 'archive' | 'delete' | 'read_all';

/** The resource of contract §3, as REST returns it and a `notification` message carries it. */
export interface Notification {
  notification_id: string;
  user_id: string;
  title: string;
  message: string;
  type: NotificationType;
  status: NotificationStatus;
  metadata: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
  archived_at: string | null;
}

/** A change message of the socket and of the changes feed (contract §5, §7). */
export type ChangeMessage =
  | { type: 'notification'; data: Notification; unread_count: number; seq: number }
  | {
      type: 'notification_update';
      notification_id: string | null;
      update_type: UpdateType;
      data: Partial<Pick<Notification, 'status' | 'read_at' | 'archived_at'>> & { updated?: number };
      unread_count: number;
      seq: number;
    };

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface VisibilitySource {
  readonly hidden: boolean;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export interface BackoffOptions {
  /** First wait, ms (default 500). */
  initialMs?: number;
  /** Longest wait, ms (default 30 000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  multiplier?: number;
  /** Each wait is shortened by up to this fraction at random (default 0.3). */
  jitter?: number;
}

export type AuthMode = 'subprotocol' | 'query';

export interface ClientOptions {
  /** Origin of the service, e.g. `https://notify.example.com`; default: the page's origin. */
  baseUrl?: string;
  /** The user's JWT. */
  token?: string;
  /** Called for a fresh token before `exp` and after a 401; resolve to undefined when there is none. */
  refreshToken?: () => Promise<string | undefined> | string | undefined;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default: the global `WebSocket` (Node 20: pass one, or run with `--experimental-websocket`). */
  WebSocket?: typeof WebSocket;
  /** How subscriptions send the token (default `'subprotocol'`: `bearer.<jwt>`, never in the URL). */
  authMode?: AuthMode;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

export interface SubscribeOptions {
  /** Resume after this `seq` (e.g. the `seq` of the list the page shows). Default: from now. */
  sinceSeq?: number;
  authMode?: AuthMode;
  /** Close the socket while the page is hidden (default true), after `hiddenGraceMs` (default 30 000). */
  pauseWhenHidden?: boolean;
  hiddenGraceMs?: number;
  /** Give up on an upgrade that got no answer after this long (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Page size when filling a gap from the changes feed (default 500). */
  changesPageSize?: number;
  backoff?: BackoffOptions;
  visibility?: VisibilitySource;
  WebSocket?: typeof WebSocket;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'offline' | 'paused' | 'unauthorized' | 'stopped';

export interface StateDetail {
  state: ConnectionState;
  previous: ConnectionState;
  /** `offline`: when the next attempt starts. */
  retryInMs?: number;
  /** Close code and reason of the socket that ended, when there was one. */
  code?: number;
  reason?: string;
  error?: NotificationError;
}

export interface NotificationDetail {
  notification: Notification;
  unreadCount: number;
  seq?: number;
}

export interface UpdateDetail {
  notificationId: string | null;
  updateType: UpdateType;
  data: Partial<Pick<Notification, 'status' | 'read_at' | 'archived_at'>> & { updated?: number };
  unreadCount: number;
  seq?: number;
}

/** Reload the inbox over REST; changes after `seq` follow. Both are undefined with a v1 server. */
export interface ResyncDetail {
  seq?: number;
  unreadCount?: number;
}

export interface SubscriptionEvents {
  state: StateDetail;
  notification: NotificationDetail;
  update: UpdateDetail;
  resync: ResyncDetail;
  token: { expiresAt: number };
  error: { error: NotificationError };
}

export declare const SUBPROTOCOL: 'notifications.v1';

export declare class Subscription extends EventTarget {
  readonly state: ConnectionState;
  /** The last applied `seq`; undefined before the first, or with a v1 server. */
  readonly seq: number | undefined;
  on<K extends keyof SubscriptionEvents>(type: K, listener: (detail: SubscriptionEvents[K]) => void): () => void;
  stop(): void;
}

export interface Page {
  items: Notification[];
  nextCursor: string | null;
  /** Contract §7: the user's latest `seq`, read with `items` (undefined with a v1 server). */
  seq?: number;
}

export declare class NotificationClient {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  readonly token: string | undefined;
  setToken(token: string): void;
  refresh(): Promise<string | undefined>;
  list(params?: { status?: NotificationStatus; limit?: number; cursor?: string }): Promise<Page>;
  get(id: string): Promise<Notification>;
  unreadCount(): Promise<{ unreadCount: number; seq?: number }>;
  markRead(id: string): Promise<Notification>;
  markUnread(id: string): Promise<Notification>;
  archive(id: string): Promise<Notification>;
  delete(id: string): Promise<void>;
  readAll(): Promise<number>;
  changes(params: { afterSeq: number; limit?: number }): Promise<{ changes: ChangeMessage[]; seq: number; hasMore: boolean }>;
  subscribe(options?: SubscribeOptions): Subscription;
}

export declare class NotificationError extends Error {}
export declare class ApiError extends NotificationError {
  constructor(status: number, code: string, message: string, field?: string);
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
}
export declare class NetworkError extends NotificationError {}
export declare class UnexpectedResponseError extends NotificationError {
  readonly status: number;
  readonly body: string;
}
export declare class ProtocolError extends NotificationError {
  readonly code: string;
}
export declare function errorFromResponse(status: number, text: string): ApiError | UnexpectedResponseError;
export declare function isUnauthorized(error: unknown): boolean;

export declare const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>>;
export declare class Backoff {
  constructor(options?: BackoffOptions, random?: () => number);
  next(): number;
  reset(): void;
}

export declare class SequenceTracker {
  constructor(seq?: number);
  readonly seq: number | undefined;
  classify(message: { type: string; seq?: number; data?: unknown }): 'apply' | 'duplicate' | 'gap';
  resumeQuery(): Record<string, string>;
}

export declare function tokenExpiry(token: string): number | undefined;
