// The stream room's chat (issue 5), as an ES module. The protocol is in the chat part of the
// room consumer (livestream/consumers.py); this file only speaks it.
//
// It never opens a socket of its own: room.js owns the page's one socket and shares it on the
// room element ([data-room]):
//   root.liveRoom.send(payload) -> bool     false while disconnected
//   root.liveRoom.resumeAfter = () => seq   each reconnect asks for "?after=<seq>"
//   "livestream:frame" {frame}              every frame, batches unpacked, in order
//   "livestream:open" / "livestream:close"  the socket's state
//
// Markup it reads: templates/livestream/_chat.html ([data-chat] with data-can-post,
// data-is-moderator, data-signed-in, data-viewer (the user's id), data-reason,
// data-muted-until, data-slow-mode, data-history-url, data-max-length, data-zone and the
// translated texts data-text-*, plus <template> elements for the per-message menu, the report
// form and the retry buttons). It sets data-chat-state on [data-chat]: "joined" once the
// history of the current connection is in, "reconnecting" while the socket is down.
//
// What it guarantees the reader:
// * Order and completeness: messages are kept ordered by seq, deduplicated by seq; the highest
//   contiguous seq is tracked, a gap that stays open for 2 s is filled with "chat.resume", and
//   every reconnect resumes from it. At most ~500 messages stay in the page; older ones are
//   dropped and come back with "Load earlier messages" (HTTP, chat.history_url?before=).
// * Nothing typed is lost: a message shows at once as "Sending…" with a client_id that stays
//   the same for every attempt (the server stores it once); unanswered after 8 s or refused, it
//   shows "Not sent" with the reason, Retry and Discard. Messages typed while disconnected are
//   sent when the socket reopens. Unsent messages and the draft survive a reload
//   (sessionStorage). That part is the outbox shared with the negotiation room
//   (fair/js/outbox.js).
// * Safety: everything from the server is written with textContent; links are built with DOM
//   APIs and only for http(s) URLs.
// * Screen readers: the log is not a live region (a busy room would drown the reader); a
//   separate polite region summarises new messages at most once every few seconds. Errors
//   about one's own messages are announced at once.

import { newClientId, Outbox } from "../../fair/js/outbox.js";

export { newClientId } from "../../fair/js/outbox.js";

const DOM_LIMIT = 500; // messages kept in the page while the reader follows the chat
const DOM_LIMIT_SCROLLED = 1000; // ... and while they read further up
const ACK_TIMEOUT_MS = 8000;
const GAP_WAIT_MS = 2000;
const RESUME_RETRY_MS = 5000;
const ANNOUNCE_EVERY_MS = 4000;
const ANNOUNCE_BODY_CHARS = 140;
const REACTIONS_PER_SECOND = 5;
const QUESTIONS_REFRESH_MS = 2000;
const BOTTOM_SLACK_PX = 48;
const TOP_LOAD_PX = 24;
const MAX_TIMER_MS = 2147483647; // setTimeout's ceiling (about 24.8 days)
const UNAVAILABLE_RETRIES = 5; // "unavailable" answers resent by themselves before "Not sent"
const BADGES = new Set(["exhibitor", "organiser"]);
const STORAGE_PREFIX = "cloudfair.chat.";

const TEXT_DEFAULTS = {
  textYou: "You",
  textSending: "Sending…",
  textQueued: "Sending… (waiting for the connection)",
  textNotSent: "Not sent.",
  textNoAnswer: "The server did not answer.",
  textErrorRateLimited: "You are sending messages too fast. Try again in {seconds} s.",
  textErrorSlowMode: "Slow mode is on: you can send again in {seconds} s.",
  textErrorMuted: "You are muted in this chat until {time}.",
  textErrorMutedOpen: "You are muted in this chat.",
  textErrorBanned: "You are banned from this chat.",
  textErrorClosed: "The chat is closed: the session is over.",
  textErrorInvalid: "This message cannot be sent: it is empty or too long.",
  textErrorSignIn: "Sign in to chat.",
  textErrorForbidden: "You are not allowed to do that.",
  textErrorOther: "Something went wrong: {detail}",
  textNotConnected: "Not connected. Try again in a moment.",
  textSendFailedAnnounce: "Your message was not sent. {reason}",
  textUnmuted: "You can chat again.",
  textBadgeExhibitor: "Exhibitor",
  textBadgeOrganiser: "Organiser",
  textQuestion: "Question",
  textAnswered: "Answered",
  textActions: "Actions for the message from {name}",
  textBanConfirm: "Ban {name} from this chat?",
  textReportSending: "Sending the report…",
  textReported: "Reported, thank you.",
  textMutedDone: "{name} is muted until {time}.",
  textBannedDone: "{name} is banned from this chat.",
  textAnnounceOne: "{name}: {body}",
  textAnnounceMany: "{count} new messages",
  textNewMessages: "New messages ↓",
  textNewMessagesCount: "{count} new messages ↓",
  textPinnedAnnounce: "Pinned message from {name}: {body}",
  textUnpinnedAnnounce: "The pinned message was removed.",
  textSlowOn: "Slow mode: one message every {seconds} s.",
  textSlowOff: "Slow mode is off.",
  textLoadFailed: "Earlier messages could not be loaded. Try again.",
  textCounter: "{count} of {max} characters",
  textEmptyBody: "Write a message first.",
  textDraftRestored: "Your unsent messages were restored.",
};

// --- Small helpers (exported for reuse and for tests in a browser) ---------------------------

