// The organisers' live dashboard: figures arrive over /ws/organiser/ every few seconds
// (only when they changed); while the socket is down, they are polled over HTTP.

const root = document.querySelector("[data-dashboard]");
const lang = document.documentElement.lang || "en";
const numberFormat = new Intl.NumberFormat(lang);
let regionNames = null;
try {
  regionNames = new Intl.DisplayNames([lang], { type: "region" });
} catch {
  regionNames = null;
}
const charts = {};
const zone = root?.dataset.zone || undefined;

// Chart labels follow Django date-format patterns chosen per language by the server, which
// renders the page's first tables with the same patterns (fair/organiser/views.py,
// chart_label_formats): a label reads the same on the chart, in the table the page came
// with and after every update. The patterns use only the characters dateFormat knows
// (LABEL_FORMAT_CHARS there; a test checks every translation).
const labelFormats = {
  hour: root?.dataset.hourFormat || "M j, H:i",
  day: root?.dataset.dayFormat || "M j",
  months: JSON.parse(root?.dataset.monthNames || "{}"),
};
// Django's own split (django.utils.dateformat): a format character not after a backslash.
const FORMAT_CHARS = /(?<!\\)([aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ])/;
const DAY_LABEL = /^\d{4}-\d{2}-\d{2}$/;
const HOUR_LABEL = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/;
const zoneParts = (() => {
  const options = {
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  };
  try {
    return new Intl.DateTimeFormat("en-US", { ...options, timeZone: zone });
  } catch {
    // A zone this browser's time-zone data does not know yet: the browser's own zone (the
    // one it reported, usually) rather than no dashboard at all.
    return new Intl.DateTimeFormat("en-US", options);
  }
})();

function lookup(figures, path) {
  let value = figures;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object" || !(part in value)) return undefined;
    value = value[part];
  }
  return value;
}

function format(value) {
  return typeof value === "number" ? numberFormat.format(value) : String(value ?? "—");
}

function countryName(code) {
  try {
    return (regionNames && regionNames.of(code)) || code;
  } catch {
    return code;
  }
}

function pad(number) {
  return String(number).padStart(2, "0");
}

function dateFormat(parts, pattern) {
  const values = {
    d: pad(parts.day),
    j: String(parts.day),
    m: pad(parts.month),
    n: String(parts.month),
    Y: String(parts.year).padStart(4, "0"),
    y: pad(parts.year % 100),
    H: pad(parts.hour),
    G: String(parts.hour),
    i: pad(parts.minute),
  };
  return pattern
    .split(FORMAT_CHARS)
    .map((piece, index) => {
      if (index % 2 === 0) return piece.replace(/\\(.)/g, "$1");
      if (piece in values) return values[piece];
      return labelFormats.months[piece]?.[parts.month - 1] ?? piece;
    })
    .join("");
}

