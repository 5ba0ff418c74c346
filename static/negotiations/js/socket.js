// The page's one /ws/negotiations/ socket (issue 6), shared by every script of the page that
// needs it: the room (room.js), the inboxes (inbox.js) and the navigation badge (nav.js). The
// protocol is described in negotiations/consumers.py; this file only connects, keeps the
// socket alive, reconnects with backoff and hands every frame to every subscriber.
//
// One socket per page: the instance is kept on window under a global symbol, so even two
// copies of this module (a hashed and an unhashed static URL) share it.
//
//   const socket = negoSocket();
//   const stop = socket.subscribe({ onOpen() {}, onClose(code) {}, onFrame(frame) {} });
//   socket.send({ type: "nego.read", negotiation: 7, seq: 12 });   // false when not open
//   socket.attempt   // failed (re)connections since the last "nego.ready"
//   socket.ready     // true between "nego.ready" and the next close
//
// The socket opens on the first subscribe (never on import). A "batch" frame is unpacked.
// Close codes 4401 (signed out) and 4429 (the user has too many sockets open: another tab
// would only be refused again) stop reconnecting.

const KEEPALIVE_MS = 30000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
export const CLOSE_SIGN_IN = 4401;
export const CLOSE_TOO_MANY = 4429;
const DEFAULT_PATH = "/ws/negotiations/";
const KEY = Symbol.for("cloudfair.negotiations.socket");

// Exponential backoff with ±50 % jitter: sockets dropped together do not return together.
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.5 + random()));
}

class SharedSocket {
  constructor(path) {
    this.path = path;
    this.socket = null;
    this.attempt = 0;
    this.keepalive = null;
    this.stopped = false;
    this.ready = false;
    this.started = false;
    this.lastReady = null;
    this.subscribers = new Set();
  }

  subscribe(handlers) {
    this.subscribers.add(handlers);
    if (!this.started) {
      this.started = true;
      this.connect();
    } else if (this.ready && this.lastReady) {
      // A late subscriber still gets the "nego.ready" it missed (and only it gets it again).
      const frame = this.lastReady;
      window.setTimeout(() => {
        if (this.subscribers.has(handlers) && this.ready) handlers.onFrame?.(frame);
      }, 0);
    }
    return () => this.subscribers.delete(handlers);
  }

  emit(name, value) {
    for (const handlers of [...this.subscribers]) {
      const handler = handlers[name];
      if (typeof handler !== "function") continue;
      try {
        handler(value);
      } catch (error) {
        window.setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${this.path}`;
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      window.clearInterval(this.keepalive);
      this.keepalive = window.setInterval(() => this.send({ type: "ping" }), KEEPALIVE_MS);
      this.emit("onOpen");
    });
    socket.addEventListener("message", (event) => {
      let frame = null;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "batch" && Array.isArray(frame.events)) {
        for (const inner of frame.events) {
          if (inner && typeof inner.type === "string") this.emit("onFrame", inner);
        }
        return;
      }
      if (frame.type === "nego.ready") {
        this.attempt = 0;
        this.ready = true;
        this.lastReady = frame;
      }
      this.emit("onFrame", frame);
    });
    socket.addEventListener("close", (event) => {
      window.clearInterval(this.keepalive);
      this.socket = null;
      this.ready = false;
      if (event.code === CLOSE_SIGN_IN || event.code === CLOSE_TOO_MANY) this.stopped = true;
      this.emit("onClose", event.code);
      if (this.stopped) return;
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      window.setTimeout(() => this.connect(), delay);
    });
  }

  send(payload) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(payload));
      return true;
    }
    return false;
  }
}

export function negoSocket(path = DEFAULT_PATH) {
  if (!window[KEY]) window[KEY] = new SharedSocket(path);
  return window[KEY];
}
