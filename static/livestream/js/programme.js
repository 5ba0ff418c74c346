// The programme pages ("Live now", "Upcoming") follow sessions going live and ending without
// a reload, as an ES module. It listens on /ws/live/programme/ and, when a session goes
// live, ends, is cancelled or moved, fetches the same page again and swaps its results
// section for the fresh one (server-rendered and escaped by Django; nothing from the socket
// is put into the page).
//
// Markup it reads: an element [data-programme] (the page's session list) enables it;
// optional data-ws-path on it (default /ws/live/programme/) and data-text-updated (the
// polite announcement after a swap). The swapped part is [data-programme-results], or else
// the list's closest .programme-results section.

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const KEEPALIVE_MS = 30000;
// The user has too many sockets open at this endpoint: another try would be refused too.
const CLOSE_TOO_MANY = 4429;
// Thousands of open programme pages must not all refetch in the same second.
const REFRESH_SPREAD_MS = 4000;
const REFRESH_MIN_MS = 500;
const EVENTS = new Set(["session.live", "session.ended", "session.cancelled", "session.rescheduled"]);

function backoffDelay(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random()));
}

function resultsOf(doc) {
  const marked = doc.querySelector("[data-programme-results]");
  if (marked) return marked;
  const list = doc.querySelector("[data-programme]");
  return list ? list.closest(".programme-results") || list : null;
}

class ProgrammeUpdates {
  constructor(list) {
    this.list = list;
    this.wsPath = list.dataset.wsPath || "/ws/live/programme/";
    this.updatedText = list.dataset.textUpdated || "";
    this.attempt = 0;
    this.refreshTimer = null;
    this.keepalive = null;
    this.announcer = this.makeAnnouncer();
  }

  makeAnnouncer() {
    const region = document.createElement("div");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
    return region;
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${this.wsPath}`);
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.keepalive = window.setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, KEEPALIVE_MS);
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && EVENTS.has(frame.type)) this.scheduleRefresh();
    });
    socket.addEventListener("close", (event) => {
      window.clearInterval(this.keepalive);
      if (event.code === CLOSE_TOO_MANY) return;
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      window.setTimeout(() => this.connect(), delay);
    });
  }

  scheduleRefresh() {
    if (this.refreshTimer !== null) return; // one refetch covers every event until then
    const delay = REFRESH_MIN_MS + Math.random() * REFRESH_SPREAD_MS;
    this.refreshTimer = window.setTimeout(() => {
      this.refreshTimer = null;
      this.refresh().catch(() => {});
    }, delay);
  }

  async refresh() {
    const current = resultsOf(document);
    if (!current) return;
    // Someone typing or tabbing inside the list keeps their place: try again later.
    if (current.contains(document.activeElement) && document.activeElement !== document.body) {
      this.scheduleRefresh();
      return;
    }
    const response = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) return;
    const fresh = resultsOf(new DOMParser().parseFromString(await response.text(), "text/html"));
    if (!fresh || fresh.outerHTML === current.outerHTML) return;
    current.replaceWith(document.importNode(fresh, true));
    if (this.updatedText) {
      this.announcer.textContent = "";
      window.setTimeout(() => {
        this.announcer.textContent = this.updatedText;
      }, 50);
    }
  }
}

const list = document.querySelector("[data-programme]");
if (list) new ProgrammeUpdates(list).connect();
