// The inboxes, live (issue 6): the buyer's "My negotiations" and the exhibitor's shared inbox
// (templates/negotiations/my_negotiations.html, exhibitor_inbox.html). Over the page's shared
// /ws/negotiations/ socket (socket.js; the frames are described in negotiations/events.py):
//
// * "nego.message" in a room whose row is on the page: the row takes the message's preview
//   (written as text), its time (in the viewer's zone), the unread count (messages after our
//   side's read marker; our own side's message moves that marker, as on the server), and
//   whose turn it is; on the first page it moves to the top (the list is newest first).
// * "nego.read" of our side: the row's unread count follows (another tab, a colleague).
// * "nego.status" / "nego.assigned": the row's status badge and turn / assignee.
// * Activity in a room that is not on the page, or a new room ("nego.room"): the page's rows
//   are left alone (pagination and filters stay right) and a notice says how many other
//   negotiations have news, with a link that reloads the list.
// * Screen readers: the list is not a live region; a polite region [data-nego-live-announcer]
//   summarises the other side's new messages at most once every few seconds.
//
// Markup: the root [data-nego-live] (attributes in _live_inbox_attrs.html), rows
// [data-nego-row] with data-negotiation, data-last-seq, data-read, data-status,
// data-last-speaker, and inside [data-row-name], [data-row-unread], [data-row-preview],
// [data-row-time], [data-row-turn], [data-row-status], [data-row-assigned] (exhibitor only).

import { negoSocket } from "./socket.js";

const ANNOUNCE_EVERY_MS = 4000;
const PREVIEW_CHARS = 140;
const STATUSES = new Set(["open", "agreed", "closed"]);

