// A Lantern socket client written the way Lantern's README tells a front-end
// page to use `wss://lantern.rest/socket` (spec/lantern.md §6; README
// "WebSocket"): on Opcode 1 Hello, start an interval of `heartbeat_interval`
// that sends Opcode 4 Heartbeat and send Opcode 2 Initialize at once; then
// read INIT_ACK (3), PRESENCE_UPDATE (6), USER_LEFT (7), USER_JOINED (8),
// DISCONNECT (9), STORAGE_UPDATE (10). Like every page that keeps a live
// presence, it reconnects when the socket closes, with exponential backoff
// (reset once an INIT_ACK arrives). It uses the page's global WebSocket.

export const OP = {
  HELLO: 1,
  INIT: 2,
  INIT_ACK: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  PRESENCE_UPDATE: 6,
  USER_LEFT: 7,
  USER_JOINED: 8,
  DISCONNECT: 9,
  STORAGE_UPDATE: 10,
  ERROR: 11,
};

export class LanternSocket {
  /**
   * @param {string} url e.g. wss://lantern.rest/socket
   * @param {object} init the Initialize payload: {user_id} or {user_ids}
   * @param {{minBackoff?: number, maxBackoff?: number}} [opts]
   */
  constructor(url, init, { minBackoff = 250, maxBackoff = 8000 } = {}) {
    this.url = url;
    this.init = init;
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
    this.backoff = minBackoff;
    this.messages = []; // every server message, in order
    this.sent = []; // every client message, in order
    this.connects = 0; // sockets opened
    this.retryDelays = []; // the backoff delays waited before reconnecting
    this.users = null; // the latest known user objects, by id
    this.closed = false;
    this.connect();
  }

  send(msg) {
    this.sent.push(msg);
    this.ws.send(JSON.stringify(msg));
  }

  connect() {
    this.connects++;
    const ws = (this.ws = new WebSocket(this.url));
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      this.messages.push(msg);
      switch (msg.op) {
        case OP.HELLO:
          clearInterval(this.heartbeat);
          this.heartbeat = setInterval(() => this.send({ op: OP.HEARTBEAT }), msg.d.heartbeat_interval);
          this.send({ op: OP.INIT, d: this.init });
          break;
        case OP.INIT_ACK:
          this.backoff = this.minBackoff;
          this.users = {};
          for (const user of Array.isArray(msg.d) ? msg.d : [msg.d]) this.users[user.metadata.id] = user;
          break;
        case OP.PRESENCE_UPDATE:
        case OP.STORAGE_UPDATE:
        case OP.USER_JOINED:
          if (this.users) this.users[msg.d.metadata.id] = msg.d;
          break;
        case OP.USER_LEFT:
          if (this.users) delete this.users[msg.d.user_id];
          break;
        default:
          break;
      }
    };
    ws.onclose = () => {
      clearInterval(this.heartbeat);
      if (this.closed) return;
      const delay = this.backoff;
      this.retryDelays.push(delay);
      this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /** Messages with the given op, in order. */
  received(op) {
    return this.messages.filter((m) => m.op === op);
  }

  close() {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    this.ws.close();
  }
}
