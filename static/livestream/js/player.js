// The stream player of the room page (ES module; no inline script: strict CSP).
//
// Markup: <div data-player data-hls-url="…m3u8" [data-autostart] [data-hls-module]
// [data-hls-worker]> with a <video data-player-video>, buttons [data-player-play] and
// [data-player-unmute] and a status line [data-player-status].
//
// hls.js plays the stream where the browser has Media Source Extensions
// (Hls.isSupported()); elsewhere (Safari, iOS) the browser's own HLS does. The video starts
// muted, because browsers only allow muted autoplay; when autoplay is refused anyway the
// Play button shows. hls.js is loaded only when a stream is played.
//
// Other scripts (the room's websocket client) import startPlayer / stopPlayer to start the
// player when the session goes live and to stop it when it ends.

const DEFAULT_MODULE = new URL("../../vendor/hls/hls.min.mjs", import.meta.url).href;
const DEFAULT_WORKER = new URL("../../vendor/hls/hls.worker.js", import.meta.url).href;
const RETRY_DELAY_MS = 3000;
const MAX_RETRIES = 40; // a new live stream's playlist appears a few seconds after it starts

let hlsModule = null;

function loadHls(player) {
  if (!hlsModule) {
    hlsModule = import(player.dataset.hlsModule || DEFAULT_MODULE).then((m) => m.default);
  }
  return hlsModule;
}

function parts(player) {
  return {
    video: player.querySelector("[data-player-video]"),
    play: player.querySelector("[data-player-play]"),
    unmute: player.querySelector("[data-player-unmute]"),
    status: player.querySelector("[data-player-status]"),
  };
}

function say(player, key) {
  const { status } = parts(player);
  if (status) status.textContent = key ? status.dataset[key] || "" : "";
}

function showControls(player) {
  const { video, play, unmute } = parts(player);
  if (play) play.hidden = !video.paused;
  if (unmute) unmute.hidden = video.paused || !video.muted;
}

function wire(player) {
  const { video, play, unmute } = parts(player);
  if (play) {
    play.addEventListener("click", () => {
      video.play().catch(() => {});
    });
  }
  if (unmute) {
    unmute.addEventListener("click", () => {
      video.muted = false;
      showControls(player);
    });
  }
  for (const event of ["play", "playing", "pause", "volumechange", "ended"]) {
    video.addEventListener(event, () => showControls(player));
  }
  video.addEventListener("playing", () => say(player, ""));
}

function attachHls(Hls, player, url, attempt = 0) {
  const { video } = parts(player);
  const hls = new Hls({
    workerPath: player.dataset.hlsWorker || DEFAULT_WORKER,
    liveSyncDurationCount: 3,
  });
  player.hlsInstance = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    if (player.dataset.wantPlay === "1") video.play().catch(() => showControls(player));
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    player.hlsInstance = null;
    if (attempt < MAX_RETRIES && player.dataset.playerStarted === "1") {
      say(player, "textError");
      player.retryTimer = setTimeout(
        () => attachHls(Hls, player, url, attempt + 1),
        RETRY_DELAY_MS,
      );
    } else {
      say(player, "textError");
      showControls(player);
    }
  });
  hls.loadSource(url);
  hls.attachMedia(video);
}

/** Start playing the player's data-hls-url (muted autoplay, or a visible Play button). */
export async function startPlayer(player, { autoplay = true } = {}) {
  const url = player.dataset.hlsUrl;
  if (!url || player.dataset.playerStarted === "1") return;
  player.dataset.playerStarted = "1";
  player.dataset.wantPlay = autoplay ? "1" : "0";
  player.hidden = false;
  const { video } = parts(player);
  if (!player.dataset.wired) {
    wire(player);
    player.dataset.wired = "1";
  }
  let Hls = null;
  try {
    Hls = await loadHls(player);
  } catch {
    Hls = null;
  }
  if (Hls && Hls.isSupported()) {
    attachHls(Hls, player, url);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
    if (autoplay) video.play().catch(() => showControls(player));
  } else {
    say(player, "textUnsupported");
    return;
  }
  showControls(player);
}

/** Stop and release the stream (the session ended). */
export function stopPlayer(player) {
  clearTimeout(player.retryTimer);
  if (player.hlsInstance) {
    player.hlsInstance.destroy();
    player.hlsInstance = null;
  }
  const { video } = parts(player);
  video.pause();
  video.removeAttribute("src");
  video.load();
  player.dataset.playerStarted = "0";
  showControls(player);
}

function init() {
  for (const player of document.querySelectorAll("[data-player]")) {
    if ("autostart" in player.dataset) {
      startPlayer(player).catch(() => say(player, "textError"));
    } else {
      // A replay (or a stream not live yet): load it when the viewer presses Play.
      const { play } = parts(player);
      if (play && !player.hidden) {
        play.hidden = false;
        play.addEventListener(
          "click",
          () => startPlayer(player).catch(() => say(player, "textError")),
          { once: true },
        );
      }
    }
  }
}

init();