function fill(template, values = {}) {
  return String(template || "").replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

function clip(value, length) {
  const text = String(value ?? "").replace(/\s+/g, " ").trim();
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function capitalised(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : "";
}

class LiveInbox {
  constructor(root) {
    this.root = root;
    root.negoInbox = this; // for browser tests of the page
    const data = root.dataset;
    this.side = data.side === "exhibitor" ? "exhibitor" : "buyer";
    this.viewer = Number(data.viewer) || 0;
    this.exhibitor = Number(data.exhibitor) || 0;
    this.page = Number(data.page) || 1;
    this.filter = data.filter || "";
    this.assigned = data.assigned || "";
    this.rowsBox = root.querySelector("[data-nego-rows]");
    this.notice = root.querySelector("[data-nego-live-notice]");
    this.noticeText = root.querySelector("[data-nego-live-notice-text]");
    this.announcer = root.querySelector("[data-nego-live-announcer]");
    this.elsewhere = new Set(); // rooms with news that are not on this page
    this.foreign = new Set(); // rooms known (from "nego.room") to be of another inbox
    this.announceQueue = [];
    this.announceTimer = null;
    this.lastAnnounced = 0;
    const lang = document.documentElement.lang || undefined;
    const options = {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    };
    try {
      const zone = data.zone || undefined;
      this.timeFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, ...options });
    } catch {
      this.timeFormat = new Intl.DateTimeFormat(lang, options); // an unknown zone: the browser's
    }
  }

  // "25 Nov 2026, 14:05", in the viewer's zone: the server's "j M Y, H:i" for the same rows.
  formatTime(date) {
    const part = {};
    for (const { type, value } of this.timeFormat.formatToParts(date)) part[type] = value;
    return `${part.day} ${part.month} ${part.year}, ${part.hour}:${part.minute}`;
  }

  start() {
    negoSocket(this.root.dataset.wsPath || undefined).subscribe({
      onFrame: (frame) => this.onFrame(frame),
      onClose: () => {
        this.root.dataset.negoState = "reconnecting";
      },
    });
  }

  text(key, values = {}) {
    return fill(this.root.dataset[key], values);
  }

  row(id) {
    return this.root.querySelector(`[data-nego-row][data-negotiation="${Number(id)}"]`);
  }

  onFrame(frame) {
    if (frame.type === "nego.ready") {
      this.root.dataset.negoState = "ready";
      return;
    }
    const id = Number(frame.negotiation);
    if (frame.type === "nego.room") {
      this.onRoom(frame);
      return;
    }
    if (!Number.isInteger(id) || id <= 0) return;
    const row = this.row(id);
    switch (frame.type) {
      case "nego.message":
        if (row) this.onMessage(row, frame);
        else if (this.mayBelongHere(id, frame)) this.noteElsewhere(id);
        break;
      case "nego.read":
        if (row && frame.side === this.side && Number.isInteger(frame.seq)) {
          row.dataset.read = String(Math.max(Number(row.dataset.read) || 0, frame.seq));
          this.renderUnread(row);
        }
        break;
      case "nego.status":
        if (row && STATUSES.has(frame.status)) {
          row.dataset.status = frame.status;
          this.renderStatus(row);
          this.renderTurn(row);
        }
        break;
      case "nego.assigned":
        if (row) this.renderAssigned(row, frame.assigned_to);
        break;
      default:
    }
  }

  // A new room ("nego.room", room_json): never on the page yet; counted when it is ours.
  onRoom(frame) {
    const id = Number(frame.id);
    if (!Number.isInteger(id) || id <= 0 || this.row(id)) return;
    const ours =
      this.side === "exhibitor"
        ? Number(frame.exhibitor?.id) === this.exhibitor
        : Number(frame.buyer?.id) === this.viewer;
    if (!ours) {
      this.foreign.add(id);
      return;
    }
    if (this.filter && this.filter !== "open" && this.filter !== "unread") return;
    if (this.assigned && this.assigned !== "none") return; // a new room is nobody's
    this.noteElsewhere(id);
  }

  // Whether a message in a room that is not on the page could show on this page's list once
  // refreshed (so the notice does not count what the filter would hide anyway).
  mayBelongHere(id, frame) {
    if (this.foreign.has(id)) return false;
    const side = frame.side || "";
    const authorId = Number(frame.author?.id) || 0;
    // The user's other role: on the buyer's list, a buyer's message by someone else is from a
    // room where the user is the exhibitor's staff.
    if (this.side === "buyer" && side === "buyer" && authorId !== this.viewer) return false;
    switch (this.filter) {
      case "awaiting_us":
        return side === "buyer";
      case "awaiting_buyer":
        return side === "exhibitor";
      case "unread":
        return side !== this.side;
      case "closed":
        return false; // nobody writes in a closed room
      default:
        return true;
    }
  }

  noteElsewhere(id) {
    const before = this.elsewhere.size;
    this.elsewhere.add(id);
    if (!this.notice || this.elsewhere.size === before) return;
    this.noticeText.textContent = fill(this.noticeText.dataset.text, {
      count: this.elsewhere.size,
    });
    this.notice.hidden = false;
    if (before === 0) this.announce(this.text("textAnnounceElsewhere"));
  }

  onMessage(row, message) {
    const seq = Number(message.seq);
    if (!Number.isInteger(seq) || seq <= (Number(row.dataset.lastSeq) || 0)) return; // seen
    row.dataset.lastSeq = String(seq);
    if (message.side === this.side) row.dataset.read = String(seq);
    if (message.side) row.dataset.lastSpeaker = message.side;
    const preview = row.querySelector("[data-row-preview]");
    if (preview) preview.textContent = this.previewOf(message);
    const time = row.querySelector("[data-row-time]");
    const sentAt = new Date(message.sent_at);
    if (time && !Number.isNaN(sentAt.getTime())) {
      time.dateTime = sentAt.toISOString();
      time.textContent = this.formatTime(sentAt);
    }
    this.renderUnread(row);
    this.renderTurn(row);
    if (this.page === 1) {
      if (this.rowsBox && this.rowsBox.firstElementChild !== row) this.rowsBox.prepend(row);
    } else {
      this.noteElsewhere(Number(row.dataset.negotiation)); // it now belongs on page 1
    }
    if (message.side !== this.side) this.queueAnnouncement(row);
  }

  previewOf(message) {
    let text = "";
    if (message.kind === "attachment" && message.attachment) {
      text = this.text("textFile", { name: message.attachment.name || "" });
    } else if (message.kind === "quote" && message.quote) {
      text = this.text("textQuote", { version: message.quote.version });
    } else {
      text = message.body || "";
    }
    return clip(text, PREVIEW_CHARS);
  }

  renderUnread(row) {
    const last = Number(row.dataset.lastSeq) || 0;
    const unread = Math.max(0, last - (Number(row.dataset.read) || 0));
    row.classList.toggle("is-unread", unread > 0);
    const slot = row.querySelector("[data-row-unread]");
    if (!slot) return;
    slot.replaceChildren();
    if (unread > 0) {
      const badge = document.createElement("span");
      badge.className = "badge nego-unread-badge";
      badge.dataset.testid = "unread";
      badge.textContent = this.text("textUnread", { count: unread });
      slot.append(badge);
    }
  }

  renderTurn(row) {
    const slot = row.querySelector("[data-row-turn]");
    if (!slot) return;
    slot.replaceChildren();
    const speaker = row.dataset.lastSpeaker;
    if (row.dataset.status !== "open" || (speaker !== "buyer" && speaker !== "exhibitor")) return;
    const words = this.text(`textTurn${capitalised(speaker)}`);
    // Whose turn it is, emphasised when it is the viewer's (as the server renders it).
    const ourTurn = speaker !== this.side;
    const element = document.createElement(ourTurn ? "strong" : "span");
    element.textContent = words;
    if (this.side === "exhibitor") {
      element.className = ourTurn ? "nego-turn" : "hint";
      slot.append(document.createElement("br"), element);
    } else {
      slot.append(" · ", ourTurn ? element : words);
    }
  }

  renderStatus(row) {
    const badge = row.querySelector("[data-row-status]");
    if (!badge) return;
    const status = row.dataset.status;
    badge.textContent = this.text(`textStatus${capitalised(status)}`);
    badge.className = `badge nego-status nego-status-${status}`;
  }

  renderAssigned(row, assignee) {
    const cell = row.querySelector("[data-row-assigned]");
    if (!cell) return;
    cell.replaceChildren();
    if (!assignee) {
      const nobody = document.createElement("span");
      nobody.className = "hint";
      nobody.textContent = this.text("textNobody");
      cell.append(nobody);
    } else {
      cell.textContent =
        Number(assignee.id) === this.viewer ? this.text("textMe") : String(assignee.name || "");
    }
  }

  queueAnnouncement(row) {
    const name = row.querySelector("[data-row-name]")?.textContent.trim() || "";
    this.announceQueue.push(name);
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
    this.announce(
      queue.length === 1
        ? this.text("textAnnounceOne", { name: queue[0] })
        : this.text("textAnnounceMany", { count: queue.length }),
    );
  }

  announce(message) {
    if (!message || !this.announcer) return;
    this.announcer.textContent = "";
    window.setTimeout(() => {
      this.announcer.textContent = message;
    }, 50);
  }
}

for (const root of document.querySelectorAll("[data-nego-live]")) {
  new LiveInbox(root).start();
}
