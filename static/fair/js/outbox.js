// One's own messages on their way to the server, as an ES module shared by the two message
// UIs: the stream-room chat (livestream/js/chat.js) and the negotiation room
// (negotiations/js/room.js). Each keeps its own protocol, texts and look; this file holds what
// is the same in both: the promise that nothing typed is lost.
//
// * A message shows at once in the log as "Sending…" with a client_id that stays the same for
//   every attempt (the servers store a client_id once, so a message sent again is never
//   doubled). Unanswered after the ack timeout or refused, it shows "Not sent." with the
//   reason, Retry and Discard; typed while disconnected, it waits as queued (Discard only).
// * hold() when the socket drops, resend() when it is back: what was on its way, or lost on
//   the way (a failure code in resendCodes), goes again.
// * Unsent messages and the draft live in sessionStorage (this tab only) under the UI's key,
//   saved on every change and at pagehide, and come back with restore() after a reload.
//
//   const outbox = new Outbox({
//     prefix: "chat",                 // classes: chat-msg, chat-msg-state, chat-msg-state-text,
//                                     // chat-failed-buttons (the last from the template)
//     root, log, input,               // the UI's element, the <ol> of messages, the textarea
//     failedTemplate,                 // <template> holding the Retry / Discard buttons
//     ackTimeoutMs: 8000,
//     resendCodes: ["timeout"],       // failures resent when the socket is back
//     discardFocus: "button",         // what takes the focus in the next message on Discard
//     text: (key, values) => "",      // textSending, textQueued, textNotSent, textNoAnswer,
//                                     // textSendFailedAnnounce
//     announce: (message) => {},
//     send: (frame) => true,          // false while disconnected
//     frame: (entry) => ({}),         // the send frame of an entry
//     fill: (item, entry) => {},      // the pending <li>'s content above its state line
//     home: () => element,            // where the keyboard goes when its button disappears
//     beforeAppend: () => {},         // before a pending item is added to the log
//     afterChange: () => {},          // after one is added or discarded
//     storageKey: () => "key" | null, // null: nothing is kept
//     maxLength, onDraft: () => {},   // a restored draft is cut to maxLength, then onDraft()
//     entryFields: (record) => ({}),  // the UI's own fields of an entry (typed or restored)
//     savedFields: (entry) => ({}),   // ... and which of them are kept in storage
//     onRetry: (entry) => {},         // before a Retry click sends it again
//   });
//
// An entry: {clientId, body, state ("queued" | "sending" | "failed"), failCode, timer, li} plus
// the UI's fields. The UI matches acks, broadcasts and errors with get(clientId), then calls
// settle(entry) or fail(entry, reason, code).

// A client_id: crypto.randomUUID where available (secure contexts), else a version-4 UUID from
// getRandomValues.
export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20)];
  return [...parts, hex.slice(20)].join("-");
}

const none = () => ({});
const nothing = () => {};

export class Outbox {
  constructor(options) {
    this.options = {
      input: null,
      failedTemplate: null,
      resendCodes: ["timeout"],
      discardFocus: "button",
      beforeAppend: nothing,
      afterChange: nothing,
      onDraft: nothing,
      onRetry: nothing,
      entryFields: none,
      savedFields: none,
      ...options,
    };
    this.prefix = this.options.prefix;
    this.resendCodes = new Set(this.options.resendCodes);
    this.pending = new Map(); // client_id -> entry, in the order typed
  }

  get(clientId) {
    return this.pending.get(clientId);
  }

  has(entry) {
    return this.pending.has(entry.clientId);
  }

  // A new entry; record holds the UI's own fields (entryFields picks them).
  create(clientId, body, record = {}) {
    return {
      clientId,
      body,
      state: "",
      failCode: "",
      timer: null,
      li: null,
      ...this.options.entryFields(record),
    };
  }

  // Shows the entry at the end of the log (not sent yet: transmit() does that).
  add(entry) {
    this.options.beforeAppend();
    const item = document.createElement("li");
    item.className = `${this.prefix}-msg is-own is-pending`;
    item.dataset.clientId = entry.clientId;
    this.options.fill(item, entry);
    const state = document.createElement("p");
    state.className = `${this.prefix}-msg-state`;
    const label = document.createElement("span");
    label.className = `${this.prefix}-msg-state-text`;
    state.append(label);
    item.append(state);
    entry.li = item;
    this.pending.set(entry.clientId, entry);
    this.options.log.append(item);
    this.options.afterChange();
    return entry;
  }

  transmit(entry) {
    window.clearTimeout(entry.timer);
    entry.failCode = "";
    if (!this.options.send(this.options.frame(entry))) {
      this.setState(entry, "queued");
      return;
    }
    this.setState(entry, "sending");
    entry.timer = window.setTimeout(() => {
      this.fail(entry, this.options.text("textNoAnswer"), "timeout");
    }, this.options.ackTimeoutMs);
  }

