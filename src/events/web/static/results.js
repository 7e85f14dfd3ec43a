// Officials' results entry (templates/results/officials.html). One request per submit:
// the whole race, with an Idempotency-Key made once per draft, so a retry after a lost
// answer is stored once. The submit button is disabled while a request is in flight.
const TOKEN_KEY = "events.official.token";
const $ = id => document.getElementById(id);
const config = JSON.parse($("officials-config").textContent);
const text = JSON.parse($("officials-text").textContent);
const root = $("officials");

let race = null;        // GET /api/v1/races/{id}/results
let draft = [];         // [{entry_id, horse_name, ..., place, dead_heat, status, reason, value, faults}]
let pendingKey = null;  // the Idempotency-Key of the submission being (re)tried
let inFlight = false;
let taps = 0;           // how many horses have been tapped (finish order)

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

function show(el, on) { el.hidden = !on; }

function showLogin(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  show($("board"), false);
  show($("login"), true);
  $("login-error").textContent = message;
  root.dataset.state = "login";
}

async function showBoard() {
  show($("login"), false);
  show($("board"), true);
  root.dataset.state = "board";
  await loadRaces();
}

async function login(event) {
  event.preventDefault();
  let response;
  try {
    response = await fetch("/api/v1/auth/login", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: $("username").value.trim(), password: $("password").value})});
  } catch {
    $("login-error").textContent = text.network;
    return;
  }
  if (!response.ok) {
    $("login-error").textContent = text.login_failed;
    return;
  }
  const body = await response.json();
  if (body.role !== "official" && body.role !== "organiser") {
    $("login-error").textContent = text.not_official;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  $("password").value = "";
  await showBoard();
}

async function api(path, {method = "GET", body, headers = {}} = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) { showLogin(); return null; }
  const all = {"Authorization": `Bearer ${token}`, ...headers};
  if (body !== undefined) all["Content-Type"] = "application/json";
  const response = await fetch(path, {method, headers: all, cache: "no-store",
                                      body: body === undefined ? undefined : JSON.stringify(body)});
  if (response.status === 401) { showLogin(text.expired); return null; }
  if (response.status === 403) { showLogin(text.not_official); return null; }
  return response;
}

function raceName(r) { return config.lang === "en" ? (r.name_en || r.name_zh) : (r.name_zh || r.name_en); }

async function loadRaces() {
  const response = await api(`/api/v1/festivals/${config.festival_id}/results?limit=500`);
  if (!response || !response.ok) return;
  const body = await response.json();
  const select = $("race");
  const chosen = select.value;
  select.length = 1;
  for (const r of body.items) {
    const option = new Option(`${r.date} · ${raceName(r)} (${text["state_" + r.state]})`, r.race_id);
    select.add(option);
  }
  if (chosen) select.value = chosen;
}

async function loadRace(raceId) {
  if (!raceId) { show($("race-panel"), false); return; }
  const response = await api(`/api/v1/races/${raceId}/results`);
  if (!response || !response.ok) return;
  race = await response.json();
  pendingKey = null;
  render();
}

function fromStart(list) {
  taps = 0;
  return list.starters.map(s => ({...s, tap: null, joined: false, place: null, dead_heat: false,
                                  status: "finished", reason: "", value: "", faults: ""}));
}

function render() {
  show($("race-panel"), true);
  $("race-state").textContent = text["state_" + race.state];
  $("race-state").dataset.state = race.state;
  const closes = race.version && race.version.objections_close_at;
  $("window").textContent = race.state === "provisional" && closes
    ? text.objections_close + new Date(closes).toLocaleTimeString() : "";
  show($("no-list"), !race.start_list);
  show($("entry"), !!race.start_list);
  if (race.start_list) {
    draft = fromStart(race.start_list);
    renderDraft();
  }
  renderResult();
}

function tapped(row) {
  if (race.ranked_by !== "finish_order" || row.status !== "finished") return;
  if (row.tap === null) row.tap = ++taps;
  changed();
}

function changed() { placesFromTaps(); pendingKey = null; $("submit-status").textContent = ""; show($("retry"), false); renderDraft(); }

