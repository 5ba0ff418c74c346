// Site-wide behaviour, loaded on every page as an ES module (no inline scripts: strict CSP).

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// Whether the reader has typed or chosen something on this page (scripts setting values
// do not count: only the browser's own input events).
let readerInput = false;
document.addEventListener("input", () => {
  readerInput = true;
}, { capture: true });

function formsTouched() {
  return readerInput;
}

// Tell the server the browser's time zone once per session, so times are shown in the
// visitor's own zone (signed-in users with a zone in their profile keep theirs).
async function reportTimeZone() {
  const body = document.body;
  if (body.dataset.timeZoneSource !== "fair") return;
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!zone || sessionStorage.getItem("cloudfair.tzReported") === zone) return;
  const form = new URLSearchParams({ time_zone: zone });
  const response = await fetch(body.dataset.timeZoneUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken() },
    body: form,
    credentials: "same-origin",
  });
  if (response.ok) {
    // Read the answer to its end first: reloading with it unread aborts the request.
    await response.text();
    sessionStorage.setItem("cloudfair.tzReported", zone);
    // Reload to show times in the reader's zone, unless they have started typing (the
    // log-in form, say): the next page they open has the right zone anyway.
    if (!formsTouched()) window.location.reload();
  }
}

// Selects marked data-autosubmit submit their form on change (the button stays for
// keyboard and no-script users).
function wireAutosubmit() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

wireAutosubmit();
reportTimeZone().catch(() => {});

// Forms (or their submit buttons) marked data-confirm ask before submitting: deleting,
// suspending, banning, stopping a stream.
function wireConfirm() {
  document.addEventListener("submit", (event) => {
    const question = event.submitter?.dataset.confirm || event.target.dataset?.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
}

wireConfirm();
import("./announcements.js").then((m) => m.start()).catch(() => {});
