// The stream room's live updates over its websocket (/ws/live/<id>/), as an ES module.
//
// Markup it reads (templates/livestream/room.html):
//   [data-room]            data-session-id, data-ws-path, data-status (scheduled/live/ended/
//                          cancelled), data-is-staff="1" for the exhibitor's staff, and the
//                          translated texts data-text-* listed in TEXT_DEFAULTS below
//                          ("{name}", "{count}" are filled in).
//   [data-viewer-count]    the viewer count (data-text-one / data-text-other with "{count}")
//   [data-live-badge]      shown only while live
//   [data-player]          the live player (player.js): started when the session goes live,
//                          stopped when it ends
//   [data-countdown-box]   hidden when the session goes live
//   [data-product-id]      featured products; the pinned one gets the class "is-pinned"
//   [data-viewers-panel]   optional: where staff see who is watching (made if missing)
//   [data-live-announcer]  optional: the polite live region for announcements (made if missing)
//
// It also dispatches "livestream:live" and "livestream:ended" (bubbling, detail {session,
// frame}) on the room element for other scripts (chat). If the page has no live player
// (rendered before the stream had a playback URL) it reloads once when the session goes
// live. Everything from the server is written with textContent, never as HTML.
//
// The one socket of the page is shared with other scripts (chat.js) through the room element:
//   root.liveRoom               this Room; liveRoom.send(payload) sends a JSON action and
//                               returns whether it went out (false while disconnected)
//   liveRoom.resumeAfter        optional hook () => seq|null set by the chat: each (re)connect
//                               asks for "?after=<seq>" so the server sends what was missed
//   "livestream:frame"          every frame from the server, "batch" frames unpacked into
//                               their events, in order (detail {session, frame})
//   "livestream:open"/"close"   the socket opened / closed (it reconnects by itself, except
//                               after 4404 no such room and 4429 too many of the user's
//                               sockets open: detail {code})
// The socket is opened on DOMContentLoaded, which fires only after every deferred and module
// script of the page has run: a script loaded after this one (chat.js) has its listeners in
// place before the first frame arrives, whatever order the files download in.

import { startPlayer, stopPlayer } from "./player.js";

const TEXT_DEFAULTS = {
  textLive: "The session is live.",
  textEnded: "This session has ended.",
  textCancelled: "This session was cancelled.",
  textRescheduled: "This session was moved to a new time. Reload the page to see it.",
  textPinned: "Pinned: {name}",
  textUnpinned: "No product is pinned.",
  textViewersHeading: "Who is watching",
  textViewersEmpty: "No signed-in buyer in the room shares their name.",
  textViewersOthers: "and {count} more",
  textFollows: "follows your booth",
  textReconnecting: "Connection lost. Reconnecting…",
};

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const KEEPALIVE_MS = 30000;
const VIEWERS_LIST_MS = 15000;
const CLOSE_NOT_FOUND = 4404;
const CLOSE_TOO_MANY = 4429;

function text(root, key, values = {}) {
  const template = root.dataset[key] || TEXT_DEFAULTS[key] || "";
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

// Exponential backoff with ±50 % jitter, so thousands of viewers dropped by one server
// restart do not all come back in the same second.
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.5 + random()));
}

function announcer(root) {
  let region = root.querySelector("[data-live-announcer]");
  if (!region) {
    region = document.createElement("div");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.dataset.liveAnnouncer = "";
    root.append(region);
  }
  return (message) => {
    // Emptied first, so the same message said twice is announced twice.
    region.textContent = "";
    window.setTimeout(() => {
      region.textContent = message;
    }, 50);
  };
}

function pluralText(element, count) {
  const lang = document.documentElement.lang || "en";
  let category = "other";
  try {
    category = new Intl.PluralRules(lang).select(count);
  } catch {
    // an unknown language tag: "other" will do
  }
  const key = `text${category[0].toUpperCase()}${category.slice(1)}`;
  const template = element.dataset[key] || element.dataset.textOther;
  return template ? template.replace("{count}", String(count)) : String(count);
}

function countryName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([document.documentElement.lang || "en"], {
      type: "region",
    });
    return names.of(code) || code;
  } catch {
    return code;
  }
}