  setState(entry, state, reason = "") {
    const { text, failedTemplate } = this.options;
    entry.state = state;
    const item = entry.li;
    item.classList.toggle("is-failed", state === "failed");
    const line = item.querySelector(`.${this.prefix}-msg-state`);
    const label = line.querySelector(`.${this.prefix}-msg-state-text`);
    line.querySelector(`.${this.prefix}-failed-buttons`)?.remove();
    if (state === "failed") {
      label.textContent = `${text("textNotSent")} ${reason}`.trim();
    } else {
      label.textContent = state === "queued" ? text("textQueued") : text("textSending");
    }
    if ((state === "failed" || state === "queued") && failedTemplate) {
      const buttons = failedTemplate.content.firstElementChild.cloneNode(true);
      if (state === "queued") buttons.querySelector('[data-action="retry"]').remove();
      line.append(buttons);
    }
  }

  fail(entry, reason, code) {
    if (!this.has(entry)) return;
    window.clearTimeout(entry.timer);
    entry.failCode = code;
    const hadFocus = entry.li.contains(document.activeElement);
    this.setState(entry, "failed", reason);
    if (hadFocus) entry.li.querySelector('[data-action="retry"]')?.focus();
    this.options.announce(this.options.text("textSendFailedAnnounce", { reason }));
    this.save();
  }

  // Acknowledged (or its broadcast arrived): no longer ours to send. The <li> is the UI's.
  settle(entry) {
    window.clearTimeout(entry.timer);
    this.pending.delete(entry.clientId);
    this.save();
  }

  discard(entry) {
    const next = entry.li.nextElementSibling || entry.li.previousElementSibling;
    this.settle(entry);
    entry.li.remove();
    this.options.afterChange();
    (next?.querySelector(this.options.discardFocus) || this.options.home()).focus();
  }

  // The socket dropped: what was on its way waits for the next connection.
  hold() {
    for (const entry of this.pending.values()) {
      if (entry.state === "sending") {
        window.clearTimeout(entry.timer);
        this.setState(entry, "queued");
      }
    }
  }

  // The socket is back: everything not yet acknowledged goes (again) with its own client_id,
  // so one that did arrive before the drop is not doubled.
  resend() {
    for (const entry of this.pending.values()) {
      const lostOnTheWay = this.resendCodes.has(entry.failCode);
      if (entry.state === "queued" || entry.state === "sending" || lostOnTheWay) {
        this.transmit(entry);
      }
    }
  }

  // A click on a button of the log: true when it belonged to a pending message (Retry,
  // Discard), false when it is the UI's to handle.
  act(button) {
    const item = button.closest(`li.${this.prefix}-msg`);
    if (!item || !item.dataset.clientId || item.dataset.seq) return false;
    const entry = this.pending.get(item.dataset.clientId);
    if (!entry) return true;
    const action = button.dataset.action;
    if (action === "retry") {
      this.options.onRetry(entry);
      this.transmit(entry);
      // The buttons are gone while it is on its way: keep the keyboard in the UI.
      if (!this.options.root.contains(document.activeElement)) this.options.home().focus();
    } else if (action === "discard") {
      this.discard(entry);
    }
    return true;
  }

  save() {
    const key = this.options.storageKey();
    if (key === null) return;
    const unsent = Array.from(this.pending.values(), (entry) => ({
      client_id: entry.clientId,
      body: entry.body,
      ...this.options.savedFields(entry),
    }));
    const input = this.options.input;
    const draft = input ? input.value : "";
    try {
      if (unsent.length || draft) {
        window.sessionStorage.setItem(key, JSON.stringify({ unsent, draft }));
      } else {
        window.sessionStorage.removeItem(key);
      }
    } catch {
      // storage full or disabled: the page keeps them while it is open
    }
  }

  // Brings back the draft and the unsent messages of an earlier page of this tab (queued
  // until the socket is open) and keeps them again at pagehide. Returns how many messages
  // were kept (the UI says they were restored).
  restore() {
    window.addEventListener("pagehide", () => this.save());
    const key = this.options.storageKey();
    if (key === null) return 0;
    let saved = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(key) || "null");
    } catch {
      saved = null;
    }
    if (!saved || typeof saved !== "object") return 0;
    const input = this.options.input;
    if (input && typeof saved.draft === "string" && !input.value) {
      input.value = saved.draft.slice(0, this.options.maxLength);
      this.options.onDraft();
    }
    const unsent = Array.isArray(saved.unsent) ? saved.unsent : [];
    for (const record of unsent) {
      if (!record || typeof record.client_id !== "string" || typeof record.body !== "string") {
        continue;
      }
      const entry = this.add(this.create(record.client_id, record.body, record));
      this.setState(entry, "queued");
    }
    return unsent.length;
  }
}
