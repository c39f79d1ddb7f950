/**
 * The inbox page: wires the client (REST + subscription), the model and the view.
 *
 * The token comes from the address's fragment (`#token=…`, as dev mode's link
 * gives it; removed from the address bar at once) or from the sign-in form, and
 * is kept in sessionStorage for this tab only. Every tab of a user holds its
 * own subscription, so a change made in one reaches the others through the
 * server at once.
 * @module inbox
 */

import { ApiError, NotificationClient } from '/client/notifications.js';
import { InboxModel } from './inbox-model.js';
import { InboxView } from './inbox-view.js';

const TOKEN_KEY = 'notifications.token';
const PAGE_SIZE = 20;

const model = new InboxModel();
const view = new InboxView(document);
let client = null;
let subscription = null;

model.subscribe((change) => {
  if (change.kind === 'list') view.renderList(model);
  if (change.kind === 'badge') view.renderBadge(model.unreadCount);
  if (change.kind === 'connection') view.renderConnection(model.connection);
  if (change.kind === 'arrived') view.announce(change.notification);
});

view.bind({
  signIn: (token) => start(token),
  signOut: () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stop();
    view.showSignedIn(false);
  },
  filter: (value) => {
    model.setFilter(value);
    reload();
  },
  readAll: () => act(() => client.readAll()),
  more: () => act(async () => model.appendPage(await client.list({ status: model.statusQuery(), limit: PAGE_SIZE, cursor: model.nextCursor }))),
  item: (action, id) => act(() => itemAction(action, id), id),
});

start(tokenFromFragment() ?? sessionStorage.getItem(TOKEN_KEY));

/** Reads `#token=…` and removes it from the address bar (and the history entry). */
function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) history.replaceState(null, '', location.pathname + location.search);
  return token;
}

async function start(token) {
  stop();
  if (!token) {
    view.showSignedIn(false);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  client = new NotificationClient({ token });
  view.showSignedIn(true);
  const seq = await reload();
  if (seq === null) return;
  subscription = client.subscribe({ sinceSeq: seq });
  subscription.on('state', (detail) => {
    model.setConnection(detail);
    if (detail.state === 'unauthorized') {
      sessionStorage.removeItem(TOKEN_KEY);
      view.showError('The token was refused (expired or invalid): sign in again.');
      view.showSignedIn(false);
    }
  });
  subscription.on('notification', ({ notification, unreadCount }) => model.addNotification(notification, unreadCount));
  subscription.on('update', (update) => model.applyUpdate(update));
  subscription.on('resync', () => reload());
  subscription.on('error', ({ error }) => console.warn('notifications:', error.message));
}

function stop() {
  subscription?.stop();
  subscription = null;
  client = null;
}

/**
 * Loads the first page of the current filter and the badge.
 * @returns {Promise<number | undefined | null>} the page's `seq`, or null when loading failed
 */
async function reload() {
  const current = client;
  try {
    const [page, count] = await Promise.all([
      current.list({ status: model.statusQuery(), limit: PAGE_SIZE }),
      current.unreadCount(),
    ]);
    if (current !== client) return null;
    model.replacePage(page);
    model.setUnreadCount(count.unreadCount);
    view.showError(null);
    return page.seq;
  } catch (error) {
    if (current !== client) return null;
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      view.showError('The token was refused (expired or invalid): sign in again.');
      view.showSignedIn(false);
      stop();
    } else {
      view.showError(`Could not load the inbox: ${error.message}`);
    }
    return null;
  }
}

async function itemAction(action, id) {
  if (action === 'delete') {
    await client.delete(id);
    model.remove(id);
    return;
  }
  const calls = { read: client.markRead, unread: client.markUnread, archive: client.archive };
  const call = calls[action];
  if (call) model.upsert(await call.call(client, id));
}

/** Runs a user action; failures go to the alert line (a 404 means another tab deleted it). */
async function act(action, id) {
  if (!client) return;
  try {
    await action();
    view.showError(null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && id) {
      model.remove(id);
    } else {
      view.showError(`That did not work: ${error.message}`);
    }
  }
}
