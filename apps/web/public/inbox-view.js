/**
 * The inbox page's DOM: renders the model and turns clicks into actions.
 *
 * Publisher text (title, message, type) only ever reaches the page through
 * `textContent` and attributes set with `setAttribute` on elements made here:
 * it is never parsed as HTML. (The page's CSP also enforces Trusted Types, so
 * an `innerHTML` assignment would throw.)
 * @module inbox-view
 */

const CONNECTION_TEXT = Object.freeze({
  idle: 'Not connected',
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Offline',
  paused: 'Paused while hidden',
  unauthorized: 'Signed out: the token was refused',
  stopped: 'Disconnected',
});

/** The buttons of one notification, by its status: [action, label]. */
const ACTIONS = Object.freeze({
  UNREAD: [['read', 'Mark read'], ['archive', 'Archive'], ['delete', 'Delete']],
  READ: [['unread', 'Mark unread'], ['archive', 'Archive'], ['delete', 'Delete']],
  ARCHIVED: [['unread', 'Move to inbox'], ['delete', 'Delete']],
});

export class InboxView {
  /** @param {Document} doc */
  constructor(doc) {
    this.doc = doc;
    const byId = (id) => doc.getElementById(id);
    this.el = {
      badge: byId('badge'),
      connection: byId('connection'),
      signIn: byId('sign-in'),
      signInForm: byId('sign-in-form'),
      tokenInput: byId('token-input'),
      inbox: byId('inbox'),
      filter: byId('filter'),
      readAll: byId('read-all'),
      signOut: byId('sign-out'),
      error: byId('error'),
      list: byId('list'),
      empty: byId('empty'),
      more: byId('more'),
      announcer: byId('announcer'),
    };
    /** @type {Map<string, HTMLLIElement>} rendered items, by id */
    this.rows = new Map();
  }

  /**
   * @param {{signIn(token: string): void, signOut(): void, filter(value: string): void,
   *   readAll(): void, more(): void, item(action: string, id: string): void}} handlers
   */
  bind(handlers) {
    this.el.signInForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = this.el.tokenInput.value.trim();
      this.el.tokenInput.value = '';
      if (token) handlers.signIn(token);
    });
    this.el.signOut.addEventListener('click', () => handlers.signOut());
    this.el.filter.addEventListener('change', () => handlers.filter(this.el.filter.value));
    this.el.readAll.addEventListener('click', () => handlers.readAll());
    this.el.more.addEventListener('click', () => handlers.more());
    this.el.list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action]');
      const row = button?.closest('li[data-id]');
      if (button && row) handlers.item(button.dataset.action, row.dataset.id);
    });
  }

  /** Shows the sign-in form (signedIn false) or the inbox. */
  showSignedIn(signedIn) {
    this.el.signIn.hidden = signedIn;
    this.el.inbox.hidden = !signedIn;
    if (!signedIn) this.el.tokenInput.focus();
  }

  /** @param {import('./inbox-model.js').InboxModel} model */
  renderList(model) {
    const items = model.visibleItems();
    const keep = new Set(items.map((n) => n.notification_id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    let previous = null;
    for (const n of items) {
      const row = this.rowFor(n);
      const expectedPlace = previous ? previous.nextSibling : this.el.list.firstChild;
      if (row !== expectedPlace) this.el.list.insertBefore(row, expectedPlace);
      previous = row;
    }
    this.el.empty.hidden = items.length > 0;
    this.el.more.hidden = model.nextCursor === null;
    this.el.filter.value = model.filter;
    this.renderBadge(model.unreadCount);
  }

  renderBadge(count) {
    this.el.badge.textContent = String(count);
    this.el.badge.setAttribute('aria-label', `${count} unread`);
    this.el.badge.dataset.count = String(count);
    this.doc.title = count > 0 ? `(${count}) Inbox` : 'Inbox';
  }

  /** @param {{state: string, retryInMs?: number}} detail */
  renderConnection(detail) {
    const retry = detail.state === 'offline' && detail.retryInMs !== undefined ? `, retrying in ${Math.ceil(detail.retryInMs / 1000)} s` : '';
    this.el.connection.textContent = (CONNECTION_TEXT[detail.state] ?? detail.state) + retry;
    this.el.connection.dataset.state = detail.state;
  }

  /** Reads a new arrival out to screen readers. */
  announce(notification) {
    this.el.announcer.textContent = `New notification: ${notification.title}`;
  }

  /** @param {string | null} message shown in the alert line, or hidden when null */
  showError(message) {
    this.el.error.hidden = message === null;
    this.el.error.textContent = message ?? '';
  }

  /** Creates or refreshes the row of `n`. */
  rowFor(n) {
    let row = this.rows.get(n.notification_id);
    const signature = `${n.status}|${n.title}|${n.message}|${n.type}`;
    if (row && row.dataset.signature === signature) return row;
    const fresh = this.buildRow(n);
    fresh.dataset.signature = signature;
    if (row) {
      const hadFocus = row.contains(this.doc.activeElement) ? this.doc.activeElement.dataset.action : null;
      row.replaceWith(fresh);
      if (hadFocus) (fresh.querySelector(`button[data-action="${hadFocus}"]`) ?? fresh.querySelector('button'))?.focus();
    }
    this.rows.set(n.notification_id, fresh);
    return fresh;
  }

  buildRow(n) {
    const make = (tag, className, text) => {
      const element = this.doc.createElement(tag);
      if (className) element.className = className;
      if (text !== undefined) element.textContent = text;
      return element;
    };
    const row = make('li', 'item');
    row.dataset.id = n.notification_id;
    row.dataset.status = n.status;
    row.dataset.type = n.type;
    const article = make('article');
    const titleId = `title-${n.notification_id}`;
    article.setAttribute('aria-labelledby', titleId);
    const header = make('header', 'item-header');
    header.append(make('span', 'type', n.type));
    const title = make('h3', 'title', n.title);
    title.id = titleId;
    header.append(title);
    const time = make('time', 'time', formatTime(n.created_at));
    time.setAttribute('datetime', n.created_at ?? '');
    header.append(time);
    if (n.status === 'UNREAD') header.append(make('span', 'unread-dot visually-hidden', 'unread'));
    const actions = make('div', 'actions');
    for (const [action, label] of ACTIONS[n.status] ?? []) {
      const button = make('button', `action action-${action}`, label);
      button.type = 'button';
      button.dataset.action = action;
      button.setAttribute('aria-describedby', titleId);
      actions.append(button);
    }
    article.append(header, make('p', 'message', n.message), actions);
    row.append(article);
    return row;
  }
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}
