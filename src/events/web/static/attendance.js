// Organisers' attendance: sign in (organiser.js), then
// GET /api/v1/festivals/{id}/attendance?day=... every 30 s. The arrivals chart is plain SVG.
import {organiserSignIn} from "/static/organiser.js";

const REFRESH_MS = 30_000;
const SVG = "http://www.w3.org/2000/svg";
const config = JSON.parse(document.getElementById("attendance-config").textContent);
const $ = id => document.getElementById(id);
const lang = config.lang;
let day = new URLSearchParams(location.search).get("day") || config.day;
let timer = null;
const session = organiserSignIn({
  root: $("attendance"),
  onSignedIn() {
    load();
    timer ??= setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  },
  onSignedOut() {
    clearInterval(timer);
    timer = null;
  },
});

const name = obj => obj[`name_${lang}`] || obj[`name_${lang === "zh" ? "en" : "zh"}`] || "";
const clock = (ms, seconds = false) => new Intl.DateTimeFormat("en-GB", {
  timeZone: config.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  ...(seconds ? {second: "2-digit"} : {})}).format(new Date(ms));

async function load() {
  const query = day ? `?day=${encodeURIComponent(day)}` : "";
  let response;
  try {
    response = await session.api(`/api/v1/festivals/${config.festival_id}/attendance${query}`);
  } catch {
    $("load-error").textContent = config.text.error;
    return;
  }
  if (response === null) return;  // signed out
  if (!response.ok) {
    $("load-error").textContent = config.text.error;
    return;
  }
  render(await response.json());
}

function rows(target, items, columns) {
  $(target).replaceChildren(...items.map(item => {
    const tr = document.createElement("tr");
    tr.dataset.key = item.key;
    columns.forEach((value, i) => {
      const td = document.createElement("td");
      td.textContent = value(item);
      if (i > 0) td.className = "num";
      tr.append(td);
    });
    return tr;
  }));
}

function render(data) {
  day = data.day;
  $("load-error").textContent = "";
  for (const [id, value] of [["inside-now", data.inside_now], ["admitted", data.admitted],
                             ["refused", data.refused], ["conflicts", data.conflicts],
                             ["scans", data.scans]]) {
    $(id).textContent = value.toLocaleString();
  }
  const perDay = new Map(data.by_day.map(d => [d.day, d.admitted]));
  for (const button of document.querySelectorAll("[data-day]")) {
    button.setAttribute("aria-pressed", String(button.dataset.day === data.day));
    button.querySelector("small").textContent = perDay.has(button.dataset.day)
      ? ` ${perDay.get(button.dataset.day)}` : "";
  }
  rows("by-gate", data.by_gate, [name, g => g.count]);
  const inside = new Map(data.inside_by_enclosure.map(e => [e.key, e.count]));
  rows("by-enclosure", data.by_enclosure, [name, e => e.count, e => inside.get(e.key) ?? 0]);
  $("chart").replaceChildren(chart(data.arrivals));
  $("conflict-block").hidden = data.conflict_scans.length === 0;
  $("conflict-scans").replaceChildren(...data.conflict_scans.map(c => {
    const li = document.createElement("li");
    li.dataset.testid = "conflict-scan";
    li.textContent = config.text.conflict_item
      .replace("{ticket}", c.ticket_ref).replace("{time}", clock(Date.parse(c.at)))
      .replace("{gate}", (config.lang === "zh" ? c.gate_name_zh : c.gate_name_en) || "?")
      .replace("{first}", c.first_entry_at ? clock(Date.parse(c.first_entry_at)) : "?");
    return li;
  }));
  $("updated").textContent = config.text.updated.replace("{time}", clock(Date.now(), true));
  $("attendance").dataset.shownDay = data.day;
  const shown = document.querySelector(`[data-day="${data.day}"]`);
  if (shown && $("shown-day")) $("shown-day").textContent = shown.dataset.label;
  $("attendance").dataset.loaded = String(Date.now());
}

function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Bars of admissions per 10 minutes over the whole hours around them, local time. */
function chart(arrivals) {
  if (!arrivals.length) {
    const empty = document.createElement("p");
    empty.className = "muted";
    empty.textContent = config.text.no_arrivals;
    return empty;
  }
  const STEP = 600_000, HOUR = 3_600_000;
  const counts = new Map(arrivals.map(a => [Date.parse(a.at), a.count]));
  const times = [...counts.keys()];
  const start = Math.min(...times) - (Math.min(...times) % HOUR);
  const end = Math.max(...times) - (Math.max(...times) % HOUR) + HOUR;
  const buckets = [];
  for (let t = start; t < end; t += STEP) buckets.push([t, counts.get(t) ?? 0]);
  const max = Math.max(1, ...buckets.map(([, n]) => n));
  // A fixed drawing width: a phone shows it at about 1:1, whatever the number of bars.
  const width = 340, left = 30, top = 10, height = 150, bottom = 22;
  const barWidth = (width - left - 6) / buckets.length;
  const labelEvery = HOUR * Math.ceil(40 / (barWidth * (HOUR / STEP)));  // labels never overlap
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  const root = svg("svg", {viewBox: `0 0 ${width} ${top + height + bottom}`, class: "chart",
                           role: "img", "data-testid": "arrivals-chart",
                           "aria-label": config.text.chart.replace("{n}", String(total))
                             .replace("{start}", clock(start)).replace("{end}", clock(end))});
  for (const value of [max, Math.round(max / 2)]) {
    const y = top + height - (value / max) * height;
    root.append(svg("line", {x1: left, x2: width, y1: y, y2: y}));
    root.append(svg("text", {x: left - 4, y: y + 4, "text-anchor": "end"}, String(value)));
  }
  root.append(svg("line", {x1: left, x2: width, y1: top + height, y2: top + height}));
  buckets.forEach(([t, n], i) => {
    const x = left + i * barWidth;
    if (n > 0) {
      const h = Math.max(1, (n / max) * height);
      const bar = svg("rect", {class: "bar", x: x + barWidth * 0.1, y: top + height - h,
                               width: barWidth * 0.8, height: h,
                               "data-count": n, "data-at": new Date(t).toISOString()});
      bar.append(svg("title", {}, `${clock(t)}–${clock(t + STEP)} · ${n}`));
      root.append(bar);
    }
    if ((t - start) % labelEvery === 0) {
      root.append(svg("text", {x, y: top + height + 15}, clock(t)));
    }
  });
  return root;
}

for (const button of document.querySelectorAll("[data-day]")) {
  button.addEventListener("click", () => {
    day = button.dataset.day;
    const url = new URL(location.href);
    url.searchParams.set("day", day);
    history.replaceState(null, "", url);
    load();
  });
}
session.start();
