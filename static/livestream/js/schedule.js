// The scheduling form's "suggested times" table, kept live: as the start or the target
// regions change, each region's zones show what the start is there and whether it falls in
// business hours (09:00-18:00). The start is typed in the user's own zone
// (data-user-zone), which need not be the browser's. Without this script the server's
// table (for the saved start) stays.

const panel = document.querySelector("[data-suggested-times]");
const form = document.querySelector("[data-schedule-form]");
const BUSINESS = [9, 18];

function offsetMinutes(instant, zone) {
  // How far the zone's wall clock is from UTC at this instant.
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((wall - instant.getTime()) / 60000);
}

function wallToInstant(value, zone) {
  // "2026-06-15T14:00" read as a wall time in `zone`.
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  let guess = asUtc - offsetMinutes(new Date(asUtc), zone) * 60000;
  guess = asUtc - offsetMinutes(new Date(guess), zone) * 60000;
  return new Date(guess);
}

function update() {
  const startInput = form.querySelector('input[name="start"]');
  const userZone = panel.dataset.userZone;
  const chosen = [...form.querySelectorAll('input[name="target_regions"]:checked')].map(
    (input) => input.value,
  );
  const start = startInput ? wallToInstant(startInput.value, userZone) : null;
  const lang = document.documentElement.lang || undefined;
  for (const row of panel.querySelectorAll("tr[data-zone]")) {
    const regionInputs = form.querySelectorAll('input[name="target_regions"]');
    row.hidden = regionInputs.length > 0 && chosen.length > 0 && !chosen.includes(row.dataset.region);
    const cell = row.querySelector("[data-local-start]");
    if (!cell || !start) continue;
    const zone = row.dataset.zone;
    const text = new Intl.DateTimeFormat(lang, {
      timeZone: zone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(start);
    const hour = Number(
      new Intl.DateTimeFormat("en-US", { timeZone: zone, hour: "2-digit", hourCycle: "h23" }).format(start),
    );
    const inHours = hour >= BUSINESS[0] && hour < BUSINESS[1];
    cell.textContent = `${text} · ${inHours ? panel.dataset.textInHours : panel.dataset.textOutOfHours}`;
    cell.classList.toggle("in-hours", inHours);
    cell.classList.toggle("out-of-hours", !inHours);
  }
}

if (panel && form) {
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}
