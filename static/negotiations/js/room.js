// A one-to-one negotiation room (issue 6), as an ES module. The protocol is described in
// negotiations/consumers.py (websocket) and negotiations/api/views.py (REST); this file only
// speaks them.
//
// Markup it reads: templates/negotiations/room.html: [data-nego-room] with data-negotiation,
// data-side ("buyer" / "exhibitor"), data-viewer (the user's id), data-status, data-ws-path,
// data-zone, data-csrf, data-last-seq, data-other-read, data-my-read, data-default-language,
// data-read-only ("1" when the exhibitor is suspended: the room is readable, nobody writes),
// the API URLs (data-messages-url, data-attachment-url,
// data-quote-url, data-accept-url, data-decline-url with "0" for the quote id), the limits
// (data-max-length, data-max-upload, data-extensions) and the translated texts data-text-*;
// the JSON block #nego-initial ({messages, more_before, intents}); <template> elements for the
// quote card and the retry buttons. It sets data-nego-state on the root: "ready" once the
// socket is open and what was missed has been asked for, "reconnecting" while it is down.
//
// One socket per page (/ws/negotiations/, carrying every room of the user: frames of other
// rooms are ignored here), shared through socket.js with the navigation badge (nav.js). What it guarantees the reader:
// * Order and completeness: messages are kept ordered by seq, deduplicated by seq; the
//   highest contiguous seq is tracked, a gap that stays open for 2 s is filled with
//   "nego.resume", and every (re)connect resumes from it. History loads backwards without
//   limit ("Load earlier messages" and scrolling to the top: the API's ?before=).
// * Nothing typed is lost: a message shows at once as "Sending…" with a client_id that stays
//   the same for every attempt (the server stores it once); unanswered after 10 s or refused,
//   it shows "Not sent" with the reason, Retry and Discard. Messages typed while disconnected
//   are sent when the socket is back; unsent messages and the draft survive a reload
//   (sessionStorage): the outbox shared with the stream-room chat (fair/js/outbox.js). A failed
//   upload or quote leaves what was typed where it was.
// * Safety: everything from the server is written with textContent; links are built with DOM
//   APIs and only for http(s) URLs.
// * Screen readers: the log is not a live region; a polite region summarises the other side's
//   new messages at most once every few seconds; errors about one's own actions are announced.

import { newClientId, Outbox } from "../../fair/js/outbox.js";
import { CLOSE_SIGN_IN, CLOSE_TOO_MANY, negoSocket } from "./socket.js";

export { newClientId } from "../../fair/js/outbox.js";
export { backoffDelay } from "./socket.js";

const ACK_TIMEOUT_MS = 10000;
const GAP_WAIT_MS = 2000;
const RESUME_RETRY_MS = 5000;
const TYPING_EVERY_MS = 2000;
const TYPING_SHOW_MS = 5000;
const READ_DELAY_MS = 300;
const ANNOUNCE_EVERY_MS = 4000;
const ANNOUNCE_BODY_CHARS = 140;
const BOTTOM_SLACK_PX = 48;
const TOP_LOAD_PX = 24;
const STORAGE_PREFIX = "cloudfair.nego.";
const QUOTE_STATUSES = new Set(["open", "accepted", "declined", "superseded", "expired"]);
const ROOM_STATUSES = new Set(["open", "agreed", "closed"]);
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

// --- Small helpers ----------------------------------------------------------------------------

