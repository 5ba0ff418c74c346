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
    const empty = body.querySelector(".org-empty");
    const emptyText = empty ? empty.textContent : "";
    body.replaceChildren();
    if (!rows.length) {
      const tr = body.insertRow();
      const td = tr.insertCell();
      td.colSpan = columns.length;
      td.className = "org-empty";
      td.textContent = emptyText;
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
  renderCharts(figures);
  const at = document.querySelector("[data-figures-at]");
  if (at && figures.generated_at) {
    at.dateTime = figures.generated_at;
    at.textContent = new Date(figures.generated_at).toLocaleTimeString(lang, { timeZone: zone });
  }
}

function chartData(name, figures) {
  if (name === "buyers_by_country") {
    const rows = lookup(figures, "buyers_by_country.by_country") || [];
    return { labels: rows.map((r) => countryName(r.country)), values: rows.map((r) => r.count) };
  }
  const series = figures[name];
  if (!series || !Array.isArray(series.labels)) return null;
  const labels = series.labels.map((label) => {
    if (/^\d{4}-\d{2}-\d{2}$/.test(label)) {
      // A calendar day of the fair: shown as a date, whatever the viewer's zone.
      const day = new Date(`${label}T00:00:00Z`);
      return day.toLocaleDateString(lang, { month: "short", day: "numeric", timeZone: "UTC" });
    }
    const date = new Date(label);
    if (Number.isNaN(date.getTime())) return label;
    // An hour: shown in the viewer's zone, like every time on the site.
    return date.toLocaleString(lang, {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      timeZone: zone,
    });
  });
  return { labels, values: series.values };
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
