// Organisers' announcements as banners on every page: the ones showing when the page was
// rendered are in the HTML; new ones (and withdrawals) arrive over /ws/notices/. A banner
// the reader closes stays closed (remembered in localStorage by its id).

const DISMISSED_KEY = "cloudfair.announcementsDismissed";

function dismissed() {
  try {
    return new Set(JSON.parse(localStorage.getItem(DISMISSED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

function remember(id) {
  const ids = [...dismissed(), id].slice(-50);
  try {
    localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids));
  } catch {
    // Private mode: closing still works for this page.
  }
}

function wireBanner(region, banner) {
  const id = Number(banner.dataset.announcementId);
  if (dismissed().has(id)) {
    banner.remove();
    return;
  }
  const close = banner.querySelector("[data-announcement-close]");
  if (close) {
    close.addEventListener("click", () => {
      remember(id);
      banner.remove();
    });
  }
}

function buildBanner(region, announcement) {
  const template = region.querySelector("template[data-announcement-template]");
  const banner = template.content.firstElementChild.cloneNode(true);
  banner.dataset.announcementId = String(announcement.id);
  banner.querySelector("[data-announcement-title]").textContent = announcement.title;
  banner.querySelector("[data-announcement-body]").textContent = announcement.body || "";
  const link = banner.querySelector("[data-announcement-link]");
  if (announcement.url && /^https?:\/\//.test(announcement.url)) {
    link.href = announcement.url;
    link.hidden = false;
  }
  return banner;
}

function show(region, announcement) {
  if (region.querySelector(`[data-announcement-id="${announcement.id}"]`)) return;
  if (dismissed().has(announcement.id)) return;
  const banner = buildBanner(region, announcement);
  const list = region.querySelector("[data-announcement-list]");
  list.prepend(banner);
  wireBanner(region, banner);
}

function withdraw(region, id) {
  const banner = region.querySelector(`[data-announcement-id="${id}"]`);
  if (banner) banner.remove();
}

export function start() {
  const region = document.querySelector("[data-announcements]");
  if (!region || !("WebSocket" in window)) return;
  for (const banner of region.querySelectorAll("[data-announcement-id]")) {
    wireBanner(region, banner);
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${region.dataset.socketPath}`;
  let attempt = 0;

  function connect() {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      attempt = 0;
      document.documentElement.dataset.noticesSocket = "open";
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "announcement") show(region, frame.announcement);
      else if (frame.type === "announcement.withdrawn") withdraw(region, frame.id);
    });
    socket.addEventListener("close", (event) => {
      document.documentElement.dataset.noticesSocket = "closed";
      // Signed out, refused, or too many of this user's sockets open (4429): no retry.
      if (event.code === 4401 || event.code === 4403 || event.code === 4429) return;
      // Reconnect with exponential backoff and jitter (a restart must not stampede).
      attempt += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
      setTimeout(connect, delay);
    });
  }
  connect();
}