function renderDraft() {
  const list = $("starters");
  list.replaceChildren();
  const method = race.ranked_by;
  const ordered = [...draft].sort((a, b) => (a.place ?? 1e9) - (b.place ?? 1e9) || a.position - b.position);
  for (const row of method === "finish_order" ? ordered : draft) {
    const li = document.createElement("li");
    li.dataset.testid = "starter";
    li.dataset.status = row.status;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "horse";
    button.dataset.testid = "horse";
    const badge = row.status !== "finished" ? row.status.toUpperCase()
      : (row.place !== null ? `${row.place}${row.dead_heat ? "=" : ""}` : row.position);
    button.innerHTML = `<span class="badge"></span><span class="name"></span><small></small>`;
    button.querySelector(".badge").textContent = badge;
    button.querySelector(".name").textContent = row.horse_name;
    button.querySelector("small").textContent = `${row.rider_name} · ${row.county}`;
    button.addEventListener("click", () => tapped(row));
    li.append(button);
    if (method !== "finish_order") {
      const input = document.createElement("input");
      input.dataset.testid = "value";
      input.inputMode = method === "judges_score" ? "text" : "decimal";
      input.placeholder = {time: text.time, gait_legal_time: text.time, count: text.count,
                           points: text.points, judges_score: text.scores}[method] || "";
      input.value = row.value;
      input.addEventListener("input", () => { row.value = input.value; pendingKey = null; });
      li.append(input);
      if (method === "gait_legal_time") {
        const faults = document.createElement("input");
        faults.dataset.testid = "faults";
        faults.inputMode = "numeric";
        faults.placeholder = text.faults;
        faults.value = row.faults;
        faults.addEventListener("input", () => { row.faults = faults.value; pendingKey = null; });
        li.append(faults);
      }
    } else if (row.place !== null && row.place > 1) {
      const tie = document.createElement("button");
      tie.type = "button";
      tie.className = "secondary small";
      tie.dataset.testid = "dead-heat";
      tie.textContent = text.dead_heat;
      tie.setAttribute("aria-pressed", String(row.joined));
      tie.addEventListener("click", () => toggleDeadHeat(row));
      li.append(tie);
    }
    const marks = document.createElement("span");
    marks.className = "marks";
    for (const status of ["dnf", "dsq", "dns"]) {
      const mark = document.createElement("button");
      mark.type = "button";
      mark.className = "secondary small";
      mark.dataset.testid = status;
      mark.textContent = text[status];
      mark.setAttribute("aria-pressed", String(row.status === status));
      mark.addEventListener("click", () => markStatus(row, status));
      marks.append(mark);
    }
    li.append(marks);
    list.append(li);
  }
}

function placesFromTaps() {
  // Places in tap order; a horse joined to the one before shares its place (a dead heat),
  // and the next horse takes the place after the pooled ones (k+n).
  const tapped = draft.filter(r => r.tap !== null && r.status === "finished").sort((a, b) => a.tap - b.tap);
  tapped.forEach((row, i) => {
    if (i === 0) row.joined = false;
    row.place = row.joined ? tapped[i - 1].place : i + 1;
  });
  tapped.forEach((row, i) => { row.dead_heat = row.joined || !!(tapped[i + 1] && tapped[i + 1].joined); });
  for (const row of draft) if (row.tap === null || row.status !== "finished") { row.place = null; row.dead_heat = false; }
}

function toggleDeadHeat(row) {
  row.joined = !row.joined;
  changed();
}

function markStatus(row, status) {
  if (row.status === status) {
    row.status = "finished";
    row.reason = "";
  } else {
    if (status === "dsq") {
      const reason = window.prompt(text.reason_prompt, row.reason || "");
      if (!reason) return;
      row.reason = reason;
    }
    row.status = status;
  }
  if (row.status !== "finished") { row.tap = null; row.joined = false; }
  changed();
}

function hundredths(value) {
  const v = value.trim();
  if (!v) return undefined;
  const parts = v.split(":");
  const seconds = parts.length === 2 ? Number(parts[0]) * 60 + Number(parts[1]) : Number(parts[0]);
  return Number.isFinite(seconds) ? Math.round(seconds * 100) : NaN;
}

function starterBody(row) {
  const body = {entry_id: row.entry_id, status: row.status};
  if (row.status === "dsq") body.reason = row.reason;
  if (row.status !== "finished") return body;
  const method = race.ranked_by;
  if (method === "finish_order") {
    if (row.place !== null) body.place = row.place;
    if (row.dead_heat) body.dead_heat = true;
  } else if (method === "time" || method === "gait_legal_time") {
    const h = hundredths(row.value);
    if (h !== undefined) body.time_hundredths = h;
    if (method === "gait_legal_time") body.gait_faults = Number(row.faults || 0);
  } else if (method === "count") {
    if (row.value !== "") body.count = Number(row.value);
  } else if (method === "points") {
    if (row.value !== "") body.points = Number(row.value);
  } else if (method === "judges_score") {
    body.scores = row.value.split(/[,，\s]+/).filter(Boolean).map(Number);
  }
  return body;
}

