// Live results for spectators and the livestream overlay.
// The page carries the results document; this keeps it current from the SSE stream
// (resuming with the document's event_id, so nothing between page and stream is missed),
// and falls back to polling with If-None-Match when a network blocks event streams.

const POLL_MS = 15000;

export function follow({ festivalId, lang, render }) {
  let doc = JSON.parse(document.getElementById("live-document").textContent);
  const text = JSON.parse(document.getElementById("live-text").textContent);
  const api = `/api/v1/festivals/${encodeURIComponent(festivalId)}/results`;
  const status = document.querySelector("[data-testid=live-status]");
  let etag = null;
  let failures = 0;
  let polling = null;
  const show = () => render(doc, text, lang);
  const say = (key) => { if (status) { status.textContent = text[key] || ""; status.dataset.state = key; } };

  async function reload() {
    const headers = etag ? { "If-None-Match": etag } : {};
    try {
      const response = await fetch(api, { headers, cache: "no-cache" });
      if (response.status === 304) return;
      if (!response.ok) return;
      etag = response.headers.get("ETag");
      doc = await response.json();
      show();
    } catch (_) { say("offline"); }
  }

  function apply(event) {
    if (event.race) {
      const races = doc.items || (doc.items = []);
      const at = races.findIndex((r) => r.race_id === event.race.race_id);
      if (at >= 0) races[at] = event.race; else races.push(event.race);
    }
    doc.event_id = Math.max(doc.event_id || 0, event.id);
    doc.last_race_id = event.race_id;
    show();
  }

  function poll() {
    if (polling) return;
    say("polling");
    polling = setInterval(reload, POLL_MS);
    reload();
  }

  function stream() {
    if (!("EventSource" in window)) { poll(); return; }
    const source = new EventSource(`${api}/stream?last_event_id=${doc.event_id || 0}`);
    source.onopen = () => { failures = 0; say("connected"); };
    source.onmessage = (message) => { failures = 0; apply(JSON.parse(message.data)); };
    source.addEventListener("refresh", () => { etag = null; reload(); });
    source.onerror = () => {
      failures += 1;
      say("offline");
      if (failures >= 3 || source.readyState === EventSource.CLOSED) {
        source.close();  // blocked or refused: poll, and try the stream again later
        poll();
        setTimeout(() => { clearInterval(polling); polling = null; failures = 0; stream(); },
                   5 * POLL_MS);
      }
    };
  }

  show();
  stream();
}