class Room {
  constructor(root) {
    this.root = root;
    this.sessionId = Number(root.dataset.sessionId);
    this.wsPath = root.dataset.wsPath || `/ws/live/${this.sessionId}/`;
    this.status = root.dataset.status || "scheduled";
    this.isStaff = root.dataset.isStaff === "1";
    this.announce = announcer(root);
    this.attempt = 0;
    this.socket = null;
    this.timers = [];
    this.stopped = false;
    this.lostNoticeShown = false;
    this.resumeAfter = null;
    root.liveRoom = this;
    const count = root.querySelector("[data-viewer-count]");
    // The count changes every few seconds: announcing each change would drown screen
    // reader users; going live, ending and pins are announced instead.
    if (count) count.setAttribute("aria-live", "off");
    if (this.isStaff) this.panel = this.viewersPanel();
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let query = "";
    if (typeof this.resumeAfter === "function") {
      let after = null;
      try {
        after = this.resumeAfter();
      } catch {
        after = null; // a broken hook must not stop the room reconnecting
      }
      if (Number.isInteger(after) && after >= 0) query = `?after=${after}`;
    }
    return `${scheme}//${window.location.host}${this.wsPath}${query}`;
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("message", (event) => this.onFrame(event.data));
    socket.addEventListener("close", (event) => this.onClose(event));
    socket.addEventListener("open", () => this.onOpen());
  }

  onOpen() {
    this.clearTimers();
    this.dispatch("livestream:open", null);
    this.timers.push(window.setInterval(() => this.send({ type: "ping" }), KEEPALIVE_MS));
    if (this.isStaff) {
      this.askViewers();
      this.timers.push(window.setInterval(() => this.askViewers(), VIEWERS_LIST_MS));
    }
  }