async function submit() {
  if (inFlight) return;
  const body = {starters: draft.map(starterBody)};
  if (race.state === "official" || race.state === "amended") {
    const reason = window.prompt(text.amend_reason, "");
    if (!reason) return;
    body.reason = reason;
  }
  if (!pendingKey) pendingKey = newKey();
  inFlight = true;
  $("submit").disabled = true;
  $("retry").disabled = true;
  $("submit-status").textContent = text.sending;
  root.dataset.submit = "sending";
  let response = null;
  try {
    response = await api(`/api/v1/races/${race.race_id}/results`,
                         {method: "POST", body, headers: {"Idempotency-Key": pendingKey}});
  } catch {
    response = undefined;
  } finally {
    inFlight = false;
    $("submit").disabled = false;
    $("retry").disabled = false;
  }
  if (response === null) return;
  if (response === undefined || response.status >= 500) {
    // The answer was lost or the server failed: retry with the same key (stored once).
    $("submit-status").textContent = text.failed + text.network;
    root.dataset.submit = "failed";
    show($("retry"), true);
    return;
  }
  const answer = await response.json();
  if (!response.ok) {
    pendingKey = null;
    const fields = (answer.errors || []).map(e => `${e.field}: ${e.message}`).join("; ");
    $("submit-status").textContent = `${text.failed}${answer.detail}${fields ? " — " + fields : ""}`;
    root.dataset.submit = "refused";
    show($("retry"), false);
    return;
  }
  pendingKey = null;
  show($("retry"), false);
  root.dataset.submit = "done";
  await loadRace(race.race_id);
  $("submit-status").textContent = text.submitted;
  await loadRaces();
}

function renderResult() {
  const version = race.version;
  show($("result"), !!version);
  if (!version) return;
  $("result-title").textContent = `${text["state_" + race.state]} · v${version.number}`;
  const list = $("result-rows");
  list.replaceChildren();
  for (const row of version.rows) {
    const li = document.createElement("li");
    li.dataset.testid = "result-row";
    const place = row.status === "finished" ? `${row.place}${row.dead_heat ? "=" : ""}` : row.status.toUpperCase();
    const time = row.time_hundredths != null ? ` ${(row.time_hundredths / 100).toFixed(2)}s` : "";
    const prize = row.prize_fen ? ` · ${text.prize} ¥${(row.prize_fen / 100).toLocaleString()}` : "";
    li.textContent = `${place} ${row.horse_name}${time}${row.reason ? " (" + row.reason + ")" : ""}${prize}`;
    list.append(li);
  }
  show($("declare"), race.state === "provisional");
}

async function declare() {
  $("declare").disabled = true;
  let response;
  try {
    response = await api(`/api/v1/races/${race.race_id}/official`, {method: "POST", body: {}});
  } catch {
    $("declare-status").textContent = text.failed + text.network;
    $("declare").disabled = false;
    return;
  } finally {
    $("declare").disabled = false;
  }
  if (!response) return;
  const answer = await response.json();
  if (!response.ok) {
    $("declare-status").textContent = text.failed + answer.detail;
    return;
  }
  await loadRace(race.race_id);
  $("declare-status").textContent = text.declared;
  await loadRaces();
}

async function drawList() {
  $("draw").disabled = true;
  try {
    const drawn = await api(`/api/v1/races/${race.race_id}/draw`, {method: "POST", body: {}});
    if (drawn && drawn.ok) await api(`/api/v1/races/${race.race_id}/start-list/publish`, {method: "POST"});
  } finally {
    $("draw").disabled = false;
  }
  await loadRace(race.race_id);
}

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => showLogin());
$("race").addEventListener("change", () => loadRace($("race").value));
$("submit").addEventListener("click", submit);
$("retry").addEventListener("click", submit);
$("declare").addEventListener("click", declare);
$("draw").addEventListener("click", drawList);
$("clear").addEventListener("click", () => { if (race && race.start_list) { draft = fromStart(race.start_list); changed(); } });
if (sessionStorage.getItem(TOKEN_KEY)) showBoard(); else showLogin();