function chartLabel(label) {
  if (DAY_LABEL.test(label)) {
    // A calendar day of the fair (in the fair's zone): the same date for every viewer.
    const [year, month, day] = label.split("-").map(Number);
    return dateFormat({ year, month, day }, labelFormats.day);
  }
  if (!HOUR_LABEL.test(label)) return label;
  // An hour: shown in the viewer's zone, like every time on the site.
  const parts = {};
  for (const part of zoneParts.formatToParts(new Date(label))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return dateFormat(parts, labelFormats.hour);
}

function renderFigures(figures) {
  for (const element of root.querySelectorAll("[data-figure]")) {
    const value = lookup(figures, element.dataset.figure);
    if (value !== undefined) element.textContent = format(value);
  }
  for (const table of root.querySelectorAll("table[data-list]")) {
    const rows = lookup(figures, table.dataset.list);
    if (!Array.isArray(rows)) continue;
    const columns = table.dataset.columns.split(",");
    const body = table.tBodies[0];
    body.replaceChildren();
    if (!rows.length) {
      emptyRow(table, columns.length);
      continue;
    }
    for (const row of rows) {
      const tr = body.insertRow();
      columns.forEach((column, index) => {
        const td = tr.insertCell();
        let text = row[column];
        if (column === table.dataset.countryColumn) text = countryName(text);
        if (index === 0 && table.dataset.link && row[table.dataset.link]) {
          const a = document.createElement("a");
          a.href = row[table.dataset.link];
          a.textContent = format(text);
          td.append(a);
        } else {
          td.textContent = format(text);
        }
      });
    }
  }
  renderChartTables(figures);
  renderCharts(figures);
  const at = document.querySelector("[data-figures-at]");
  if (at && figures.generated_at) {
    at.dateTime = figures.generated_at;
    at.textContent = new Date(figures.generated_at).toLocaleTimeString(lang, { timeZone: zone });
  }
}

function emptyRow(table, columns) {
  const td = table.tBodies[0].insertRow().insertCell();
  td.colSpan = columns;
  td.className = "org-empty";
  td.textContent = table.dataset.emptyLabel || "";
}

function chartData(name, figures) {
  if (name === "buyers_by_country") {
    const rows = lookup(figures, "buyers_by_country.by_country") || [];
    return { labels: rows.map((r) => countryName(r.country)), values: rows.map((r) => r.count) };
  }
  const series = figures[name];
  if (!series || !Array.isArray(series.labels)) return null;
  return { raw: series.labels, labels: series.labels.map(chartLabel), values: series.values };
}

// Each chart's table of figures (under its canvas) is redrawn from the same data, at the
// same moment, as the chart.
function renderChartTables(figures) {
  for (const table of root.querySelectorAll("table[data-chart-table]")) {
    const data = chartData(table.dataset.chartTable, figures);
    if (!data) continue;
    table.tBodies[0].replaceChildren();
    if (!data.labels.length) {
      emptyRow(table, 2);
      continue;
    }
    data.labels.forEach((label, index) => {
      const tr = table.tBodies[0].insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      const time = document.createElement("time");
      time.dateTime = data.raw[index];
      time.textContent = label;
      th.append(time);
      tr.append(th);
      tr.insertCell().textContent = format(data.values[index]);
    });
  }
}

function renderCharts(figures) {
  if (!window.Chart) return;
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
    const name = canvas.dataset.chart;
    const data = chartData(name, figures);
    if (!data) continue;
    const label = {
      streams_per_hour: root.dataset.labelStreams,
      negotiations_per_day: root.dataset.labelNegotiations,
      buyers_by_country: root.dataset.labelBuyers,
    }[name];
    if (charts[name]) {
      charts[name].data.labels = data.labels;
      charts[name].data.datasets[0].data = data.values;
      charts[name].update("none");
      continue;
    }
    const type = canvas.dataset.chartType === "line" ? "line" : "bar";
    charts[name] = new window.Chart(canvas, {
      type,
      data: { labels: data.labels, datasets: [{ label, data: data.values }] },
      options: {
        animation: false,
        indexAxis: canvas.dataset.chartType === "countries" ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true } },
      },
    });
  }
}

function setConnection(text, state) {
  const element = document.querySelector("[data-connection]");
  if (element) element.textContent = text;
  root.dataset.connection = state;
}

let pollTimer = null;

async function poll() {
  try {
    const response = await fetch(root.dataset.figuresUrl, { credentials: "same-origin" });
    if (response.ok) renderFigures((await response.json()).figures);
  } catch {
    // Offline: the next poll or the socket catches up.
  }
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${root.dataset.socketPath}`);
  socket.addEventListener("open", () => {
    attempt = 0;
    clearInterval(pollTimer);
    pollTimer = null;
    setConnection(root.dataset.labelConnected, "open");
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "dashboard.figures") renderFigures(frame.figures);
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || event.code === 4403) {
      setConnection(root.dataset.labelSignedOut, "signed-out");
      return;
    }
    setConnection(root.dataset.labelOffline, "closed");
    if (!pollTimer) pollTimer = setInterval(poll, 10000);
    // Too many of this user's sockets open (4429): another try would be refused too; the
    // figures keep coming by polling.
    if (event.code === 4429) return;
    const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt + 1, 5)) * (0.5 + Math.random());
    setTimeout(() => connect(attempt + 1), delay);
  });
}

if (root) {
  const initial = document.getElementById("dashboard-figures");
  const start = () => renderFigures(JSON.parse(initial.textContent));
  // Chart.js is a deferred classic script: it is there once the document has loaded.
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
  connect();
}
