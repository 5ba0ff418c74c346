// Ticks the countdowns of the room page: <time datetime="…" data-countdown
// data-started-text="…">. The server renders the first text; this keeps it current in the
// page's language (Intl number formatting of hours, minutes and seconds).

const lang = document.documentElement.lang || undefined;
const unit = (name) =>
  new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "narrow" });
const formats = { day: unit("day"), hour: unit("hour"), minute: unit("minute"), second: unit("second") };

function remainingText(ms) {
  let seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (days > 0) return `${formats.day.format(days)} ${formats.hour.format(hours)}`;
  const text = [];
  if (hours > 0) text.push(formats.hour.format(hours));
  text.push(formats.minute.format(minutes));
  text.push(formats.second.format(seconds));
  return text.join(" ");
}

function tick(elements) {
  const now = Date.now();
  for (const element of elements) {
    const left = Date.parse(element.getAttribute("datetime")) - now;
    element.textContent = left > 0 ? remainingText(left) : element.dataset.startedText || "";
  }
}

const countdowns = [...document.querySelectorAll("[data-countdown]")];
if (countdowns.length) {
  tick(countdowns);
  setInterval(() => tick(countdowns), 1000);
}