function nm(obj, field, lang) {
  if (!obj) return "";
  const other = lang === "zh" ? "en" : "zh";
  return obj[`${field}_${lang}`] || obj[`${field}_${other}`] || obj[field] || "";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatTime(hundredths) {
  if (hundredths === null || hundredths === undefined) return "";
  const minutes = Math.floor(hundredths / 6000);
  const seconds = Math.floor((hundredths % 6000) / 100);
  const rest = hundredths % 100;
  return `${minutes}:${String(seconds).padStart(2, "0")}.${String(rest).padStart(2, "0")}`;
}

export function formatPrize(fen, lang) {
  if (!fen) return "";
  const yuan = fen / 100;
  return "¥" + yuan.toLocaleString(lang === "zh" ? "zh-CN" : "en-US",
                                     { maximumFractionDigits: 2 });
}

function badge(state, text) {
  return el("span", { class: `badge ${state}`, "data-testid": "state", "data-state": state },
            text[state] || state);
}

function measure(row) {
  if (row.time_hundredths != null) return formatTime(row.time_hundredths);
  if (row.score != null) return row.score;
  if (row.count != null) return row.count;
  return "";
}

function resultRows(race, text, lang, measured) {
  return race.results.map((row) => el("tr", { "data-testid": "result-row" },
    el("td", { class: "place" }, row.status && row.status !== "finished"
      ? (text[row.status] || row.status.toUpperCase()) : row.place),
    el("td", {}, el("strong", {}, nm(row, "horse", lang)),
       el("div", { class: "small muted" }, [row.rider, nm(row, "province", lang)].filter(Boolean).join(" · ")),
       row.status === "dsq" && row.reason ? el("div", { class: "small dsq" }, row.reason) : null),
    measured ? el("td", { class: "num" }, measure(row)) : null,
    el("td", { class: "num" }, formatPrize(row.prize, lang))));
}

function raceCard(race, text, lang) {
  const hasResult = race.results && race.results.length && race.state !== "scheduled";
  const head = el("div", { class: "race-head" },
    el("h2", {}, [race.code, nm(race, "name", lang)].filter(Boolean).join(" · ")),
    badge(race.state, text));
  const sponsor = race.sponsor ? el("p", { class: "small muted" },
    `${text.sponsor}: ${nm(race.sponsor, "name", lang)}`) : null;
  const amended = race.state === "amended" && race.amended_reason
    ? el("p", { class: "amended-note", "data-testid": "amended-reason" }, race.amended_reason) : null;
  let table;
  if (hasResult) {
    const measured = race.results.some((row) => measure(row) !== "");
    table = el("table", { class: "results" },
      el("thead", {}, el("tr", {}, [text.place, text.horse, measured ? text.time : null,
        text.prize].filter(Boolean).map((h) => el("th", {}, h)))),
      el("tbody", {}, resultRows(race, text, lang, measured)));
  } else if (race.start_list && race.start_list.length) {
    table = el("div", {}, el("h3", {}, text.start_list), el("ol", { class: "start-list" },
      race.start_list.map((s) => el("li", { "data-testid": "start-row" },
        el("strong", {}, s.position ? `${s.position}. ` : ""), nm(s, "horse", lang),
        el("span", { class: "muted" }, ` ${s.rider || ""} ${nm(s, "province", lang)}`)))));
  }
  return el("article", { class: `race ${race.state}`, "data-testid": "race",
                         "data-race-id": race.race_id, "data-state": race.state },
            head, sponsor, amended, table);
}

let chosenDay = null;

export function renderResults(doc, text, lang) {
  const races = doc.items || [];
  const days = [...new Set(races.map((r) => r.date).filter(Boolean))].sort();
  const nav = document.querySelector("[data-testid=days]");
  if (chosenDay === null) {
    const today = new Date().toISOString().slice(0, 10);
    chosenDay = days.includes(today) ? today : "";
  }
  nav.replaceChildren(...(days.length > 1 ? ["", ...days] : []).map((day) => el("button", {
    type: "button", class: day === chosenDay ? "day chosen" : "day secondary",
    "aria-pressed": String(day === chosenDay),
  }, day || text.all_days)));
  nav.querySelectorAll("button").forEach((button, index) => {
    button.onclick = () => { chosenDay = index === 0 ? "" : days[index - 1]; renderResults(doc, text, lang); };
  });
  const shown = races.filter((r) => !chosenDay || r.date === chosenDay);
  const holder = document.getElementById("races");
  holder.replaceChildren(...(shown.length ? shown.map((r) => raceCard(r, text, lang))
    : [el("p", { class: "muted" }, text.empty)]));
  const standings = document.getElementById("standings");
  const parts = [];
  const provinces = (doc.standings && doc.standings.provinces) || [];
  if (provinces.length) {
    parts.push(el("h2", {}, text.provinces), el("table", { class: "results" },
      el("tbody", {}, provinces.map((p) => el("tr", {}, el("td", {}, nm(p, "province", lang)),
        el("td", { class: "num" }, `${text.wins} ${p.wins}`),
        el("td", { class: "num" }, formatPrize(p.prize, lang)))))));
  }
  const points = (doc.standings && doc.standings.points) || [];
  if (points.length) {
    parts.push(el("h2", {}, text.points), el("table", { class: "results" },
      el("tbody", {}, points.map((p, i) => el("tr", {}, el("td", {}, i + 1),
        el("td", {}, nm(p, "horse", lang)), el("td", { class: "num" }, p.points))))));
  }
  standings.replaceChildren(...parts);
}

export function renderOverlay(doc, text, lang, parts, raceId) {
  const races = doc.items || [];
  const race = races.find((r) => r.race_id === (raceId || doc.last_race_id))
    || races.find((r) => r.state === "scheduled") || races[races.length - 1];
  const holder = document.getElementById("overlay");
  if (!race) { holder.replaceChildren(); return; }
  const hasResult = race.results && race.results.length && race.state !== "scheduled";
  const blocks = [el("div", { class: "ov-head" },
    el("span", { class: "ov-title" }, nm(race, "name", lang)),
    hasResult ? badge(race.state, text) : el("span", { class: "badge scheduled" }, text.next))];
  if (race.sponsor && parts.includes("sponsor")) {
    blocks.push(el("div", { class: "ov-sponsor", "data-testid": "sponsor" },
      `${text.sponsor} ${nm(race.sponsor, "name", lang)}`));
  }
  if (hasResult && parts.includes("result")) {
    blocks.push(el("ol", { class: "ov-rows", "data-testid": "overlay-result" },
      race.results.filter((r) => !r.status || r.status === "finished").slice(0, 8).map((r) =>
        el("li", {}, el("span", { class: "ov-place" }, r.place), el("span", { class: "ov-horse" },
          nm(r, "horse", lang)), el("span", { class: "ov-rider" }, r.rider || ""),
          parts.includes("prize") ? el("span", { class: "ov-prize" }, formatPrize(r.prize, lang)) : null))));
  } else if (parts.includes("start")) {
    blocks.push(el("ol", { class: "ov-rows", "data-testid": "overlay-start" },
      (race.start_list || []).slice(0, 12).map((s) => el("li", {},
        el("span", { class: "ov-place" }, s.position || ""),
        el("span", { class: "ov-horse" }, nm(s, "horse", lang)),
        el("span", { class: "ov-rider" }, s.rider || "")))));
  }
  holder.replaceChildren(el("section", { class: `ov-card ${race.state}`, "data-state": race.state }, blocks));
}
