// The smallest browser a Lanyard client needs, in Node 20: import this module
// BEFORE any client library (use-lanyard reads `typeof window` at load time).
//
// - `window` is the global object, as in a page (the libraries only test that
//   it exists and that it has `WebSocket` / `fetch`).
// - `WebSocket` is the `ws` package's, whose addEventListener/`event.data`
//   (a string for text frames) follow the browser API.
// - `fetch` is Node's own.
// - Hosts: several libraries hard-code `https://api.lanyard.rest` /
//   `wss://api.lanyard.rest` or always prepend `https://` / `wss://` to a
//   configurable host. A deployment points such a client at Halyard through
//   DNS and a TLS-terminating proxy; here `route(origin)` plays that part:
//   requests to the hosts listed in `hosts` (api.lanyard.rest and Halyard's
//   own host:port) go to Halyard over plain HTTP/WS, path and query unchanged.
//   Every URL a library asks for is recorded in `requests` so tests can check
//   what the library really requested.
// - setInterval: intervals are unref'd so a library that never clears its
//   heartbeat timer (sk-lanyard) does not keep the test process alive after
//   its page would have been closed. Timing is unchanged.
import WebSocketImpl from 'ws';

const nodeFetch = globalThis[Symbol.for('halyard.nodeFetch')] ?? globalThis.fetch;
globalThis[Symbol.for('halyard.nodeFetch')] = nodeFetch;
const nodeSetInterval = globalThis.setInterval;

let target = null; // URL of Halyard, e.g. http://127.0.0.1:4001
let hosts = new Set();

/** Every URL the libraries requested (after routing), in order: {kind, url, method, original}. */
export const requests = [];

/** Routes `hosts` (host[:port] strings) to Halyard at `origin` (http://host:port). */
export function route(origin, extraHosts = []) {
  target = new URL(origin);
  hosts = new Set(['api.lanyard.rest', target.host, ...extraHosts]);
}

function rewrite(raw, kind) {
  const u = new URL(String(raw));
  if (target && hosts.has(u.host)) {
    const ws = u.protocol === 'ws:' || u.protocol === 'wss:';
    u.protocol = ws ? 'ws:' : 'http:';
    u.host = target.host;
    return { url: u.toString() };
  }
  throw new Error(`test browser: unexpected request to ${raw} (not routed to Halyard)`);
}

// Browsers fire every WebSocket event (open, message, error, close) from a
// task of its own, so promise continuations queued by one event's handler run
// before the next event. `ws` emits synchronously from the socket's data
// handler: a Hello that arrives in the same read as the handshake reply is
// emitted before a continuation of the `open` handler has run. sk-lanyard
// attaches its Hello listener in exactly such a continuation, so the shim
// restores the browser's ordering: one event per macrotask, in order.
const TASK_EVENTS = new Set(['open', 'message', 'error', 'close']);
const queue = Symbol('event tasks');

class RoutedWebSocket extends WebSocketImpl {
  emit(type, ...args) {
    if (!TASK_EVENTS.has(type)) return super.emit(type, ...args);
    const tasks = (this[queue] ??= []);
    tasks.push([type, args]);
    if (tasks.length === 1) setImmediate(() => this.#drain());
    return true;
  }

  #drain() {
    const tasks = this[queue];
    const [type, args] = tasks[0];
    try {
      super.emit(type, ...args);
    } finally {
      tasks.shift();
      if (tasks.length > 0) setImmediate(() => this.#drain());
    }
  }

  constructor(url, protocols) {
    const { url: routed } = rewrite(url, 'ws');
    super(routed, protocols);
    // A browser WebSocket's unhandled `error` event is ignored; an EventEmitter
    // would throw it. The libraries listen for `close`, which follows.
    this.on('error', () => {});
    requests.push({ kind: 'ws', url: routed, method: 'GET', original: String(url) });
  }
}

async function routedFetch(input, init) {
  if (input instanceof Request) {
    const { url } = rewrite(input.url, 'fetch');
    requests.push({ kind: 'fetch', url, method: input.method, original: input.url });
    return nodeFetch(new Request(url, input), init);
  }
  const { url } = rewrite(input instanceof URL ? input.href : input, 'fetch');
  requests.push({ kind: 'fetch', url, method: (init?.method ?? 'GET').toUpperCase(), original: String(input) });
  return nodeFetch(url, init);
}

globalThis.window = globalThis;
globalThis.WebSocket = RoutedWebSocket;
globalThis.fetch = routedFetch;
globalThis.setInterval = (...args) => {
  const t = nodeSetInterval(...args);
  t.unref?.();
  return t;
};

/** Node's fetch, for the tests' own reads of Halyard (never routed or recorded). */
export const directFetch = nodeFetch;
