/**
 * The inbox page's state, with no DOM: the notifications it knows, the unread
 * badge, the filter, the paging cursor and the connection state. Every change
 * goes through a method here and is announced to the listeners (the view), so
 * the page renders one source of truth and this file is tested in Node.
 * @module inbox-model
 */

/** Filters of the page: `inbox` is every notification that is not archived (the REST default). */
export const FILTERS = Object.freeze(['inbox', 'UNREAD', 'READ', 'ARCHIVED']);

/** What each `update_type` does to a notification's fields (contract §5). */
const UPDATE_FIELDS = Object.freeze({
  read: (data) => ({ status: 'READ', read_at: data.read_at ?? null }),
  unread: () => ({ status: 'UNREAD', read_at: null, archived_at: null }),
  archive: (data) => ({ status: 'ARCHIVED', archived_at: data.archived_at ?? null }),
});

export class InboxModel {
  constructor() {
    /** @type {Map<string, object>} every notification the page knows, by id */
    this.items = new Map();
    this.unreadCount = 0;
    this.filter = 'inbox';
    this.nextCursor = null;
    this.connection = { state: 'idle' };
    this.listeners = new Set();
  }

  /** @param {(change: {kind: string, notification?: object}) => void} listener */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @param {string} filter one of FILTERS */
  setFilter(filter) {
    if (!FILTERS.includes(filter)) throw new RangeError(`unknown filter ${filter}`);
    this.filter = filter;
    this.changed('list');
  }

  /** The REST `status` query of the current filter (none for the inbox). */
  statusQuery() {
    return this.filter === 'inbox' ? undefined : this.filter;
  }

  /** A fresh first page: what the page shows is exactly it. */
  replacePage(page) {
    this.items = new Map(page.items.map((n) => [n.notification_id, n]));
    this.nextCursor = page.nextCursor ?? null;
    this.changed('list');
  }

  /** An older page, below what is shown. */
  appendPage(page) {
    for (const n of page.items) this.items.set(n.notification_id, n);
    this.nextCursor = page.nextCursor ?? null;
    this.changed('list');
  }

  /** A notification that arrived live. @returns {boolean} true when it was new to the page */
  addNotification(notification, unreadCount) {
    const isNew = !this.items.has(notification.notification_id);
    this.items.set(notification.notification_id, notification);
    this.setCount(unreadCount);
    this.changed('list', isNew ? { kind: 'arrived', notification } : undefined);
    return isNew;
  }

  /** A stored resource as REST returned it after an action of this tab. */
  upsert(notification) {
    this.items.set(notification.notification_id, notification);
    this.changed('list');
  }

  /** @param {string} id a notification that no longer exists */
  remove(id) {
    if (this.items.delete(id)) this.changed('list');
  }

  /**
   * A `notification_update` (live or from another tab's action).
   * @param {{notificationId: string | null, updateType: string, data: object, unreadCount?: number}} update
   */
  applyUpdate({ notificationId, updateType, data, unreadCount }) {
    if (updateType === 'delete') {
      this.items.delete(notificationId);
    } else if (updateType === 'read_all') {
      for (const [id, n] of this.items) {
        if (n.status === 'UNREAD') this.items.set(id, { ...n, status: 'READ', read_at: data.read_at ?? null });
      }
    } else if (UPDATE_FIELDS[updateType] && this.items.has(notificationId)) {
      const n = this.items.get(notificationId);
      this.items.set(notificationId, { ...n, ...UPDATE_FIELDS[updateType](data ?? {}) });
    }
    this.setCount(unreadCount);
    this.changed('list');
  }

  /** @param {number | undefined} count the server's count (ignored when absent) */
  setUnreadCount(count) {
    this.setCount(count);
    this.changed('badge');
  }

  /** @param {{state: string}} detail the subscription's latest `state` event */
  setConnection(detail) {
    this.connection = detail;
    this.changed('connection');
  }

  /** What the list shows: the current filter's notifications, newest first (UUIDv7 ids sort by time). */
  visibleItems() {
    return [...this.items.values()]
      .filter((n) => (this.filter === 'inbox' ? n.status !== 'ARCHIVED' : n.status === this.filter))
      .sort((a, b) => (a.notification_id < b.notification_id ? 1 : a.notification_id > b.notification_id ? -1 : 0));
  }

  setCount(count) {
    if (Number.isInteger(count) && count >= 0) this.unreadCount = count;
  }

  changed(kind, extra) {
    for (const listener of this.listeners) {
      listener({ kind });
      if (extra) listener(extra);
    }
  }
}
