// Test doubles for the client's injected dependencies: a WebSocket driven by
// the test (browser API: a refused upgrade is close 1006 without open), a
// clock whose timers fire only when the test advances it, a routed fetch,
// a page-visibility source and unsigned JWTs (the client never verifies them).

export class FakeWebSocket {
  static instances = [];
  static waiters = [];

  /** Resolves with the next socket the client opens. */
  static next() {
    return new Promise((resolve) => FakeWebSocket.waiters.push(resolve));
  }

  static reset() {
    FakeWebSocket.instances = [];
    FakeWebSocket.waiters = [];
  }

  constructor(url, protocols) {
    this.url = new URL(url);
    this.protocols = protocols;
    this.sent = [];
    this.closedByClient = undefined;
    this.readyState = 0;
    FakeWebSocket.instances.push(this);
    FakeWebSocket.waiters.shift()?.(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  serverOpen() {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(message) {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

export class FakeClock {
  constructor(start = 1_800_000_000_000) {
    this.time = start;
    this.pending = new Map();
    this.nextId = 1;
    this.now = () => this.time;
    this.timers = {
      setTimeout: (callback, ms) => {
        const id = this.nextId++;
        this.pending.set(id, { at: this.time + ms, callback });
        return id;
      },
      clearTimeout: (id) => this.pending.delete(id),
    };
  }

  /** The delays of the timers waiting now, soonest first. */
  delays() {
    return [...this.pending.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms) {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = until;
  }
}

/**
 * A fetch answering from `routes`: keys like `GET /api/v1/notifications/unread-count`,
 * values a function (url, init) => {status, body} or such an object. Calls are recorded.
 */
export function routedFetch(routes) {
  const calls = [];
  const fetch = async (url, init) => {
    const parsed = new URL(url);
    calls.push({ method: init.method, path: parsed.pathname, query: parsed.searchParams, headers: init.headers });
    const route = routes[`${init.method} ${parsed.pathname}`];
    if (!route) return response(404, { error: { code: 'not_found', message: 'no route in the fake' } });
    const answer = typeof route === 'function' ? await route(parsed, init) : route;
    return response(answer.status ?? 200, answer.body);
  };
  return { fetch, calls };
}

function response(status, body) {
  const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  return { status, ok: status >= 200 && status < 300, text: async () => text };
}

export class FakeVisibility extends EventTarget {
  constructor(hidden = false) {
    super();
    this.hidden = hidden;
  }

  set(hidden) {
    this.hidden = hidden;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

/** An unsigned JWT with `exp` (unix seconds) and `sub`. */
export function jwt(exp, sub = 'user') {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp })}.signature`;
}

/** Resolves with the detail of the next `type` event matching `predicate`. */
export function nextEvent(target, type, predicate = () => true) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (!predicate(event.detail)) return;
      target.removeEventListener(type, listener);
      resolve(event.detail);
    };
    target.addEventListener(type, listener);
  });
}

/** Resolves when the subscription reaches `state`. */
export function nextState(subscription, state) {
  return nextEvent(subscription, 'state', (detail) => detail.state === state);
}

/** Collects the details of every `type` event into an array. */
export function collect(target, type) {
  const seen = [];
  target.addEventListener(type, (event) => seen.push(event.detail));
  return seen;
}
