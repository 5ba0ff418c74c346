// The navigation bar's negotiation badge, live (issue 6): the number of the user's rooms with
// unread messages. Markup: templates/negotiations/_nav_item.html ([data-nego-nav] with
// data-unread-url and data-text-unread; the badge [data-nego-nav-badge] is there only while
// the count is above 0, and this script adds or removes it).
//
// Where the number comes from (negotiations/pages/badge.py says why):
// * on a negotiation page (the room, the inboxes: [data-nego-live] or [data-nego-room]), the
//   page's shared socket (socket.js): "nego.ready" carries the count; a new message or room
//   or a read marker asks data-unread-url again, once per burst of frames;
// * on any page, when the tab comes back into view or regains focus (at most every
//   REFRESH_MS), data-unread-url;
// * across tabs: every count learnt is posted on a BroadcastChannel, so a page without a
//   socket follows a negotiation page open in another tab.

import { negoSocket } from "./socket.js";

const REFRESH_MS = 15000;
const FRAME_DEBOUNCE_MS = 800;
const CHANNEL = "cloudfair.negotiations.unread";
const COUNTING_FRAMES = new Set(["nego.message", "nego.read", "nego.room"]);
const KEY = Symbol.for("cloudfair.negotiations.nav");

class NavBadge {
  constructor(link) {
    this.link = link;
    this.url = link.dataset.unreadUrl || "";
    this.fetchedAt = 0;
    this.timer = null;
    this.inFlight = false;
    this.again = false;
    this.channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  }

  start() {
    if (this.channel) {
      this.channel.addEventListener("message", (event) => {
        const count = event.data?.unread;
        if (Number.isInteger(count) && count >= 0) this.render(count);
      });
    }
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.refresh();
    });
    window.addEventListener("focus", () => this.refresh());
    if (document.querySelector("[data-nego-live], [data-nego-room]")) {
      negoSocket().subscribe({ onFrame: (frame) => this.onFrame(frame) });
    }
  }

  onFrame(frame) {
    if (frame.type === "nego.ready") {
      if (Number.isInteger(frame.unread) && frame.unread >= 0) this.learn(frame.unread);
      return;
    }
    if (!COUNTING_FRAMES.has(frame.type)) return;
    // The room page marks a message read right after showing it: one request after the burst.
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.fetchCount(), FRAME_DEBOUNCE_MS);
  }

  refresh() {
    if (Date.now() - this.fetchedAt < REFRESH_MS) return;
    this.fetchCount();
  }

  async fetchCount() {
    if (!this.url) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.fetchedAt = Date.now();
    try {
      const response = await fetch(this.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (response.ok) {
        const data = await response.json();
        if (Number.isInteger(data?.unread) && data.unread >= 0) this.learn(data.unread);
      }
    } catch {
      // Offline or navigating away: the next focus or frame asks again.
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.fetchCount();
      }
    }
  }

  learn(count) {
    this.fetchedAt = Date.now();
    this.render(count);
    if (this.channel) this.channel.postMessage({ unread: count });
  }

  render(count) {
    let badge = this.link.querySelector("[data-nego-nav-badge]");
    if (count <= 0) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("data-nego-nav-badge", "");
      const number = document.createElement("span");
      number.setAttribute("data-nego-nav-count", "");
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = ` ${this.link.dataset.textUnread || ""}`;
      badge.append(number, label);
      this.link.append(" ", badge);
    }
    badge.dataset.count = String(count);
    const number = badge.querySelector("[data-nego-nav-count]");
    if (number) number.textContent = String(count);
  }
}

// The navigation item of base.html ([data-nego-nav]); before that template marks it, the link
// the badge sits in.
function navLink() {
  return (
    document.querySelector("[data-nego-nav]") ||
    document.querySelector('[data-testid="nav-negotiations"]')
  );
}

if (!window[KEY]) {
  const link = navLink();
  if (link) {
    const live = document.querySelector("[data-nav-unread-url]");
    if (!link.dataset.unreadUrl && live) link.dataset.unreadUrl = live.dataset.navUnreadUrl;
    window[KEY] = new NavBadge(link);
    window[KEY].start();
  }
}