export function fillText(template, values = {}) {
  return String(template).replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING_PUNCTUATION = /[.,;:!?'"»”’…]$/u;

function trimUrl(candidate) {
  let url = candidate;
  for (;;) {
    if (TRAILING_PUNCTUATION.test(url)) {
      url = url.slice(0, -1);
    } else if (url.endsWith(")") && url.split("(").length < url.split(")").length) {
      url = url.slice(0, -1); // "(see https://x.test/a)" keeps its closing bracket outside
    } else {
      return url;
    }
  }
}

// The body as text nodes, with http(s) URLs as links (built with DOM APIs: nothing is parsed
// as HTML). Other schemes (javascript:, data:) stay plain text.
export function linkify(body) {
  const fragment = document.createDocumentFragment();
  const source = String(body ?? "");
  let last = 0;
  for (const match of source.matchAll(URL_PATTERN)) {
    const candidate = trimUrl(match[0]);
    let url = null;
    try {
      url = new URL(candidate);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    if (match.index > last) {
      fragment.append(document.createTextNode(source.slice(last, match.index)));
    }
    const link = document.createElement("a");
    link.href = url.href;
    link.rel = "nofollow noopener noreferrer";
    link.target = "_blank";
    link.textContent = candidate;
    fragment.append(link);
    last = match.index + candidate.length;
  }
  if (last < source.length) fragment.append(document.createTextNode(source.slice(last)));
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

// --- The chat --------------------------------------------------------------------------------

class Chat {
  constructor(section, room) {
    this.section = section;
    this.room = room; // the [data-room] element
    const data = section.dataset;
    this.sessionId = Number(room.dataset.sessionId);
    this.signedIn = data.signedIn === "1";
    this.isModerator = data.isModerator === "1";
    this.canPost = data.canPost === "1";
    this.reason = data.reason || "";
    this.mutedUntil = data.mutedUntil || null;
    this.slowMode = Math.max(0, Number(data.slowMode) || 0);
    this.historyUrl = data.historyUrl || "";
    this.maxLength = Number(data.maxLength) || 1000;
    this.lang = document.documentElement.lang || "en";
    this.formatters(data.zone || undefined);

    this.find = (selector) => section.querySelector(selector);
    this.log = this.find("[data-chat-log]");
    this.scroller = this.find("[data-chat-scroll]");
    this.earlierButton = this.find("[data-chat-earlier]");
    this.newButton = this.find("[data-chat-new]");
    this.emptyNote = this.find("[data-chat-empty]");
    this.statusLine = this.find("[data-chat-status]");
    this.announcer = this.find("[data-chat-announcer]");
    this.form = this.find("[data-chat-form]");
    this.input = this.find("[data-chat-input]");
    this.questionBox = this.find("[data-chat-question]");
    this.counter = this.find("[data-chat-counter]");
    this.signinNote = this.find("[data-chat-signin]");
    this.restrictedNote = this.find("[data-chat-restricted]");
    this.slowNote = this.find("[data-chat-slow]");
    this.slowSelect = this.find("[data-chat-slow-mode]");
    this.pinnedBar = this.find("[data-chat-pinned]");
    this.pinnedBody = this.find("[data-chat-pinned-message]");
    this.questionList = this.find("[data-chat-questions]");
    this.questionsEmpty = this.find("[data-chat-questions-empty]");
    this.questionsCount = this.find("[data-chat-questions-count]");
    this.templates = {
      menu: this.find("template[data-chat-menu-template]"),
      report: this.find("template[data-chat-report-template]"),
      failed: this.find("template[data-chat-failed-template]"),
      question: this.find("template[data-chat-question-template]"),
    };

    // Messages: seq -> <li> in the page; seqs hidden by moderators; contiguity.
    this.bySeq = new Map();
    this.hiddenSeqs = new Set();
    this.contiguous = null; // highest seq up to which nothing is missing (null: no history yet)
    this.ahead = new Set(); // seqs received above this.contiguous
    this.gapTimer = null;
    this.lowest = null; // lowest seq the page has loaded (history before= this)
    this.moreBefore = false;
    this.loadingEarlier = false;
    this.pinnedSeq = null;

    // Own messages not yet acknowledged (entries carry "question", and "unavailable": the
    // server's "try again" answers resent by themselves so far).
    this.outbox = new Outbox({
      prefix: "chat",
      root: section,
      log: this.log,
      input: this.input,
      failedTemplate: this.templates.failed,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      resendCodes: ["timeout", "unavailable"],
      discardFocus: "button, summary",
      maxLength: this.maxLength,
      text: (key, values) => this.text(key, values),
      announce: (message) => this.announce(message),
      send: (payload) => this.send(payload),
      frame: (entry) => ({
        type: "chat.send",
        client_id: entry.clientId,
        body: entry.body,
        question: entry.question,
      }),
      fill: (item, entry) => this.fillPending(item, entry),
      home: () => this.input || this.scroller,
      beforeAppend: () => {
        this.beginChange();
        this.forceBottom = true;
      },
      afterChange: () => this.updateEmpty(),
      storageKey: () => (this.signedIn ? this.storageKey() : null),
      onDraft: () => this.updateCounter(),
      entryFields: (record) => ({ question: Boolean(record.question), unavailable: 0 }),
      savedFields: (entry) => ({ question: entry.question }),
      onRetry: (entry) => {
        entry.unavailable = 0;
      },
    });

    // Rendering batches: several frames arrive in one task (a "batch"); the scroll position is
    // looked at once before and fixed once after.
    this.flushScheduled = false;
    this.wasAtBottom = true;
    this.appended = 0;
    this.unseen = 0;
    this.forceBottom = false;

    this.announceQueue = [];
    this.announceTimer = null;
    this.lastAnnounced = 0;
    this.reactTimes = [];
    this.questionsTimer = null;
    this.questionsAskedAt = 0;
    this.unmuteTimer = null;
    this.statusTimer = null;
  }

  // --- Set-up --------------------------------------------------------------------------------

  start() {
    this.room.addEventListener("livestream:frame", (event) => this.onFrame(event.detail.frame));
    this.room.addEventListener("livestream:open", () => this.onOpen());
    this.room.addEventListener("livestream:close", () => this.onClose());
    const liveRoom = this.room.liveRoom;
    if (liveRoom) liveRoom.resumeAfter = () => this.contiguous;

    this.wireForm();
    this.wireLog();
    this.wireReactions();
    this.wireModeration();
    if (this.outbox.restore()) this.showStatus(this.text("textDraftRestored"), { error: false });
    this.renderCompose();
    this.setSlowMode(this.slowMode, false);
    this.updateEmpty();

    // room.js opens the socket on DOMContentLoaded, after this module has run. Should this
    // module have run late anyway (the socket already open, its first frames gone), the last
    // messages come over HTTP and the gap logic fetches whatever came in between.
    if (liveRoom && typeof liveRoom.isOpen === "function" && liveRoom.isOpen()) {
      this.recoverMissedJoin();
    }
  }

  formatters(zone) {
    const make = (options) => {
      try {
        return new Intl.DateTimeFormat(this.lang, { timeZone: zone, ...options });
      } catch {
        return new Intl.DateTimeFormat(undefined, options); // unknown zone or language tag
      }
    };
    this.timeFormat = make({ hour: "2-digit", minute: "2-digit" });
    this.fullFormat = make({ dateStyle: "full", timeStyle: "long" });
    this.dayFormat = make({ year: "numeric", month: "2-digit", day: "2-digit" });
    this.dayTimeFormat = make({ dateStyle: "medium", timeStyle: "short" });
  }

  text(key, values = {}) {
    return fillText(this.section.dataset[key] || TEXT_DEFAULTS[key] || "", values);
  }

  send(payload) {
    const liveRoom = this.room.liveRoom;
    return Boolean(liveRoom && liveRoom.send(payload));
  }

  // --- Frames --------------------------------------------------------------------------------

  onFrame(frame) {
    if (!frame || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "room.joined":
        if (frame.chat) this.applyJoin(frame.chat);
        break;
      case "chat.history":
        this.onHistory(frame);
        break;
      case "chat.message":
        this.onLiveMessage(frame);
        break;
      case "chat.ack":
        this.onAck(frame);
        break;
      case "error":
        this.onError(frame);
        break;
      case "chat.hidden":
        this.hideSeq(frame.seq);
        break;
      case "chat.unhidden":
        this.unhideMessage(frame.message);
        break;
      case "chat.pinned":
        this.showPinned(frame.message, true);
        break;
      case "chat.answered":
        this.markAnswered(frame.seq);
        break;
      case "chat.slow_mode":
        this.setSlowMode(frame.seconds, true);
        break;
      case "reactions":
        this.showReactions(frame.totals);
        break;
      case "chat.restriction":
        this.onRestriction(frame);
        break;
      case "chat.restricted":
        this.onRestricted(frame);
        break;
      case "chat.questions":
        this.renderQuestions(frame.questions);
        break;
      case "chat.reported":
        this.onReported(frame.seq);
        break;
      case "session.ended":
      case "session.cancelled":
        this.canPost = false;
        this.reason = "closed";
        this.renderCompose();
        break;
      default:
        break;
    }
  }

  onOpen() {
    this.outbox.resend();
  }

  onClose() {
    this.section.dataset.chatState = "reconnecting";
    this.outbox.hold();
  }

  applyJoin(chat) {
    if (typeof chat.can_post === "boolean") this.canPost = chat.can_post;
    if (typeof chat.reason === "string") this.reason = chat.reason;
    this.mutedUntil = chat.muted_until || null;
    this.renderCompose();
    this.setSlowMode(chat.slow_mode, false);
  }

  onHistory(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    const first = this.contiguous === null;
    this.beginChange();
    if (first && !frame.resumed) {
      // The latest messages of the room: everything up to the newest of them is complete.
      let newest = 0;
      for (const message of messages) {
        if (isSeq(message.seq)) newest = Math.max(newest, message.seq);
      }
      this.contiguous = newest;
      this.advance();
      this.forceBottom = true;
    } else if (first) {
      // A resume answer before any history (a late start): start from what it holds.
      const seqs = messages.map((message) => message.seq).filter(isSeq);
      this.contiguous = seqs.length ? Math.min(...seqs) - 1 : 0;
    }
    for (const message of messages) this.acceptMessage(message, { live: Boolean(frame.resumed) });
    if (!frame.resumed) {
      this.moreBefore = Boolean(frame.more_before);
      this.noteLowest(messages);
      if (this.isModerator) this.askQuestions(true);
    }
    if ("pinned" in frame) this.showPinned(frame.pinned, false);
    if (frame.reactions) this.showReactions(frame.reactions);
    if (frame.resumed) {
      // More than one answer's worth was missed: ask for the next part at once.
      if (frame.complete === false) this.askResume();
    }
    this.checkGap();
    this.updateEarlier();
    this.section.dataset.chatState = "joined";
  }

  onLiveMessage(message) {
    this.beginChange();
    this.acceptMessage(message, { live: true });
    this.checkGap();
  }

  // One message from the socket (live or a history list): contiguity, dedupe, own messages.
  acceptMessage(message, { live }) {
    if (!message || !isSeq(message.seq)) return;
    const seq = message.seq;
    this.noteSeq(seq);
    if (message.hidden) {
      this.hiddenSeqs.add(seq);
      this.removeSeq(seq);
      return;
    }
    if (this.hiddenSeqs.has(seq)) return;
    const existing = this.bySeq.get(seq);
    const entry = message.client_id ? this.outbox.get(message.client_id) : undefined;
    if (existing && existing.dataset.local !== "1" && !entry) {
      if (message.answered) this.markAnswered(seq); // the one change a repeat may carry
      return;
    }
    const own = Boolean(entry) || (existing && existing.dataset.local === "1");
    const item = this.renderMessage(message, { own });
    if (entry) {
      // The broadcast of a message this page sent, before (or instead of) its ack.
      this.outbox.settle(entry);
      entry.li.remove();
    }
    if (existing) {
      existing.replaceWith(item);
      this.bySeq.set(seq, item);
    } else {
      this.insertBySeq(item, seq);
      if (live && !own && seq > (this.lowestShown() ?? 0)) {
        this.appended += 1;
        this.queueAnnouncement(message);
      }
    }
    if (this.isModerator && message.question && !message.answered && live) this.askQuestions();
  }

  onAck(frame) {
    const entry = this.outbox.get(frame.client_id);
    if (!entry || !isSeq(frame.seq)) return;
    this.beginChange();
    this.outbox.settle(entry);
    const item = entry.li;
    item.classList.remove("is-pending", "is-failed");
    item.querySelector(".chat-msg-state")?.remove();
    item.dataset.local = "1";
    if (frame.sent_at) this.setTime(item, frame.sent_at);
    this.noteSeq(frame.seq);
    if (this.hiddenSeqs.has(frame.seq) || this.bySeq.has(frame.seq)) {
      item.remove(); // hidden meanwhile, or its broadcast is already shown
    } else {
      item.remove();
      this.insertBySeq(item, frame.seq);
      this.forceBottom = true;
    }
    this.checkGap();
  }

  onError(frame) {
    const entry = frame.client_id ? this.outbox.get(frame.client_id) : undefined;
    const message = this.errorText(frame);
    if (frame.code === "muted") {
      this.canPost = false;
      this.reason = "muted";
      this.mutedUntil = frame.until || this.mutedUntil;
      this.renderCompose();
    } else if (frame.code === "banned") {
      this.canPost = false;
      this.reason = "banned";
      this.renderCompose();
    } else if (frame.code === "chat_closed") {
      this.canPost = false;
      this.reason = "closed";
      this.renderCompose();
    } else if (frame.code === "sign_in_required") {
      this.canPost = false;
      this.reason = "sign_in";
      this.renderCompose();
    }
    if (entry && frame.code === "unavailable" && entry.unavailable < UNAVAILABLE_RETRIES) {
      // The server could not take it for a moment and asks to send it again, same client_id.
      entry.unavailable += 1;
      window.clearTimeout(entry.timer);
      const wait = Math.max(1, Number(frame.retry_after) || 2) * 1000;
      entry.timer = window.setTimeout(() => this.outbox.transmit(entry), wait);
      return;
    }
    if (entry) {
      this.outbox.fail(entry, message, frame.code || "error");
      return;
    }
    if (frame.client_id) return; // about a message already discarded or settled here
    // An error about another action (moderation, report, reactions).
    for (const form of this.log.querySelectorAll(".chat-report[data-sending]")) {
      this.reopenReportForm(form);
    }
    this.showStatus(message);
  }

  errorText(frame) {
    const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
    switch (frame.code) {
      case "rate_limited":
        return this.text("textErrorRateLimited", { seconds });
      case "slow_mode":
        return this.text("textErrorSlowMode", { seconds });
      case "muted":
        return this.mutedText(frame.until || this.mutedUntil);
      case "banned":
        return this.text("textErrorBanned");
      case "chat_closed":
        return this.text("textErrorClosed");
      case "invalid":
        return this.text("textErrorInvalid");
      case "sign_in_required":
        return this.text("textErrorSignIn");
      case "forbidden":
        return this.text("textErrorForbidden");
      default:
        return this.text("textErrorOther", { detail: frame.detail || frame.code || "" });
    }
  }

  mutedText(until) {
    if (!until) return this.text("textErrorMutedOpen");
    return this.text("textErrorMuted", { time: this.formatUntil(until) });
  }

  onRestriction(frame) {
    if (frame.kind === "ban") {
      this.reason = "banned";
    } else if (frame.kind === "mute") {
      this.reason = "muted";
      this.mutedUntil = frame.until || null;
    } else {
      return;
    }
    this.canPost = false;
    this.renderCompose();
    this.announce(this.restrictedNote.textContent);
  }

  onRestricted(frame) {
    const name = frame.name || "";
    if (frame.kind === "ban") {
      this.showStatus(this.text("textBannedDone", { name }), { error: false });
    } else {
      const time = this.formatUntil(frame.until);
      this.showStatus(this.text("textMutedDone", { name, time }), { error: false });
    }
  }

  // --- Contiguity ------------------------------------------------------------------------------

  noteSeq(seq) {
    if (this.contiguous === null) {
      this.ahead.add(seq);
      return;
    }
    if (seq <= this.contiguous) return;
    this.ahead.add(seq);
    this.advance();
  }

  advance() {
    while (this.ahead.has(this.contiguous + 1)) {
      this.contiguous += 1;
      this.ahead.delete(this.contiguous);
    }
    for (const seq of this.ahead) if (seq <= this.contiguous) this.ahead.delete(seq);
  }

  // A gap (a seq above contiguous+1 arrived) that stays open for GAP_WAIT_MS is asked for:
  // frames can overtake each other only briefly, a lost one never comes.
  checkGap() {
    if (this.contiguous === null || this.ahead.size === 0) {
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
    if (this.contiguous === null || this.ahead.size === 0) return;
    this.askResume();
    this.gapTimer = window.setTimeout(() => this.onGapTimeout(), RESUME_RETRY_MS);
  }

  askResume() {
    if (this.contiguous === null) return;
    this.send({ type: "chat.resume", after: this.contiguous });
  }

  async recoverMissedJoin() {
    if (!this.historyUrl) return;
    try {
      const data = await this.fetchHistory(null);
      if (this.contiguous !== null) return; // the socket's own history came meanwhile
      this.onHistory({
        messages: data.messages,
        more_before: data.more_before,
        resumed: false,
      });
    } catch {
      this.showStatus(this.text("textLoadFailed"));
    }
  }

  // --- Rendering messages --------------------------------------------------------------------

  renderMessage(message, { own = false } = {}) {
    const item = el("li", "chat-msg");
    item.dataset.seq = String(message.seq);
    if (own) item.classList.add("is-own");
    const author = message.author || {};
    item.dataset.author = String(author.name || "");
    this.fillMessage(item, message, author);
    if (message.question) item.classList.add("is-question");
    if (message.answered) item.classList.add("is-answered");
    const menu = this.menuFor(message, { own });
    if (menu) item.append(menu);
    return item;
  }

  fillMessage(item, message, author) {
    const head = el("p", "chat-msg-head");
    // Names and companies in any script: each takes its own direction (an English name on
    // an Arabic page keeps its full stop at the end).
    const name = el("span", "chat-author", String(author.name || ""));
    name.dir = "auto";
    head.append(name);
    if (author.company) {
      const company = el("span", "chat-company", String(author.company));
      company.dir = "auto";
      head.append(" ", company);
    }
    if (BADGES.has(author.badge)) {
      const key = author.badge === "exhibitor" ? "textBadgeExhibitor" : "textBadgeOrganiser";
      head.append(" ", el("span", `badge chat-badge chat-badge-${author.badge}`, this.text(key)));
    }
    if (message.question) {
      head.append(" ", el("span", "badge chat-badge-question", this.text("textQuestion")));
    }
    const answered = el("span", "badge chat-badge-answered", this.text("textAnswered"));
    answered.hidden = !message.answered;
    head.append(" ", answered);
    const time = el("time", "chat-time");
    head.append(" ", time);
    item.append(head);
    if (message.sent_at) this.setTime(item, message.sent_at);
    const body = el("p", "chat-body");
    body.dir = "auto";
    body.append(linkify(message.body));
    item.append(body);
  }

  setTime(item, iso) {
    const time = item.querySelector(".chat-time");
    const date = new Date(iso);
    if (!time || Number.isNaN(date.getTime())) return;
    time.dateTime = iso;
    time.textContent = this.timeFormat.format(date);
    time.title = this.fullFormat.format(date);
  }

  formatUntil(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return "";
    const sameDay = this.dayFormat.format(date) === this.dayFormat.format(new Date());
    return sameDay ? this.timeFormat.format(date) : this.dayTimeFormat.format(date);
  }

  menuFor(message, { own }) {
    const template = this.templates.menu;
    if (!template) return null; // signed out: no actions
    const menu = template.content.firstElementChild.cloneNode(true);
    const name = message.author?.name || "";
    menu.querySelector("[data-chat-menu-label]").textContent = this.text("textActions", { name });
    const answer = menu.querySelector('[data-action="answer"]');
    if (answer && (!message.question || message.answered)) answer.remove();
    const report = menu.querySelector('[data-action="report"]');
    if (report && own) report.remove();
    if (!menu.querySelector("[data-chat-menu-items] button")) return null;
    return menu;
  }

  insertBySeq(item, seq) {
    this.bySeq.set(seq, item);
    // Confirmed messages first, ordered by seq; own unconfirmed ones stay at the end.
    let before = this.log.querySelector("li.is-pending");
    let node = before ? before.previousElementSibling : this.log.lastElementChild;
    while (node && !(node.dataset.seq && Number(node.dataset.seq) < seq)) {
      before = node;
      node = node.previousElementSibling;
    }
    this.log.insertBefore(item, before);
    this.updateEmpty();
  }

  lowestShown() {
    for (const item of this.log.children) if (item.dataset.seq) return Number(item.dataset.seq);
    return null;
  }

  noteLowest(messages) {
    for (const message of messages) {
      if (isSeq(message.seq) && (this.lowest === null || message.seq < this.lowest)) {
        this.lowest = message.seq;
      }
    }
  }

  removeSeq(seq) {
    const item = this.bySeq.get(seq);
    if (!item) return;
    this.bySeq.delete(seq);
    const hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) this.scroller.focus();
    this.updateEmpty();
  }

  hideSeq(seq) {
    if (!isSeq(seq)) return;
    this.hiddenSeqs.add(seq);
    this.removeSeq(seq);
    if (this.pinnedSeq === seq) this.showPinned(null, false);
    this.removeQuestion(seq);
  }

  // A moderator showed a hidden message again: forget it was hidden and put it back in place.
  unhideMessage(message) {
    if (!message || !isSeq(message.seq)) return;
    this.hiddenSeqs.delete(message.seq);
    this.beginChange();
    this.acceptMessage({ ...message, hidden: false }, { live: false });
  }

  markAnswered(seq) {
    const item = this.bySeq.get(seq);
    if (item) {
      item.classList.add("is-answered");
      const badge = item.querySelector(".chat-badge-answered");
      if (badge) badge.hidden = false;
      item.querySelector('.chat-menu [data-action="answer"]')?.remove();
    }
    this.removeQuestion(seq);
  }

  updateEmpty() {
    if (this.emptyNote) this.emptyNote.hidden = this.log.childElementCount > 0;
  }

  // --- Scrolling -----------------------------------------------------------------------------

  atBottom() {
    const box = this.scroller;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.unseen = 0;
    this.newButton.hidden = true;
  }

  // Called before any change to the list; the scroll position is settled once, after all the
  // frames of this task (a batch is handled in one go).
  beginChange() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.wasAtBottom = this.atBottom();
    queueMicrotask(() => this.flush());
  }

  flush() {
    this.flushScheduled = false;
    this.trim();
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
    this.updateEarlier();
  }

  // Keeps the page light: the oldest messages go (they can be loaded again). While the reader
  // is further up, only messages above what they see go, and the view does not move.
  trim() {
    const limit = this.wasAtBottom || this.forceBottom ? DOM_LIMIT : DOM_LIMIT_SCROLLED;
    if (this.bySeq.size <= limit) return;
    const box = this.scroller;
    const heightBefore = box.scrollHeight;
    let removed = false;
    while (this.bySeq.size > limit) {
      const first = this.log.querySelector("li[data-seq]");
      if (!first) break;
      const following = this.wasAtBottom || this.forceBottom;
      if (!following && first.offsetTop + first.offsetHeight > box.scrollTop) break;
      if (first.contains(document.activeElement)) break;
      this.bySeq.delete(Number(first.dataset.seq));
      first.remove();
      removed = true;
    }
    if (!removed) return;
    box.scrollTop -= heightBefore - box.scrollHeight;
    this.lowest = this.lowestShown();
    this.moreBefore = true;
  }

  updateEarlier() {
    this.earlierButton.hidden = !(this.moreBefore && this.historyUrl && this.lowest !== null);
  }

  async fetchHistory(before) {
    const url = new URL(this.historyUrl, window.location.href);
    if (before !== null) url.searchParams.set("before", String(before));
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
    const data = await response.json();
    return {
      messages: Array.isArray(data.messages) ? data.messages : [],
      more_before: Boolean(data.more_before),
    };
  }

  async loadEarlier() {
    if (this.loadingEarlier || !this.moreBefore || this.lowest === null) return;
    this.loadingEarlier = true;
    this.earlierButton.disabled = true;
    this.earlierButton.setAttribute("aria-busy", "true");
    let data = null;
    try {
      data = await this.fetchHistory(this.lowest);
    } catch {
      this.showStatus(this.text("textLoadFailed"));
    }
    this.loadingEarlier = false;
    this.earlierButton.disabled = false;
    this.earlierButton.removeAttribute("aria-busy");
    if (!data) return;
    const box = this.scroller;
    const fromBottom = box.scrollHeight - box.scrollTop;
    const hadFocus = this.earlierButton === document.activeElement;
    for (const message of data.messages) {
      if (!isSeq(message.seq) || this.bySeq.has(message.seq)) continue;
      if (message.hidden) {
        this.hiddenSeqs.add(message.seq);
        continue;
      }
      if (this.hiddenSeqs.has(message.seq)) continue;
      this.insertBySeq(this.renderMessage(message), message.seq);
    }
    this.noteLowest(data.messages);
    this.moreBefore = data.more_before;
    box.scrollTop = box.scrollHeight - fromBottom; // the reader's view stays where it was
    this.updateEarlier();
    if (hadFocus && this.earlierButton.hidden) this.scroller.focus();
  }

  // --- Sending -------------------------------------------------------------------------------

  wireForm() {
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter is a new line; Enter while an input method composes a
      // character (Chinese, Japanese, Arabic keyboards) belongs to the input method.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.updateCounter();
      this.outbox.save();
    });
    this.updateCounter();
  }

  updateCounter() {
    const count = this.input.value.length;
    const shown = el("span", "", `${count} / ${this.maxLength}`);
    shown.setAttribute("aria-hidden", "true");
    const words = this.text("textCounter", { count, max: this.maxLength });
    const spoken = el("span", "visually-hidden", words);
    this.counter.replaceChildren(shown, spoken);
    this.counter.classList.toggle("is-near-limit", count > this.maxLength - 50);
  }

  submit() {
    const body = this.input.value.trim();
    if (!body) {
      this.showStatus(this.text("textEmptyBody"));
      this.input.focus();
      return;
    }
    if (body.length > this.maxLength) {
      this.showStatus(this.text("textErrorInvalid"));
      return;
    }
    const question = Boolean(this.questionBox && this.questionBox.checked);
    const entry = this.outbox.add(this.outbox.create(newClientId(), body, { question }));
    this.input.value = "";
    if (this.questionBox) this.questionBox.checked = false;
    this.updateCounter();
    this.outbox.transmit(entry);
    this.outbox.save();
  }

  fillPending(item, entry) {
    const author = { name: this.text("textYou") };
    this.fillMessage(item, { body: entry.body, question: entry.question, answered: false }, author);
    if (entry.question) item.classList.add("is-question");
  }

  // Unsent messages and the draft outlive a reload (sessionStorage: this tab only), per room
  // and per account (someone else signing in at the same booth computer never sends them).
  storageKey() {
    return `${STORAGE_PREFIX}${this.sessionId}.${this.section.dataset.viewer || ""}`;
  }

  // --- The form's state ----------------------------------------------------------------------

  renderCompose() {
    window.clearTimeout(this.unmuteTimer);
    this.unmuteTimer = null;
    const reason = this.reason;
    const restricted = reason === "banned" || reason === "muted" || reason === "closed";
    const formShown = this.canPost && !restricted && reason !== "sign_in";
    if (this.form) {
      const hadFocus = this.form.contains(document.activeElement);
      this.form.hidden = !formShown;
      if (hadFocus && !formShown) this.restrictedNote.focus();
    }
    this.signinNote.hidden = reason !== "sign_in";
    this.restrictedNote.hidden = !restricted;
    if (reason === "banned") this.restrictedNote.textContent = this.text("textErrorBanned");
    if (reason === "closed") this.restrictedNote.textContent = this.text("textErrorClosed");
    if (reason === "muted") {
      this.restrictedNote.textContent = this.mutedText(this.mutedUntil);
      const until = this.mutedUntil ? new Date(this.mutedUntil).getTime() : NaN;
      if (!Number.isNaN(until)) {
        const wait = Math.max(0, until - Date.now()) + 500;
        this.unmuteTimer = window.setTimeout(() => this.unmute(), Math.min(wait, MAX_TIMER_MS));
      }
    }
    this.renderSlowNote();
  }

  unmute() {
    const until = this.mutedUntil ? new Date(this.mutedUntil).getTime() : NaN;
    if (this.reason !== "muted" || Number.isNaN(until)) return;
    if (Date.now() < until) {
      this.renderCompose(); // the timer ceiling was hit: wait again
      return;
    }
    this.reason = "";
    this.mutedUntil = null;
    this.canPost = this.signedIn;
    this.renderCompose();
    this.announce(this.text("textUnmuted"));
  }

  setSlowMode(seconds, announce) {
    const value = Math.max(0, Number(seconds) || 0);
    const changed = value !== this.slowMode;
    this.slowMode = value;
    if (this.slowSelect) {
      if (!Array.from(this.slowSelect.options).some((option) => option.value === String(value))) {
        const option = el("option", "", this.text("textSlowOn", { seconds: value }));
        option.value = String(value);
        this.slowSelect.append(option);
      }
      this.slowSelect.value = String(value);
    }
    this.renderSlowNote();
    if (announce && changed) {
      this.announce(value ? this.text("textSlowOn", { seconds: value }) : this.text("textSlowOff"));
    }
  }

  renderSlowNote() {
    if (!this.slowNote) return;
    const shown = this.slowMode > 0 && Boolean(this.form) && !this.form.hidden;
    this.slowNote.hidden = !shown;
    this.slowNote.textContent = shown ? this.text("textSlowOn", { seconds: this.slowMode }) : "";
  }

  // --- Actions on messages -------------------------------------------------------------------

  wireLog() {
    this.log.addEventListener("click", (event) => this.onLogClick(event));
    this.log.addEventListener("submit", (event) => {
      const form = event.target.closest(".chat-report");
      if (!form) return;
      event.preventDefault();
      this.sendReport(form);
    });
    // One message menu open at a time; a click elsewhere closes it.
    this.log.addEventListener(
      "toggle",
      (event) => {
        const opened = event.target;
        if (!(opened instanceof HTMLDetailsElement) || !opened.open) return;
        for (const menu of this.log.querySelectorAll(".chat-menu[open]")) {
          if (menu !== opened) this.resetMenu(menu);
        }
      },
      true,
    );
    document.addEventListener("click", (event) => {
      for (const menu of this.log.querySelectorAll(".chat-menu[open]")) {
        if (!menu.contains(event.target)) this.resetMenu(menu);
      }
    });
    this.log.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      const menu = event.target.closest(".chat-menu[open]");
      if (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    this.scroller.addEventListener("scroll", () => {
      if (this.atBottom()) {
        this.unseen = 0;
        this.newButton.hidden = true;
      }
      if (this.scroller.scrollTop < TOP_LOAD_PX && this.moreBefore) this.loadEarlier();
    }, { passive: true });
    this.earlierButton.addEventListener("click", () => this.loadEarlier());
    this.newButton.addEventListener("click", () => {
      this.scrollToBottom();
      this.scroller.focus();
    });
  }

  onLogClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || this.outbox.act(button)) return;
    const item = button.closest("li.chat-msg");
    if (!item) return;
    const action = button.dataset.action;
    const seq = Number(item.dataset.seq);
    if (!isSeq(seq)) return;
    const menu = button.closest(".chat-menu");
    const name = item.dataset.author || "";
    switch (action) {
      case "answer":
        this.moderate({ type: "chat.answer", seq }, menu);
        break;
      case "pin":
        this.moderate({ type: "chat.pin", seq }, menu);
        break;
      case "hide":
        this.moderate({ type: "chat.hide", seq }, menu);
        break;
      case "mute":
        this.moderate({ type: "chat.mute", seq, minutes: Number(button.dataset.minutes) }, menu);
        break;
      case "ban": {
        const confirm = menu.querySelector("[data-chat-ban-confirm]");
        menu.querySelector("[data-chat-menu-items]").hidden = true;
        confirm.querySelector("[data-chat-ban-label]").textContent = this.text("textBanConfirm", {
          name,
        });
        confirm.hidden = false;
        confirm.querySelector('[data-action="ban-cancel"]').focus();
        break;
      }
      case "ban-confirm":
        this.moderate({ type: "chat.ban", seq }, menu);
        break;
      case "ban-cancel":
        this.closeMenu(menu);
        break;
      case "report":
        this.openReportForm(item, menu);
        break;
      case "report-cancel": {
        const form = button.closest(".chat-report");
        form.remove();
        item.querySelector(".chat-menu summary")?.focus();
        break;
      }
      default:
        break;
    }
  }

  resetMenu(menu) {
    const items = menu.querySelector("[data-chat-menu-items]");
    const confirm = menu.querySelector("[data-chat-ban-confirm]");
    if (items) items.hidden = false;
    if (confirm) confirm.hidden = true;
    menu.open = false;
  }

  closeMenu(menu) {
    if (!menu) return;
    this.resetMenu(menu);
    menu.querySelector("summary").focus();
  }

  moderate(payload, menu) {
    if (!this.send(payload)) {
      this.showStatus(this.text("textNotConnected"));
      return;
    }
    if (menu) this.closeMenu(menu);
  }

  openReportForm(item, menu) {
    if (menu) {
      menu.open = false;
    }
    let form = item.querySelector(".chat-report");
    if (!form && this.templates.report) {
      form = this.templates.report.content.firstElementChild.cloneNode(true);
      item.append(form);
    }
    form?.querySelector("input")?.focus();
  }

  sendReport(form) {
    const item = form.closest("li.chat-msg");
    const seq = Number(item?.dataset.seq);
    if (!isSeq(seq)) return;
    const reason = form.querySelector("input").value.trim().slice(0, 500);
    if (!this.send({ type: "chat.report", seq, reason })) {
      this.showStatus(this.text("textNotConnected"));
      return;
    }
    form.dataset.sending = "1";
    form.dataset.reason = reason;
    for (const control of form.querySelectorAll("input, button")) control.disabled = true;
    let note = form.querySelector(".chat-report-note");
    if (!note) {
      note = el("span", "chat-report-note hint");
      note.setAttribute("role", "status");
      form.append(note);
    }
    note.textContent = this.text("textReportSending");
  }

  reopenReportForm(form) {
    delete form.dataset.sending;
    for (const control of form.querySelectorAll("input, button")) control.disabled = false;
    form.querySelector(".chat-report-note")?.remove();
  }

  onReported(seq) {
    const item = this.bySeq.get(seq);
    const form = item?.querySelector(".chat-report");
    const done = el("p", "chat-reported", this.text("textReported"));
    done.setAttribute("role", "status");
    if (form) {
      const active = document.activeElement;
      const hadFocus = form.contains(active) || active === document.body;
      form.replaceWith(done);
      item.querySelector('.chat-menu [data-action="report"]')?.remove();
      if (hadFocus) item.querySelector(".chat-menu summary")?.focus();
    } else {
      this.showStatus(this.text("textReported"), { error: false });
    }
  }

  // --- Pinned message, questions, moderation controls ----------------------------------------

  showPinned(message, announce) {
    if (!message || message.hidden || !isSeq(message.seq) || this.hiddenSeqs.has(message.seq)) {
      const had = this.pinnedSeq !== null;
      this.pinnedSeq = null;
      this.pinnedBar.hidden = true;
      this.pinnedBody.replaceChildren();
      if (announce && had) this.announce(this.text("textUnpinnedAnnounce"));
      return;
    }
    this.pinnedSeq = message.seq;
    const holder = el("div", "chat-msg chat-msg-pinned");
    this.fillMessage(holder, message, message.author || {});
    this.pinnedBody.replaceChildren(holder);
    this.pinnedBar.hidden = false;
    if (announce) {
      this.announce(
        this.text("textPinnedAnnounce", {
          name: message.author?.name || "",
          body: clip(message.body, ANNOUNCE_BODY_CHARS),
        }),
      );
    }
  }

  askQuestions(now = false) {
    if (!this.isModerator) return;
    const wait = this.questionsAskedAt + QUESTIONS_REFRESH_MS - Date.now();
    if (!now && wait > 0) {
      if (this.questionsTimer === null) {
        this.questionsTimer = window.setTimeout(() => {
          this.questionsTimer = null;
          this.askQuestions(true);
        }, wait);
      }
      return;
    }
    if (this.send({ type: "chat.questions" })) this.questionsAskedAt = Date.now();
  }

  renderQuestions(questions) {
    if (!this.questionList) return;
    const list = Array.isArray(questions) ? questions : [];
    const items = [];
    for (const message of list) {
      if (!isSeq(message.seq) || message.hidden || this.hiddenSeqs.has(message.seq)) continue;
      const item = el("li", "chat-msg chat-question");
      item.dataset.seq = String(message.seq);
      this.fillMessage(item, message, message.author || {});
      if (this.templates.question) {
        item.append(this.templates.question.content.firstElementChild.cloneNode(true));
      }
      items.push(item);
    }
    const focusedSeq = this.questionList.contains(document.activeElement)
      ? document.activeElement.closest("li")?.dataset.seq
      : null;
    this.questionList.replaceChildren(...items);
    if (focusedSeq) {
      const again = this.questionList.querySelector(`li[data-seq="${focusedSeq}"] button`);
      (again || this.questionList.closest("[data-chat-panel]")).focus?.();
    }
    this.updateQuestionCount();
  }

  removeQuestion(seq) {
    if (!this.questionList) return;
    const item = this.questionList.querySelector(`li[data-seq="${Number(seq)}"]`);
    if (!item) return;
    const hadFocus = item.contains(document.activeElement);
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    if (hadFocus) {
      (next?.querySelector("button") || this.find('[data-chat-tab="questions"]'))?.focus();
    }
    this.updateQuestionCount();
  }

  updateQuestionCount() {
    const count = this.questionList.childElementCount;
    this.questionsEmpty.hidden = count > 0;
    if (this.questionsCount) {
      this.questionsCount.textContent = String(count);
      this.questionsCount.hidden = count === 0;
    }
  }

  wireModeration() {
    this.find("[data-chat-unpin]")?.addEventListener("click", () => {
      if (!this.send({ type: "chat.pin", seq: null })) {
        this.showStatus(this.text("textNotConnected"));
      }
    });
    this.slowSelect?.addEventListener("change", () => {
      const seconds = Number(this.slowSelect.value) || 0;
      if (!this.send({ type: "chat.slow_mode", seconds })) {
        this.showStatus(this.text("textNotConnected"));
        this.slowSelect.value = String(this.slowMode);
      }
    });
    this.questionList?.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const seq = Number(button?.closest("li")?.dataset.seq);
      if (!button || !isSeq(seq)) return;
      const type = button.dataset.action === "answer" ? "chat.answer" : "chat.pin";
      if (!this.send({ type, seq })) this.showStatus(this.text("textNotConnected"));
    });
    this.find("[data-chat-questions-refresh]")?.addEventListener("click", () => {
      this.askQuestions(true);
    });
    const tabs = Array.from(this.section.querySelectorAll("[data-chat-tab]"));
    for (const tab of tabs) {
      tab.addEventListener("click", () => this.selectTab(tab, tabs));
      tab.addEventListener("keydown", (event) => {
        const index = tabs.indexOf(tab);
        const rtl = getComputedStyle(this.section).direction === "rtl";
        const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[event.key];
        let target = null;
        if (step) target = tabs[(index + step + tabs.length) % tabs.length];
        if (event.key === "Home") target = tabs[0];
        if (event.key === "End") target = tabs[tabs.length - 1];
        if (!target) return;
        event.preventDefault();
        this.selectTab(target, tabs);
        target.focus();
      });
    }
  }

  selectTab(selected, tabs) {
    for (const tab of tabs) {
      const on = tab === selected;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      const panel = this.section.querySelector(`[data-chat-panel="${tab.dataset.chatTab}"]`);
      if (panel) panel.hidden = !on;
    }
    if (selected.dataset.chatTab === "questions") this.askQuestions(true);
    if (selected.dataset.chatTab === "messages") this.scrollToBottom();
  }

  // --- Reactions -----------------------------------------------------------------------------

  wireReactions() {
    for (const button of this.section.querySelectorAll("[data-chat-react]")) {
      button.addEventListener("click", () => {
        if (!this.signedIn) return;
        const now = Date.now();
        this.reactTimes = this.reactTimes.filter((time) => now - time < 1000);
        if (this.reactTimes.length >= REACTIONS_PER_SECOND) return; // a burst of clicks: enough
        if (!this.send({ type: "react", kind: button.dataset.chatReact })) return;
        this.reactTimes.push(now);
        const count = button.querySelector("[data-chat-react-count]");
        count.textContent = String((Number(count.textContent) || 0) + 1);
        button.classList.remove("is-bumped");
        void button.offsetWidth; // restart the little animation
        button.classList.add("is-bumped");
      });
    }
  }

  showReactions(totals) {
    if (!totals || typeof totals !== "object") return;
    for (const button of this.section.querySelectorAll("[data-chat-react]")) {
      const value = Number(totals[button.dataset.chatReact]);
      if (Number.isFinite(value)) {
        button.querySelector("[data-chat-react-count]").textContent = String(value);
      }
    }
  }

  // --- Announcements -------------------------------------------------------------------------

  announce(message) {
    if (!message) return;
    // Emptied first, so the same message said twice is announced twice.
    this.announcer.textContent = "";
    window.setTimeout(() => {
      this.announcer.textContent = message;
    }, 50);
  }

  // New messages are summarised at most once every ANNOUNCE_EVERY_MS: one message is read out,
  // several are counted.
  queueAnnouncement(message) {
    this.announceQueue.push(message);
    if (this.announceTimer !== null) return;
    const wait = Math.max(0, this.lastAnnounced + ANNOUNCE_EVERY_MS - Date.now());
    this.announceTimer = window.setTimeout(() => this.flushAnnouncements(), wait);
  }

  flushAnnouncements() {
    this.announceTimer = null;
    const queue = this.announceQueue.filter((message) => !this.hiddenSeqs.has(message.seq));
    this.announceQueue = [];
    if (queue.length === 0) return;
    this.lastAnnounced = Date.now();
    if (queue.length === 1) {
      const [message] = queue;
      this.announce(
        this.text("textAnnounceOne", {
          name: message.author?.name || "",
          body: clip(message.body, ANNOUNCE_BODY_CHARS),
        }),
      );
    } else {
      this.announce(this.text("textAnnounceMany", { count: queue.length }));
    }
  }

  showStatus(message, { error = true } = {}) {
    this.statusLine.classList.toggle("is-error", error);
    this.statusLine.textContent = message;
    window.clearTimeout(this.statusTimer);
    this.statusTimer = window.setTimeout(() => {
      this.statusLine.textContent = "";
    }, 10000);
  }
}

for (const section of document.querySelectorAll("[data-chat]")) {
  const room = section.closest("[data-room]");
  if (room) new Chat(section, room).start();
}