export function fillText(template, values = {}) {
  return String(template).replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING_PUNCTUATION = /[.,;:!?'"»”’…)]$/u;

// The body as text nodes, with http(s) URLs as links built with DOM APIs (nothing is parsed as
// HTML); other schemes stay plain text.
export function linkify(body) {
  const fragment = document.createDocumentFragment();
  const source = String(body ?? "");
  let last = 0;
  for (const match of source.matchAll(URL_PATTERN)) {
    let candidate = match[0];
    while (TRAILING_PUNCTUATION.test(candidate)) candidate = candidate.slice(0, -1);
    let url = null;
    try {
      url = new URL(candidate);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    if (match.index > last) fragment.append(source.slice(last, match.index));
    const link = document.createElement("a");
    link.href = url.href;
    link.rel = "nofollow noopener noreferrer";
    link.target = "_blank";
    link.textContent = candidate;
    fragment.append(link);
    last = match.index + candidate.length;
  }
  if (last < source.length) fragment.append(source.slice(last));
  return fragment;
}

function el(tag, className = "", textContent = null) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (textContent !== null) element.textContent = textContent;
  return element;
}

function isSeq(value) {
  return Number.isInteger(value) && value > 0;
}

function clip(value, length) {
  const textValue = String(value ?? "").replace(/\s+/g, " ").trim();
  return textValue.length > length ? `${textValue.slice(0, length - 1)}…` : textValue;
}

function capitalised(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : "";
}

// --- The room ---------------------------------------------------------------------------------

class NegotiationRoom {
  constructor(root) {
    this.root = root;
    root.negoRoom = this; // for scripts and browser tests of the page
    const data = root.dataset;
    this.id = Number(data.negotiation);
    this.side = data.side;
    this.viewer = Number(data.viewer);
    this.status = data.status;
    this.csrf = data.csrf || "";
    this.lang = document.documentElement.lang || "en";
    this.defaultLanguage = data.defaultLanguage || this.lang;
    this.maxLength = Number(data.maxLength) || 5000;
    this.maxUpload = Number(data.maxUpload) || 20 * 1024 * 1024;
    this.extensions = (data.extensions || "")
      .split(",")
      .map((ext) => ext.trim().replace(/^\./, "").toLowerCase())
      .filter(Boolean);
    this.formatters(data.zone || undefined);

    const find = (selector) => root.querySelector(selector);
    this.find = find;
    this.scroller = find("[data-nego-scroll]");
    this.log = find("[data-nego-log]");
    this.emptyNote = find("[data-nego-empty]");
    this.earlierButton = find("[data-nego-earlier]");
    this.newButton = find("[data-nego-new]");
    this.typingLine = find("[data-nego-typing]");
    this.statusLine = find("[data-nego-status]");
    this.announcer = find("[data-nego-announcer]");
    this.compose = find("[data-nego-compose]");
    this.input = find("[data-nego-input]");
    this.fileInput = find("[data-nego-file]");
    this.uploadBox = find("[data-nego-upload]");
    this.uploadName = find("[data-nego-upload-name]");
    this.uploadProgress = find("[data-nego-upload-progress]");
    this.uploadError = find("[data-nego-upload-error]");
    this.quoteBox = find("[data-nego-quote-box]");
    this.quoteDetails = find("[data-nego-quote-details]");
    this.quoteForm = find("[data-nego-quote-form]");
    this.quoteError = find("[data-nego-quote-error]");
    this.quotePreview = find("[data-nego-quote-preview]");
    this.quoteMode = find("[data-nego-quote-mode]");
    this.intentsBox = find("[data-nego-intents]");
    this.intentList = find("[data-nego-intent-list]");
    this.templates = {
      quote: find("template[data-nego-quote-template]"),
      failed: find("template[data-nego-failed-template]"),
    };

    this.bySeq = new Map(); // seq -> <li>
    this.contiguous = Number(data.lastSeq) || 0; // nothing is missing up to here
    this.ahead = new Set();
    this.gapTimer = null;
    this.lowest = null;
    this.moreBefore = false;
    this.loadingEarlier = false;
    this.otherRead = Number(data.otherRead) || 0;
    this.myRead = Number(data.myRead) || 0;
    this.readSent = this.myRead;
    this.readTimer = null;
    this.outbox = new Outbox({
      prefix: "nego",
      root,
      log: this.log,
      input: this.input,
      failedTemplate: this.templates.failed,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      maxLength: this.maxLength,
      text: (key, values) => this.text(key, values),
      announce: (message) => this.announce(message),
      send: (payload) => this.send(payload),
      frame: (entry) => ({
        type: "nego.send",
        negotiation: this.id,
        client_id: entry.clientId,
        body: entry.body,
      }),
      fill: (item, entry) => this.fillPending(item, entry),
      home: () => this.input || this.scroller,
      beforeAppend: () => {
        this.beginChange();
        this.forceBottom = true;
      },
      afterChange: () => this.updateEmpty(),
      storageKey: () => `${STORAGE_PREFIX}${this.id}.${this.viewer}`, // per room and account
    });
    this.quotes = new Map(); // quote id -> latest quote JSON
    this.intentIds = new Set();
    this.seenMark = null;
    this.typingTimer = null;
    this.typedAt = 0;
    this.announceQueue = [];
    this.announceTimer = null;
    this.lastAnnounced = 0;
    this.statusTimer = null;
    this.flushScheduled = false;
    this.wasAtBottom = true;
    this.forceBottom = false;
    this.appended = 0;
    this.unseen = 0;
    this.upload = null;
    this.quoteAttempt = null; // {signature, clientId} of a quote whose answer was lost
    this.readOnly = data.readOnly === "1"; // the exhibitor is suspended

    this.connection = negoSocket(data.wsPath || "/ws/negotiations/");
  }

  // --- Set-up ----------------------------------------------------------------------------------

  start() {
    const initial = this.initialData();
    this.beginChange();
    this.forceBottom = true;
    for (const message of initial.messages) this.acceptMessage(message, { live: false });
    this.moreBefore = Boolean(initial.more_before);
    this.noteLowest(initial.messages);
    for (const intent of initial.intents) this.addIntent(intent, intent.version);
    this.updateEarlier();
    this.updateSeen();
    this.wireCompose();
    this.wireLog();
    this.wireUpload();
    this.wireQuoteForm();
    if (this.outbox.restore()) this.showStatus(this.text("textDraftRestored"), { error: false });
    this.renderStatus(false);
    document.addEventListener("visibilitychange", () => this.scheduleRead());
    window.addEventListener("focus", () => this.scheduleRead());
    this.connection.subscribe({
      onOpen: () => this.onOpen(),
      onClose: (code) => this.onClose(code),
      onFrame: (frame) => this.onFrame(frame),
    });
  }

  initialData() {
    const node = document.getElementById("nego-initial");
    let data = null;
    try {
      data = JSON.parse(node ? node.textContent : "null");
    } catch {
      data = null;
    }
    return {
      messages: Array.isArray(data?.messages) ? data.messages : [],
      more_before: Boolean(data?.more_before),
      intents: Array.isArray(data?.intents) ? data.intents : [],
    };
  }

  formatters(zone) {
    const make = (options) => {
      try {
        return new Intl.DateTimeFormat(this.lang, { timeZone: zone, ...options });
      } catch {
        return new Intl.DateTimeFormat(undefined, options);
      }
    };
    this.timeFormat = make({ hour: "2-digit", minute: "2-digit" });
    this.dayTimeFormat = make({ dateStyle: "medium", timeStyle: "short" });
    this.dayFormat = make({ year: "numeric", month: "2-digit", day: "2-digit" });
    this.fullFormat = make({ dateStyle: "full", timeStyle: "long" });
  }

  text(key, values = {}) {
    return fillText(this.root.dataset[key] || "", values);
  }

  send(payload) {
    return this.connection.send(payload);
  }

  // --- The socket ------------------------------------------------------------------------------

  onOpen() {
    // Nothing to do until the server says it is ready ("nego.ready"): then the user's group is
    // joined and a resume cannot miss anything.
  }

  onClose(code) {
    this.root.dataset.negoState = "reconnecting";
    this.outbox.hold();
    if (code === CLOSE_SIGN_IN) {
      this.showStatus(this.text("textSignedOut"), { sticky: true });
    } else if (code === CLOSE_TOO_MANY) {
      this.showStatus(this.text("textTooMany"), { sticky: true });
    } else if (this.connection.attempt >= 1) {
      this.showStatus(this.text("textReconnecting"), { sticky: true });
    }
  }

  onReady() {
    this.clearStickyStatus();
    this.askResume();
    this.outbox.resend();
    this.root.dataset.negoState = "ready";
    this.scheduleRead();
  }

  onFrame(frame) {
    if (frame.type === "nego.ready") {
      this.onReady();
      return;
    }
    if (frame.type === "pong") return;
    if (frame.type === "error") {
      this.onError(frame);
      return;
    }
    if (frame.negotiation !== this.id) return; // another room of this user
    switch (frame.type) {
      case "nego.message":
        this.beginChange();
        this.acceptMessage(frame, { live: true });
        this.checkGap();
        this.scheduleRead();
        break;
      case "nego.history":
        this.onHistory(frame);
        break;
      case "nego.ack":
        this.onAck(frame);
        break;
      case "nego.quote":
        if (frame.quote) this.updateQuote(frame.quote, { announce: true });
        break;
      case "nego.read":
        this.onRead(frame);
        break;
      case "nego.status":
        if (ROOM_STATUSES.has(frame.status) && frame.status !== this.status) {
          this.status = frame.status;
          this.renderStatus(true);
        }
        break;
      case "nego.assigned":
        this.onAssigned(frame.assigned_to);
        break;
      case "nego.typing":
        this.showTyping(frame.name);
        break;
      default:
        break;
    }
  }

  onHistory(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    this.beginChange();
    for (const message of messages) this.acceptMessage(message, { live: true });
    if (frame.complete === false) this.askResume();
    this.checkGap();
    this.scheduleRead();
  }

  onError(frame) {
    if (frame.negotiation !== undefined && frame.negotiation !== this.id) return;
    const reason = this.errorText(frame);
    if (frame.code === "read_only") this.becomeReadOnly();
    const entry = frame.client_id ? this.outbox.get(frame.client_id) : undefined;
    if (entry) {
      this.outbox.fail(entry, reason, frame.code || "error");
      return;
    }
    if (frame.client_id) return; // about a message already settled or discarded
    this.showStatus(reason);
  }

  errorText(frame) {
    switch (frame.code) {
      case "rate_limited":
        return this.text("textErrorRateLimited", {
          seconds: Math.max(1, Math.ceil(Number(frame.retry_after) || 1)),
        });
      case "closed":
        return this.text("textErrorClosed");
      case "exhibitor_unavailable":
        return this.text("textErrorUnavailable");
      case "read_only":
        return this.text("textErrorReadOnly");
      case "not_found":
        return this.text("textErrorNotFound");
      case "invalid":
        return this.text("textErrorInvalid");
      case "server_error":
        return this.text("textErrorServer");
      default:
        return this.text("textErrorOther", { detail: frame.detail || frame.code || "" });
    }
  }

  // --- Contiguity ------------------------------------------------------------------------------

  noteSeq(seq) {
    if (seq <= this.contiguous) return;
    this.ahead.add(seq);
    while (this.ahead.has(this.contiguous + 1)) {
      this.contiguous += 1;
      this.ahead.delete(this.contiguous);
    }
  }

  // A gap (a seq above contiguous+1 arrived) that stays open for GAP_WAIT_MS is asked for.
  checkGap() {
    if (this.ahead.size === 0) {
      window.clearTimeout(this.gapTimer);
      this.gapTimer = null;
      return;
    }
    if (this.gapTimer === null) {
      this.gapTimer = window.setTimeout(() => this.onGapTimeout(), GAP_WAIT_MS);
    }
  }

  onGapTimeout() {
    this.gapTimer = null;
    if (this.ahead.size === 0) return;
    this.askResume();
    this.gapTimer = window.setTimeout(() => this.onGapTimeout(), RESUME_RETRY_MS);
  }

  askResume() {
    this.send({ type: "nego.resume", negotiation: this.id, after: this.contiguous });
  }

  // --- Messages --------------------------------------------------------------------------------

  isMine(message) {
    return Boolean(message.author && Number(message.author.id) === this.viewer);
  }

  acceptMessage(message, { live }) {
    if (!message || !isSeq(message.seq)) return;
    const seq = message.seq;
    this.noteSeq(seq);
    if (message.quote) this.rememberQuote(message.quote);
    const mine = this.isMine(message);
    const entry = mine && message.client_id ? this.outbox.get(message.client_id) : undefined;
    const existing = this.bySeq.get(seq);
    if (existing && !entry) return; // already shown
    const item = this.renderMessage(message);
    if (entry) {
      this.outbox.settle(entry);
      entry.li.remove();
    }
    if (existing) {
      existing.replaceWith(item);
      this.bySeq.set(seq, item);
    } else {
      this.insertBySeq(item, seq);
      if (live && !mine) {
        this.appended += 1;
        if (message.kind !== "system") {
          this.queueAnnouncement(message);
          this.hideTyping(); // they sent what they were typing
        }
      }
    }
    if (live && message.kind === "system" && this.lang !== this.defaultLanguage) {
      this.localise(seq);
    }
    this.updateSeen();
  }

  renderMessage(message) {
    const mine = this.isMine(message);
    const item = el("li", "nego-msg");
    item.dataset.seq = String(message.seq);
    item.dataset.kind = message.kind || "text";
    item.dataset.side = message.side || "";
    if (message.kind === "system") {
      item.classList.add("is-system");
      const body = el("p", "nego-system-text");
      body.dir = "auto";
      body.textContent = String(message.body || "");
      const time = el("time", "nego-time");
      item.append(body, time);
      this.setTime(item, message.sent_at);
      return item;
    }
    if (mine) item.classList.add("is-own");
    if (message.side) item.classList.add(`is-${message.side}`);
    item.append(this.messageHead(message, mine));
    if (message.kind === "attachment" && message.attachment) {
      item.append(this.attachmentBlock(message.attachment));
    }
    if (message.kind === "quote" && message.quote) {
      const card = this.quoteCard(message.quote);
      if (card) item.append(card);
    }
    if (message.body && message.kind !== "quote") {
      const body = el("p", "nego-body");
      body.dir = "auto";
      body.append(linkify(message.body));
      item.append(body);
    }
    this.setTime(item, message.sent_at);
    return item;
  }

  messageHead(message, mine) {
    const head = el("p", "nego-msg-head");
    const name = el("span", "nego-author", mine ? this.text("textYou") : message.author?.name || "");
    name.dir = "auto";
    head.append(name);
    if (!mine && message.side) {
      const label =
        message.side === "exhibitor"
          ? this.root.dataset.labelExhibitor || ""
          : this.text("textSideBuyer");
      const badge = el("span", `badge nego-side nego-side-${message.side}`, label);
      badge.dir = "auto";
      head.append(" ", badge);
    }
    head.append(" ", el("time", "nego-time"));
    return head;
  }

  attachmentBlock(attachment) {
    const box = el("p", "nego-attachment");
    const thumbnail = this.thumbnail(attachment);
    const link = el("a", "nego-attachment-link", String(attachment.name || ""));
    link.href = String(attachment.url || "");
    link.setAttribute("download", "");
    link.dir = "auto";
    link.title = this.text("textDownload", { name: attachment.name || "" });
    const size = el("span", "nego-attachment-size hint", this.formatSize(attachment.size));
    box.append(el("span", "nego-attachment-icon", "📎"), " ", link, " ", size);
    box.firstChild.setAttribute("aria-hidden", "true");
    if (thumbnail) {
      const figure = el("div", "nego-attachment-image");
      figure.append(thumbnail, box);
      return figure;
    }
    return box;
  }

  // An image (PNG, JPEG, WebP) shows as a lazy-loaded thumbnail that opens full size: both
  // through the permission-checked preview URL, which serves verified images inline only.
  thumbnail(attachment) {
    const template = this.root.dataset.previewUrl || "";
    const id = Number(attachment.id);
    if (!IMAGE_TYPES.has(attachment.content_type) || !template || !isSeq(id)) return null;
    const url = template.replace(/\/0\/preview\/$/, `/${id}/preview/`);
    const name = String(attachment.name || "");
    const link = el("a", "nego-thumb-link");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-label", this.text("textOpenImage", { name }));
    link.dataset.testid = "attachment-thumbnail";
    const image = el("img", "nego-thumb");
    image.loading = "lazy";
    image.decoding = "async";
    image.alt = name;
    image.src = url;
    link.append(image);
    return link;
  }

  formatSize(bytes) {
    const value = Number(bytes) || 0;
    const [amount, unit] =
      value >= 1024 * 1024 ? [value / (1024 * 1024), "megabyte"] : [value / 1024, "kilobyte"];
    try {
      return new Intl.NumberFormat(this.lang, {
        style: "unit",
        unit,
        maximumFractionDigits: 1,
      }).format(amount);
    } catch {
      return `${amount.toFixed(1)} ${unit === "megabyte" ? "MB" : "kB"}`;
    }
  }

  setTime(item, iso) {
    const time = item.querySelector(".nego-time");
    const date = new Date(iso);
    if (!time || !iso || Number.isNaN(date.getTime())) return;
    time.dateTime = iso;
    const sameDay = this.dayFormat.format(date) === this.dayFormat.format(new Date());
    time.textContent = sameDay ? this.timeFormat.format(date) : this.dayTimeFormat.format(date);
    time.title = this.fullFormat.format(date);
  }

  insertBySeq(item, seq) {
    this.bySeq.set(seq, item);
    // Confirmed messages in seq order; one's own unconfirmed ones stay at the end.
    let before = this.log.querySelector("li.is-pending");
    let node = before ? before.previousElementSibling : this.log.lastElementChild;
    while (node && !(node.dataset.seq && Number(node.dataset.seq) < seq)) {
      before = node;
      node = node.previousElementSibling;
    }
    this.log.insertBefore(item, before);
    this.updateEmpty();
  }

  noteLowest(messages) {
    for (const message of messages) {
      if (isSeq(message.seq) && (this.lowest === null || message.seq < this.lowest)) {
        this.lowest = message.seq;
      }
    }
  }

  updateEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.log.childElementCount > 0;
  }

  // System messages are broadcast in the fair's language; a reader of another language gets
  // the same sentence in theirs from the API (which renders in the reader's language).
  async localise(seq) {
    try {
      const data = await this.getJson(`${this.root.dataset.messagesUrl}?after=${seq - 1}&limit=1`);
      const message = (data.messages || []).find((m) => m.seq === seq);
      const item = this.bySeq.get(seq);
      const body = item?.querySelector(".nego-system-text");
      if (message && body) body.textContent = String(message.body || "");
    } catch {
      // the fair's language stays: still readable
    }
  }

  // --- "Seen" and read markers -----------------------------------------------------------------

  // "Seen" goes under the newest message of the reader's side that the other side has read.
  updateSeen() {
    let target = null;
    for (const [seq, item] of this.bySeq) {
      if (item.dataset.side !== this.side || item.dataset.kind === "system") continue;
      if (seq <= this.otherRead && (!target || seq > Number(target.dataset.seq))) target = item;
    }
    if (!target) {
      this.seenMark?.remove();
      return;
    }
    if (!this.seenMark) {
      this.seenMark = el("p", "nego-seen", this.text("textSeen"));
      this.seenMark.dataset.testid = "seen";
    }
    if (this.seenMark.parentElement !== target) target.append(this.seenMark);
  }

  onRead(frame) {
    const seq = Number(frame.seq) || 0;
    if (frame.side === this.side) {
      this.myRead = Math.max(this.myRead, seq);
      this.readSent = Math.max(this.readSent, seq);
      return;
    }
    if (seq > this.otherRead) {
      this.otherRead = seq;
      this.updateSeen();
    }
  }

  scheduleRead() {
    window.clearTimeout(this.readTimer);
    this.readTimer = window.setTimeout(() => this.markRead(), READ_DELAY_MS);
  }

  markRead() {
    if (document.visibilityState !== "visible") return;
    const seq = this.contiguous;
    if (seq > this.readSent && this.send({ type: "nego.read", negotiation: this.id, seq })) {
      this.readSent = seq;
    }
  }

  // --- Typing ----------------------------------------------------------------------------------

  showTyping(name) {
    if (!this.typingLine) return;
    this.typingLine.textContent = this.text("textTyping", { name: name || "" });
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
  }

  hideTyping() {
    window.clearTimeout(this.typingTimer);
    if (this.typingLine) this.typingLine.textContent = "";
  }

  // --- Scrolling -------------------------------------------------------------------------------

  atBottom() {
    const box = this.scroller;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.unseen = 0;
    this.newButton.hidden = true;
  }

  beginChange() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.wasAtBottom = this.atBottom();
    queueMicrotask(() => this.flush());
  }

  flush() {
    this.flushScheduled = false;
    if (this.forceBottom || this.wasAtBottom) {
      this.scrollToBottom();
    } else if (this.appended > 0) {
      this.unseen += this.appended;
      this.newButton.textContent =
        this.unseen > 1
          ? this.text("textNewMessagesCount", { count: this.unseen })
          : this.text("textNewMessages");
      this.newButton.hidden = false;
    }
    this.forceBottom = false;
    this.appended = 0;
    this.updateEmpty();
  }

  updateEarlier() {
    this.earlierButton.hidden = !(this.moreBefore && this.lowest !== null);
  }

  async getJson(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async loadEarlier() {
    if (this.loadingEarlier || !this.moreBefore || this.lowest === null) return;
    this.loadingEarlier = true;
    this.earlierButton.disabled = true;
    this.earlierButton.setAttribute("aria-busy", "true");
    let data = null;
    try {
      data = await this.getJson(`${this.root.dataset.messagesUrl}?before=${this.lowest}`);
    } catch {
      this.showStatus(this.text("textLoadFailed"));
    }
    this.loadingEarlier = false;
    this.earlierButton.disabled = false;
    this.earlierButton.removeAttribute("aria-busy");
    if (!data) return;
    const messages = Array.isArray(data.messages) ? data.messages : [];
    const box = this.scroller;
    const fromBottom = box.scrollHeight - box.scrollTop;
    const hadFocus = this.earlierButton === document.activeElement;
    for (const message of messages) {
      if (!isSeq(message.seq) || this.bySeq.has(message.seq)) continue;
      if (message.quote) this.rememberQuote(message.quote);
      this.insertBySeq(this.renderMessage(message), message.seq);
    }
    this.noteLowest(messages);
    this.moreBefore = Boolean(data.more_before);
    box.scrollTop = box.scrollHeight - fromBottom; // the reader's view stays where it was
    this.updateEarlier();
    this.updateSeen();
    if (hadFocus && this.earlierButton.hidden) this.scroller.focus();
  }

  wireLog() {
    this.earlierButton.addEventListener("click", () => this.loadEarlier());
    this.scroller.addEventListener(
      "scroll",
      () => {
        if (this.atBottom()) {
          this.unseen = 0;
          this.newButton.hidden = true;
        }
        if (this.scroller.scrollTop < TOP_LOAD_PX && this.moreBefore) this.loadEarlier();
      },
      { passive: true },
    );
    this.newButton.addEventListener("click", () => {
      this.scrollToBottom();
      this.scroller.focus();
    });
    this.log.addEventListener("click", (event) => this.onLogClick(event));
  }

  onLogClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || this.outbox.act(button)) return;
    const card = button.closest("[data-quote-card]");
    if (card) this.onQuoteAction(card, button.dataset.action);
  }

  // --- Sending text ----------------------------------------------------------------------------

  wireCompose() {
    if (!this.compose) return;
    this.compose.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter is a new line; Enter while an input method composes belongs
      // to the input method.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.outbox.save();
      const now = Date.now();
      if (this.input.value.trim() && now - this.typedAt >= TYPING_EVERY_MS) {
        if (this.send({ type: "nego.typing", negotiation: this.id })) this.typedAt = now;
      }
    });
  }

  submit() {
    const body = this.input.value.trim();
    if (!body) {
      this.showStatus(this.text("textEmptyBody"));
      this.input.focus();
      return;
    }
    if (body.length > this.maxLength) {
      this.showStatus(this.text("textTooLong", { max: this.maxLength }));
      return;
    }
    const entry = this.outbox.add(this.outbox.create(newClientId(), body));
    this.input.value = "";
    this.outbox.transmit(entry);
    this.outbox.save();
  }

  fillPending(item, entry) {
    item.dataset.side = this.side;
    item.append(this.messageHead({ side: this.side }, true));
    const body = el("p", "nego-body");
    body.dir = "auto";
    body.append(linkify(entry.body));
    item.append(body);
  }

  onAck(frame) {
    const entry = this.outbox.get(frame.client_id);
    if (!entry || !isSeq(frame.seq)) return;
    this.beginChange();
    this.outbox.settle(entry);
    if (this.bySeq.has(frame.seq)) {
      entry.li.remove(); // its broadcast is already shown
    } else {
      const item = this.renderMessage({
        seq: frame.seq,
        client_id: entry.clientId,
        kind: "text",
        side: this.side,
        author: { id: this.viewer, name: "" },
        body: entry.body,
        sent_at: frame.sent_at,
      });
      entry.li.remove();
      this.insertBySeq(item, frame.seq);
      this.forceBottom = true;
    }
    this.noteSeq(frame.seq);
    this.checkGap();
    this.updateSeen();
    this.scheduleRead();
  }

  // --- Attachments -----------------------------------------------------------------------------

  wireUpload() {
    if (!this.fileInput) return;
    this.fileInput.addEventListener("change", () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      if (file) this.startUpload(file);
    });
    this.find("[data-nego-upload-cancel]")?.addEventListener("click", () => {
      if (this.upload) this.upload.xhr.abort();
    });
  }

  uploadRefusal(file) {
    const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
    if (this.extensions.length && !this.extensions.includes(extension)) {
      return this.text("textUploadType");
    }
    if (file.size > this.maxUpload) return this.text("textUploadTooBig");
    return "";
  }

  startUpload(file) {
    if (this.upload) return;
    const name = file.name;
    this.uploadError.textContent = "";
    const refusal = this.uploadRefusal(file);
    if (refusal) {
      this.uploadFailed(name, refusal);
      return;
    }
    // The same file again after a lost answer keeps its client_id: stored at most once.
    const signature = `${name}|${file.size}|${file.lastModified}`;
    const clientId =
      this.lastUpload && this.lastUpload.signature === signature
        ? this.lastUpload.clientId
        : newClientId();
    this.lastUpload = { signature, clientId };
    const form = new FormData();
    form.append("client_id", clientId);
    form.append("file", file, name);
    const xhr = new XMLHttpRequest();
    this.upload = { xhr, name };
    this.uploadName.textContent = this.text("textUploading", { name });
    this.uploadProgress.value = 0;
    this.uploadBox.hidden = false;
    xhr.open("POST", this.root.dataset.attachmentUrl);
    xhr.setRequestHeader("X-CSRFToken", this.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        this.uploadProgress.value = Math.round((event.loaded / event.total) * 100);
      }
    });
    xhr.addEventListener("load", () => this.uploadDone(xhr, name));
    xhr.addEventListener("error", () => this.uploadFailed(name, this.text("textUploadNetwork")));
    xhr.addEventListener("abort", () => this.uploadFailed(name, this.text("textUploadNetwork")));
    xhr.send(form);
  }

  uploadDone(xhr, name) {
    const data = xhr.response && typeof xhr.response === "object" ? xhr.response : {};
    if (xhr.status === 200 || xhr.status === 201) {
      this.upload = null;
      this.lastUpload = null;
      this.uploadBox.hidden = true;
      this.fileInput.value = "";
      if (data.message) {
        this.beginChange();
        this.forceBottom = true;
        this.acceptMessage(data.message, { live: false });
        this.checkGap();
      }
      this.announce(this.text("textUploadDone", { name }));
      return;
    }
    this.uploadFailed(name, this.apiErrorText(xhr.status, data, "file"));
  }

  uploadFailed(name, reason) {
    this.upload = null;
    this.uploadBox.hidden = true;
    if (this.fileInput) this.fileInput.value = "";
    const message = this.text("textUploadFailed", { name, reason });
    this.uploadError.textContent = message;
    this.announce(message);
  }

  // A refusal of the API in plain words: a rule ({detail, code}) or field messages.
  apiErrorText(status, data, field = null) {
    if (status === 404) return this.text("textErrorNotFound");
    if (data && typeof data === "object") {
      if (data.code === "rate_limited") return this.errorText(data);
      if (data.code === "closed") return this.text("textErrorClosed");
      if (data.code === "read_only") {
        this.becomeReadOnly();
        return this.text("textErrorReadOnly");
      }
      if (typeof data.detail === "string") return data.detail;
      const messages = [];
      for (const key of [field, "non_field_errors", ...Object.keys(data)]) {
        if (key && Array.isArray(data[key])) messages.push(...data[key].map(String));
      }
      if (messages.length) return Array.from(new Set(messages)).join(" ");
    }
    if (!status) return this.text("textNotConnected");
    return this.text("textErrorServer");
  }

  async postJson(url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": this.csrf,
        },
        body: JSON.stringify(payload ?? {}),
      });
    } catch {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  }

  // --- Quotes ----------------------------------------------------------------------------------

  rememberQuote(quote) {
    if (quote && Number.isInteger(quote.id)) this.quotes.set(quote.id, quote);
  }

  money(amount, currency, maxDigits = 2) {
    const value = Number(amount);
    try {
      return new Intl.NumberFormat(this.lang, {
        style: "currency",
        currency,
        minimumFractionDigits: 2,
        maximumFractionDigits: Math.max(2, maxDigits),
      }).format(value);
    } catch {
      return `${amount} ${currency}`;
    }
  }

  number(amount, maxDigits = 3) {
    try {
      return new Intl.NumberFormat(this.lang, { maximumFractionDigits: maxDigits }).format(
        Number(amount),
      );
    } catch {
      return String(amount);
    }
  }

  days(count) {
    let category = "other";
    try {
      category = new Intl.PluralRules(this.lang).select(count);
    } catch {
      category = count === 1 ? "one" : "other";
    }
    const key = category === "one" ? "textDaysOne" : "textDaysOther";
    return this.text(key, { days: count });
  }

  quoteCard(quote) {
    const template = this.templates.quote;
    if (!template) return null;
    const card = template.content.firstElementChild.cloneNode(true);
    this.fillQuote(card, quote);
    return card;
  }

  fillQuote(card, quote) {
    const set = (name, value) => {
      const node = card.querySelector(`[data-q="${name}"]`);
      if (node) node.textContent = value;
      return node;
    };
    const row = (name, shown) => {
      const node = card.querySelector(`[data-q-row="${name}"]`);
      if (node) node.hidden = !shown;
    };
    const status = QUOTE_STATUSES.has(quote.status) ? quote.status : "open";
    card.dataset.quoteId = String(quote.id);
    card.dataset.status = status;
    card.dataset.side = quote.side;
    set("title", this.text("textQuoteTitle", { version: quote.version }));
    set(
      "by",
      quote.side === "buyer"
        ? this.text("textQuoteByBuyer")
        : this.text("textQuoteByExhibitor", { company: this.root.dataset.labelExhibitor || "" }),
    );
    const badge = set("status", this.text(`textQuote${capitalised(status)}`));
    badge.className = `badge nego-quote-status nego-quote-status-${status}`;
    set("product", String(quote.product_text || ""));
    set("quantity", `${this.number(quote.quantity, 3)} ${quote.unit || ""}`.trim());
    set("unit_price", this.money(quote.unit_price, quote.currency, 4));
    set("total", this.money(quote.total, quote.currency, 2));
    set("incoterm", String(quote.incoterm || ""));
    set("port", String(quote.port || ""));
    row("port", Boolean(quote.port));
    const lead = Number.isInteger(quote.lead_time_days) ? quote.lead_time_days : null;
    set("lead_time", lead === null ? "" : this.days(lead));
    row("lead_time", lead !== null);
    set("payment_terms", String(quote.payment_terms || ""));
    row("payment_terms", Boolean(quote.payment_terms));
    set("sample_terms", String(quote.sample_terms || ""));
    row("sample_terms", Boolean(quote.sample_terms));
    const validNode = card.querySelector('[data-q="valid_until"]');
    validNode.replaceChildren();
    const valid = new Date(quote.valid_until);
    if (!Number.isNaN(valid.getTime())) {
      const time = el("time", "", this.dayTimeFormat.format(valid));
      time.dateTime = quote.valid_until;
      time.title = this.fullFormat.format(valid);
      validNode.append(time);
    }
    const intent = card.querySelector('[data-q="intent"]');
    if (quote.intent) {
      intent.textContent = this.text("textIntent", {
        total: this.money(quote.intent.total, quote.intent.currency),
      });
      intent.hidden = false;
    } else {
      intent.hidden = true;
    }
    const decidable =
      status === "open" &&
      this.status !== "closed" &&
      !this.readOnly &&
      !(valid.getTime() <= Date.now());
    const theirs = quote.side !== this.side;
    const actions = card.querySelector('[data-q="actions"]');
    const hadFocus = card.contains(document.activeElement);
    actions.hidden = !decidable;
    for (const button of actions.querySelectorAll("button[data-action]")) {
      const own = button.dataset.action === "revise";
      button.hidden = own ? theirs : !theirs;
    }
    if (!decidable) card.querySelector('[data-q="confirm"]').hidden = true;
    if (hadFocus && !card.contains(document.activeElement)) {
      card.tabIndex = -1; // its buttons went away: keep the keyboard on the card
      card.focus();
    }
  }

  updateQuote(quote, { announce = false } = {}) {
    const before = this.quotes.get(quote.id);
    this.beginChange(); // a card that grows keeps a reader at the bottom there
    this.rememberQuote(quote);
    for (const card of this.log.querySelectorAll(`[data-quote-card][data-quote-id="${quote.id}"]`)) {
      this.fillQuote(card, quote);
    }
    if (quote.intent) this.addIntent(quote.intent, quote.version);
    if (!announce || (before && before.status === quote.status)) return;
    if (quote.status === "accepted" && quote.intent) {
      this.announce(
        this.text("textAcceptedAnnounce", {
          total: this.money(quote.intent.total, quote.intent.currency),
        }),
      );
    } else if (quote.status === "declined") {
      this.announce(this.text("textDeclinedAnnounce"));
    }
  }

  addIntent(intent, version) {
    if (!intent || this.intentIds.has(intent.id)) return;
    this.intentIds.add(intent.id);
    const item = el(
      "li",
      "nego-intent",
      this.text("textIntentItem", {
        total: this.money(intent.total, intent.currency),
        version: version ?? "",
      }),
    );
    item.dataset.intent = String(intent.id);
    this.intentList.append(item);
    this.intentsBox.hidden = false;
  }

  async onQuoteAction(card, action) {
    const id = Number(card.dataset.quoteId);
    const quote = this.quotes.get(id);
    const confirm = card.querySelector('[data-q="confirm"]');
    const error = card.querySelector('[data-q="error"]');
    error.textContent = "";
    if (!quote) return;
    if (action === "accept") {
      card.querySelector('[data-q="confirm-text"]').textContent = this.text("textAcceptConfirm", {
        total: this.money(quote.total, quote.currency),
      });
      confirm.hidden = false;
      confirm.querySelector('[data-action="accept-confirm"]').focus();
    } else if (action === "accept-cancel") {
      confirm.hidden = true;
      card.querySelector('[data-action="accept"]').focus();
    } else if (action === "accept-confirm" || action === "decline") {
      const url = (action === "decline" ? this.root.dataset.declineUrl : this.root.dataset.acceptUrl)
        .replace("/0/", `/${id}/`);
      for (const button of card.querySelectorAll("button")) button.disabled = true;
      const answer = await this.postJson(url, {});
      for (const button of card.querySelectorAll("button")) button.disabled = false;
      if (answer.ok && answer.data && answer.data.id === id) {
        confirm.hidden = true;
        this.updateQuote(answer.data, { announce: true });
      } else {
        error.textContent = this.apiErrorText(answer.status, answer.data);
        this.announce(error.textContent);
      }
    } else if (action === "counter" || action === "revise") {
      this.prefillQuote(quote, action);
    }
  }

  // --- The quote form --------------------------------------------------------------------------

  field(name) {
    return this.quoteForm.elements.namedItem(name);
  }

  wireQuoteForm() {
    if (!this.quoteForm) return;
    const product = this.field("product");
    product.addEventListener("change", () => this.onProductChosen());
    for (const name of ["quantity", "unit_price", "currency"]) {
      this.field(name).addEventListener("input", () => this.updatePreview());
    }
    this.quoteDetails.addEventListener("toggle", () => {
      if (this.quoteDetails.open) this.defaultValidity();
    });
    this.find("[data-nego-quote-cancel-counter]")?.addEventListener("click", () => {
      this.setQuoteMode(null);
      this.field("product").focus();
    });
    this.quoteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitQuote();
    });
  }

  defaultValidity() {
    const field = this.field("valid_until");
    const today = new Date();
    const iso = (date) =>
      `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(
        date.getDate(),
      ).padStart(2, "0")}`;
    field.min = iso(today);
    if (!field.value) {
      const later = new Date(today.getTime() + 14 * 24 * 3600 * 1000);
      field.value = iso(later);
    }
  }

  onProductChosen() {
    const option = this.field("product").selectedOptions[0];
    if (!option || !option.value) return;
    const data = option.dataset;
    const text = this.field("product_text");
    if (!text.value.trim() || text.dataset.filled === "1") {
      text.value = data.name || option.textContent;
      text.dataset.filled = "1";
    }
    const fill = (name, value) => {
      const field = this.field(name);
      if (value && !field.value) field.value = value;
    };
    fill("unit", data.unit);
    fill("port", data.port);
    fill("lead_time_days", data.lead);
    if (data.currency) this.field("currency").value = data.currency;
    if (data.incoterm) this.field("incoterm").value = data.incoterm;
    this.updatePreview();
  }

  updatePreview() {
    const quantity = Number(this.field("quantity").value);
    const price = Number(this.field("unit_price").value);
    const currency = this.field("currency").value;
    if (quantity > 0 && price >= 0 && this.field("unit_price").value !== "") {
      const total = Math.round(quantity * price * 100) / 100;
      this.quotePreview.textContent = this.text("textQuoteTotal", {
        total: this.money(total, currency),
      });
    } else {
      this.quotePreview.textContent = "";
    }
  }

  setQuoteMode(quote, action = "counter") {
    this.field("previous").value = quote ? String(quote.id) : "";
    this.quoteMode.hidden = !quote;
    if (quote) {
      const key = action === "revise" ? "textReviseOf" : "textCounterOf";
      this.find("[data-nego-quote-mode-text]").textContent = this.text(key, {
        version: quote.version,
      });
    }
  }

  prefillQuote(quote, action) {
    this.setQuoteMode(quote, action);
    const values = {
      product: quote.product ? String(quote.product) : "",
      product_text: quote.product_text || "",
      quantity: Number(quote.quantity),
      unit: quote.unit || "",
      unit_price: Number(quote.unit_price),
      currency: quote.currency,
      incoterm: quote.incoterm,
      port: quote.port || "",
      lead_time_days: Number.isInteger(quote.lead_time_days) ? quote.lead_time_days : "",
      payment_terms: quote.payment_terms || "",
      sample_terms: quote.sample_terms || "",
    };
    for (const [name, value] of Object.entries(values)) {
      const field = this.field(name);
      if (!field) continue;
      if (name === "product" && !field.querySelector(`option[value="${value}"]`)) {
        field.value = "";
        continue;
      }
      field.value = String(value);
    }
    this.field("product_text").dataset.filled = "";
    this.clearQuoteErrors();
    this.quoteDetails.open = true;
    this.defaultValidity();
    this.updatePreview();
    this.quoteDetails.scrollIntoView({ block: "start", behavior: "smooth" });
    this.field("unit_price").focus();
  }

  clearQuoteErrors() {
    for (const node of this.quoteForm.querySelectorAll("[data-error-for]")) node.textContent = "";
    for (const node of this.quoteForm.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
    }
    this.quoteError.textContent = "";
  }

  quotePayload() {
    const value = (name) => this.field(name).value.trim();
    const date = value("valid_until");
    return {
      previous: value("previous") ? Number(value("previous")) : null,
      product: value("product") ? Number(value("product")) : null,
      product_text: value("product_text"),
      quantity: value("quantity"),
      unit: value("unit"),
      unit_price: value("unit_price"),
      currency: value("currency"),
      incoterm: value("incoterm"),
      port: value("port"),
      lead_time_days: value("lead_time_days") === "" ? null : Number(value("lead_time_days")),
      payment_terms: value("payment_terms"),
      sample_terms: value("sample_terms"),
      // The end of that day in the reader's zone (the server reads a naive time in it).
      valid_until: date ? `${date}T23:59:59` : "",
    };
  }

  async submitQuote() {
    if (this.quoteBusy) return;
    this.clearQuoteErrors();
    const payload = this.quotePayload();
    const signature = JSON.stringify(payload);
    // The same quote again after a lost answer keeps its client_id: stored at most once.
    const clientId =
      this.quoteAttempt && this.quoteAttempt.signature === signature
        ? this.quoteAttempt.clientId
        : newClientId();
    this.quoteAttempt = { signature, clientId };
    const submit = this.find("[data-nego-quote-submit]");
    this.quoteBusy = true;
    submit.disabled = true;
    const answer = await this.postJson(this.root.dataset.quoteUrl, {
      ...payload,
      client_id: clientId,
    });
    this.quoteBusy = false;
    submit.disabled = false;
    if (answer.ok && answer.data && answer.data.message) {
      this.quoteAttempt = null;
      this.beginChange();
      this.forceBottom = true;
      this.acceptMessage(answer.data.message, { live: false });
      this.checkGap();
      this.resetQuoteForm();
      this.showStatus(this.text("textQuoteSent"), { error: false });
      this.announce(this.text("textQuoteSent"));
      return;
    }
    if (answer.status === 400 && answer.data && !answer.data.code) {
      this.quoteAttempt = null; // refused as it is: a corrected quote is a new one
      this.showQuoteErrors(answer.data);
      return;
    }
    if (answer.status >= 400 && answer.status !== 429 && answer.status < 500) {
      this.quoteAttempt = null;
    }
    this.quoteError.textContent = this.apiErrorText(answer.status, answer.data);
    this.announce(this.quoteError.textContent);
  }

  showQuoteErrors(errors) {
    let first = null;
    const general = [];
    for (const [name, messages] of Object.entries(errors)) {
      const list = Array.isArray(messages) ? messages.map(String) : [String(messages)];
      const slot = this.quoteForm.querySelector(`[data-error-for="${name}"]`);
      const field = this.field(name);
      if (slot && field) {
        slot.textContent = list.join(" ");
        field.setAttribute("aria-invalid", "true");
        first = first || field;
      } else {
        general.push(...list);
      }
    }
    this.quoteError.textContent = [this.text("textQuoteCheck"), ...general].join(" ");
    this.announce(this.quoteError.textContent);
    (first || this.field("quantity")).focus();
  }

  resetQuoteForm() {
    const keep = { currency: this.field("currency").value, incoterm: this.field("incoterm").value };
    this.quoteForm.reset();
    this.field("currency").value = keep.currency;
    this.field("incoterm").value = keep.incoterm;
    this.field("product_text").dataset.filled = "";
    this.setQuoteMode(null);
    this.updatePreview();
    this.quoteDetails.open = false;
    this.quoteDetails.querySelector("summary").focus();
  }

  // --- Room status and assignment --------------------------------------------------------------

  renderStatus(announce) {
    const status = this.status;
    this.beginChange();
    this.root.dataset.status = status;
    const badge = this.find("[data-nego-status-badge]");
    if (badge) {
      badge.textContent = this.text(`textStatus${capitalised(status)}`);
      badge.className = `badge nego-status nego-status-${status}`;
    }
    const closed = status === "closed";
    const locked = closed || this.readOnly; // nothing can be written
    const hadFocus = this.compose && this.compose.contains(document.activeElement);
    if (this.compose) this.compose.hidden = locked;
    if (this.quoteBox) this.quoteBox.hidden = locked;
    const note = this.find("[data-nego-closed-note]");
    if (note) note.hidden = !closed || this.readOnly;
    const readOnlyNote = this.find("[data-nego-read-only-note]");
    if (readOnlyNote) readOnlyNote.hidden = !this.readOnly;
    const closeForm = this.find("[data-nego-close-form]");
    const reopenForm = this.find("[data-nego-reopen-form]");
    if (closeForm) closeForm.hidden = closed;
    if (reopenForm) reopenForm.hidden = !closed || this.readOnly;
    const shown = this.readOnly ? readOnlyNote : note;
    if (hadFocus && locked && shown) {
      shown.setAttribute("tabindex", "-1");
      shown.focus();
    }
    for (const card of this.log.querySelectorAll("[data-quote-card]")) {
      const quote = this.quotes.get(Number(card.dataset.quoteId));
      if (quote) this.fillQuote(card, quote);
    }
    if (announce) {
      this.announce(
        this.text("textStatusChanged", { status: this.text(`textStatus${capitalised(status)}`) }),
      );
    }
  }

  // The server refused a write because the exhibitor was suspended meanwhile: the room turns
  // read-only at once (what was typed stays in the list as "Not sent").
  becomeReadOnly() {
    if (this.readOnly) return;
    this.readOnly = true;
    this.root.dataset.readOnly = "1";
    this.renderStatus(false);
  }

  onAssigned(assignee) {
    const select = this.find("[data-nego-assignee]");
    if (select) select.value = assignee ? String(assignee.id) : "";
    const label = this.find("[data-nego-assigned]");
    if (label) label.textContent = assignee ? String(assignee.name || "") : this.text("textNobody");
  }

  // --- Announcements and the status line -------------------------------------------------------

  announce(message) {
    if (!message || !this.announcer) return;
    this.announcer.textContent = "";
    window.setTimeout(() => {
      this.announcer.textContent = message;
    }, 50);
  }

  queueAnnouncement(message) {
    this.announceQueue.push(message);
    if (this.announceTimer !== null) return;
    const wait = Math.max(0, this.lastAnnounced + ANNOUNCE_EVERY_MS - Date.now());
    this.announceTimer = window.setTimeout(() => this.flushAnnouncements(), wait);
  }

  flushAnnouncements() {
    this.announceTimer = null;
    const queue = this.announceQueue;
    this.announceQueue = [];
    if (queue.length === 0) return;
    this.lastAnnounced = Date.now();
    if (queue.length === 1) {
      const [message] = queue;
      const body =
        message.body ||
        message.attachment?.name ||
        (message.quote ? this.text("textQuoteTitle", { version: message.quote.version }) : "");
      this.announce(
        this.text("textAnnounceOne", {
          name: message.author?.name || "",
          body: clip(body, ANNOUNCE_BODY_CHARS),
        }),
      );
    } else {
      this.announce(this.text("textAnnounceMany", { count: queue.length }));
    }
  }

  showStatus(message, { error = true, sticky = false } = {}) {
    this.statusLine.classList.toggle("is-error", error);
    this.statusLine.textContent = message;
    this.statusLine.dataset.sticky = sticky ? "1" : "";
    window.clearTimeout(this.statusTimer);
    if (!sticky) {
      this.statusTimer = window.setTimeout(() => {
        this.statusLine.textContent = "";
      }, 10000);
    }
  }

  clearStickyStatus() {
    if (this.statusLine.dataset.sticky === "1") {
      this.statusLine.textContent = "";
      this.statusLine.dataset.sticky = "";
    }
  }
}

for (const root of document.querySelectorAll("[data-nego-room]")) {
  new NegotiationRoom(root).start();
}