  onClose(event) {
    this.clearTimers();
    this.socket = null;
    this.dispatch("livestream:close", { code: event.code });
    if (event.code === CLOSE_TOO_MANY) {
      // Refused for this user's number of open sockets: retrying would be refused again.
      const note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("role", "alert");
      note.dataset.tooMany = "";
      note.textContent = text(this.root, "textTooMany");
      this.root.prepend(note);
      return;
    }
    if (this.stopped || event.code === CLOSE_NOT_FOUND) return;
    if (!this.lostNoticeShown && this.attempt >= 2) {
      this.announce(text(this.root, "textReconnecting"));
      this.lostNoticeShown = true;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    window.setTimeout(() => this.connect(), delay);
  }

  clearTimers() {
    for (const timer of this.timers) window.clearInterval(timer);
    this.timers = [];
  }

  // Sends one action; false when the socket is not open (the caller keeps it to send later).
  send(payload) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(payload));
      return true;
    }
    return false;
  }

  isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  askViewers() {
    if (!document.hidden) this.send({ type: "viewers.list" });
  }

  onFrame(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.session !== undefined && frame.session !== this.sessionId) return;
    if (frame.type === "batch") {
      // Several broadcasts of this room packed into one websocket frame, in order.
      if (!Array.isArray(frame.events)) return;
      for (const event of frame.events) {
        if (event && typeof event.type === "string" && event.type !== "batch") {
          if (event.session === undefined || event.session === this.sessionId) {
            this.handleFrame(event);
          }
        }
      }
      return;
    }
    this.handleFrame(frame);
  }

  handleFrame(frame) {
    switch (frame.type) {
      case "room.joined":
        this.attempt = 0;
        this.lostNoticeShown = false;
        this.setStatus(frame.status);
        break;
      case "viewers":
        this.showCount(frame.count);
        break;
      case "session.live":
        this.setStatus("live", frame);
        break;
      case "session.ended":
        this.setStatus("ended", frame);
        break;
      case "session.cancelled":
        this.setStatus("cancelled", frame);
        break;
      case "session.rescheduled":
        this.notice(text(this.root, "textRescheduled"));
        break;
      case "session.pinned":
        this.pin(frame.product, frame.name);
        break;
      case "viewers.list":
        this.renderViewers(frame);
        break;
      default:
        break;
    }
    this.dispatch("livestream:frame", frame);
  }

  setStatus(status, frame = null) {
    if (!status || status === this.status) return;
    const previous = this.status;
    this.status = status;
    this.root.dataset.status = status;
    const badge = this.root.querySelector("[data-live-badge]");
    if (badge) badge.hidden = status !== "live";
    const count = this.root.querySelector("[data-viewer-count]");
    if (count && status !== "live" && previous === "live") count.hidden = true;
    if (status === "live") this.goLive(frame);
    if (status === "ended") this.endLive(frame);
    if (status === "cancelled") {
      const player = this.liveRegionPlayer();
      if (player && player.dataset.playerStarted === "1") stopPlayer(player);
      this.notice(text(this.root, "textCancelled"));
    }
  }

  dispatch(name, frame) {
    const event = new CustomEvent(name, {
      bubbles: true,
      cancelable: true,
      detail: { session: this.sessionId, frame },
    });
    return this.root.dispatchEvent(event);
  }

  liveRegionPlayer() {
    for (const player of this.root.querySelectorAll("[data-player]")) {
      if (!player.closest(".ended")) return player;
    }
    return null;
  }

  goLive(frame) {
    this.announce(text(this.root, "textLive"));
    this.dispatch("livestream:live", frame);
    const countdown = this.root.querySelector("[data-countdown-box]");
    if (countdown) countdown.hidden = true;
    const count = this.root.querySelector("[data-viewer-count]");
    if (count && count.textContent.trim()) count.hidden = false;
    const player = this.liveRegionPlayer();
    if (player && player.dataset.hlsUrl) {
      player.hidden = false;
      player.dataset.autostart = "";
      startPlayer(player).catch(() => {});
      return;
    }
    // Nothing on the page can play the stream: render the page afresh, once per session.
    const key = `cloudfair.room.reloaded.${this.sessionId}`;
    if (!window.sessionStorage.getItem(key)) {
      window.sessionStorage.setItem(key, "1");
      this.stopped = true;
      window.location.reload();
    }
  }

  endLive(frame) {
    const player = this.liveRegionPlayer();
    if (player && player.dataset.playerStarted === "1") stopPlayer(player);
    if (player) player.hidden = true;
    this.dispatch("livestream:ended", frame);
    this.notice(text(this.root, "textEnded"));
  }

  notice(message) {
    let box = this.root.querySelector("[data-room-notice]");
    if (!box) {
      box = document.createElement("p");
      box.className = "notice room-notice";
      box.dataset.roomNotice = "";
      const stage = this.root.querySelector(".room-stage") || this.root;
      stage.prepend(box);
    }
    box.textContent = message;
    this.announce(message);
  }

  showCount(count) {
    const element = this.root.querySelector("[data-viewer-count]");
    if (!element || typeof count !== "number") return;
    element.textContent = pluralText(element, count);
    if (this.status === "live") element.hidden = false;
  }

  pin(productId, name) {
    const products = this.root.querySelectorAll("[data-product-id]");
    let found = null;
    for (const product of products) {
      const match = productId !== null && product.dataset.productId === String(productId);
      product.classList.toggle("is-pinned", match);
      if (match) found = product;
    }
    if (productId === null || productId === undefined) {
      this.announce(text(this.root, "textUnpinned"));
      return;
    }
    this.announce(text(this.root, "textPinned", { name: name || "" }));
    if (found && !this.isStaff) found.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  viewersPanel() {
    let panel = this.root.querySelector("[data-viewers-panel]");
    if (!panel) {
      panel = document.createElement("section");
      panel.className = "viewers-panel card";
      panel.dataset.viewersPanel = "";
      const heading = document.createElement("h2");
      heading.id = `viewers-heading-${this.sessionId}`;
      heading.textContent = text(this.root, "textViewersHeading");
      panel.setAttribute("aria-labelledby", heading.id);
      panel.append(heading);
      const side = this.root.querySelector(".room-side") || this.root;
      side.prepend(panel);
    }
    panel.hidden = false;
    let list = panel.querySelector("[data-viewers-list]");
    if (!list) {
      list = document.createElement("ul");
      list.className = "viewers-list";
      list.dataset.viewersList = "";
      panel.append(list);
    }
    let others = panel.querySelector("[data-viewers-others]");
    if (!others) {
      others = document.createElement("p");
      others.className = "viewers-others hint";
      others.dataset.viewersOthers = "";
      panel.append(others);
    }
    return { panel, list, others };
  }

  renderViewers(frame) {
    if (!this.panel || !Array.isArray(frame.viewers)) return;
    const { list, others } = this.panel;
    const items = frame.viewers.map((viewer) => {
      const item = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = String(viewer.name || "");
      item.append(name);
      const where = [viewer.company, countryName(viewer.country)].filter(Boolean).join(", ");
      if (where) item.append(document.createTextNode(` · ${where}`));
      if (viewer.follows_booth) {
        const badge = document.createElement("span");
        badge.className = "badge viewers-follows";
        badge.textContent = text(this.root, "textFollows");
        item.append(document.createTextNode(" "), badge);
      }
      return item;
    });
    if (items.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = text(this.root, "textViewersEmpty");
      items.push(empty);
    }
    list.replaceChildren(...items);
    const rest = Number(frame.others) || 0;
    others.textContent = rest > 0 ? text(this.root, "textViewersOthers", { count: rest }) : "";
  }
}

const rooms = Array.from(document.querySelectorAll("[data-room]"), (root) => new Room(root));

let connected = false;

function connectAll() {
  if (connected) return;
  connected = true;
  for (const room of rooms) room.connect();
}

if (document.readyState === "complete") {
  connectAll();
} else {
  // "load" as well, for the case of this module running after DOMContentLoaded fired.
  document.addEventListener("DOMContentLoaded", connectAll, { once: true });
  window.addEventListener("load", connectAll, { once: true });
}
