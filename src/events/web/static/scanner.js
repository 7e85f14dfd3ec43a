// Gate scanner: one device token, camera or keyboard-wedge input, an answer the whole gate
// can see and hear. Online, the server decides (POST /api/v1/checkin/scan, retried with the
// same nonce). Offline, the phone verifies the signed token itself (docs/tickets.md: base32,
// Ed25519 over "events.ticket.v1" || festival_id || body), checks revocations, the day, the
// gate and its own record of admissions, answers, and queues the scan; the queue goes to
// POST /api/v1/checkin/sync when the network is back. No framework, no build step.

import {base64Bytes, dayNumber, decideOffline, keysFrom, localParts, parseToken, uuidOf, verifyToken}
  from "/static/checkin-decision.js";

const ONLINE_TIMEOUT_MS = 2500;   // then the phone decides by itself
const PROBE_MS = 10_000;           // how often an offline phone tries /health
const KEYS_REFRESH_MS = 60_000;    // keys, revocations and layout, while online
const SYNC_BATCH = 500;            // the server's limit per upload
const CAMERA_FRAME_MS = 150;
const SAME_CODE_MS = 4000;         // a code still in front of the camera is not scanned twice
const CLOCK_SKEW_WARN_MS = 5 * 60_000;
const PREFIX = "events.scanner.";

// Answers shown at the gate are always in both languages.
const BOTH = {
  device_refused: ["本设备已停用或令牌无效", "This device was revoked or its token is not valid"],
  problem: ["无法核验", "Could not check this code"],
  storage_full: ["手机存储已满：离线记录未能保存！", "Phone storage full: this offline scan was NOT saved!"],
  offline_note: ["断网时本机判定，联网后自动上传", "Decided on this phone offline; uploaded when back online"],
  first_entry: ["首次入场", "First entry"],
  child: ["（儿童票）", " (child ticket)"],
  ticket: ["票号", "Ticket"],
  tap: ["轻触屏幕关闭", "Tap to dismiss"],
  auto_clear: ["稍后自动关闭，轻触立即关闭", "Clears by itself; tap to dismiss now"],
};
const DEFAULT_CLEAR_MS = 3000;  // a green answer clears after this (the device's setting)

/** A ticket's short reference: the first 8 characters of its id. */
function shortRef(ticketId) {
  return ticketId ? ticketId.replace(/-/g, "").slice(0, 8).toUpperCase() : null;
}

const config = JSON.parse(document.getElementById("scanner-config").textContent);
// The scanner's words in every page language, from the catalogs (checkin/pages.py).
const TEXT = config.text;
const lang = document.documentElement.lang.split("-")[0] in TEXT ? document.documentElement.lang.split("-")[0] : "zh";
const $ = id => document.getElementById(id);
const text = (key, values = {}) =>
  TEXT[lang][key].replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));

// --- storage ---------------------------------------------------------------------------

const store = {
  get(key, fallback) {
    try {
      const value = localStorage.getItem(PREFIX + key);
      return value === null ? fallback : JSON.parse(value);
    } catch {
      return fallback;
    }
  },
  set(key, value) {  // false when the phone's storage is full
    try {
      localStorage.setItem(PREFIX + key, JSON.stringify(value));
      return true;
    } catch {
      return false;
    }
  },
  clear() {
    for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
  },
};

// --- the token (docs/tickets.md, "The QR token") --------------------------------------

let noble = null;
/** @noble/ed25519, loaded once; a failed load (offline) is not kept, so it is tried again. */
async function loadNoble() {
  noble ??= import("/static/vendor/noble-ed25519.js").catch(error => { noble = null; throw error; });
  return noble;
}

let jsqr = null;
function loadJsQR() {
  if (window.jsQR) return Promise.resolve();
  jsqr ??= loadScript("/static/vendor/jsQR.js").catch(error => { jsqr = null; throw error; });
  return jsqr;
}

/** Everything an offline check needs, loaded while online and kept for the page's life:
 * the Ed25519 fallback where WebCrypto lacks it, and jsQR for the camera. */
async function preloadOfflineTools() {
  const loads = [loadJsQR()];
  if (await verifier.detect() === "noble") loads.push(loadNoble());
  const done = await Promise.allSettled(loads);
  $("scanner").dataset.tools = done.every(d => d.status === "fulfilled") ? "ready" : "missing";
}

/** Ed25519 with WebCrypto where the browser has it, else @noble/ed25519. */
class Verifier {
  constructor(engine = null) {
    this.engine = engine;  // "webcrypto" | "noble"; null: decide on first use
    this.keys = new Map();
  }

  async detect() {
    if (this.engine) return this.engine;
    try {  // the RFC 8032 test key of docs/tickets.md
      await crypto.subtle.importKey("raw", base64Bytes("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="),
                                    {name: "Ed25519"}, false, ["verify"]);
      this.engine = "webcrypto";
    } catch {
      this.engine = "noble";
    }
    return this.engine;
  }

  async verify(publicKey, signature, message) {
    if (await this.detect() === "webcrypto") {
      let key = this.keys.get(publicKey);
      if (!key) {
        key = await crypto.subtle.importKey("raw", base64Bytes(publicKey), {name: "Ed25519"}, false, ["verify"]);
        this.keys.set(publicKey, key);
      }
      return crypto.subtle.verify({name: "Ed25519"}, key, signature, message);
    }
    const ed = await loadNoble();
    return ed.verifyAsync(signature, message, base64Bytes(publicKey), {zip215: false});
  }
}

// --- time in the festival's zone -------------------------------------------------------

function clockText(timeZone, ms, seconds = false) {
  try {
    const time = localParts(timeZone, ms).time;
    return seconds ? `${time}:${String(new Date(ms).getUTCSeconds()).padStart(2, "0")}` : time;
  } catch {
    return new Date(ms).toTimeString().slice(0, seconds ? 8 : 5);
  }
}

// --- state -----------------------------------------------------------------------------

const state = {
  token: null,
  device: null,     // {device_id, festival_id, gate_id, name, festival: {name_zh, name_en}}
  offline: !navigator.onLine,
  refused: false,   // the server refused this device's token
  kind: store.get("kind", "entry"),
  camera: null,
  timers: [],
  answerTimer: null,
};
const verifier = new Verifier();

function keys() {
  const current = store.get("keys", null);
  return current && state.device && current.festival_id === state.device.festival_id ? current : null;
}

function gateOf(keysNow, gateId) {
  return keysNow?.gates.find(g => g.id === gateId) ?? null;
}

function nameOf(obj, field = "name") {
  if (!obj) return "";
  return obj[`${field}_${lang}`] || obj[`${field}_${lang === "zh" ? "en" : "zh"}`] || obj[`${field}_en`] || "";
}

// --- the API -----------------------------------------------------------------------------

async function api(method, path, body = null, timeoutMs = 8000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(1, timeoutMs));
  try {
    return await fetch(path, {
      method, signal: controller.signal, cache: "no-store",
      headers: {"Authorization": `Device ${state.token}`,
                ...(body ? {"Content-Type": "application/json"} : {})},
      body: body ? JSON.stringify(body) : null});
  } finally {
    clearTimeout(timer);
  }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function refuseDevice() {
  state.refused = true;
  $("device-warning").textContent = text("device_refused");
  $("device-warning").hidden = false;
}

/** One scan, online: retried with the same nonce (the server replays its stored answer)
 * until ``ONLINE_TIMEOUT_MS`` has passed; then ``{fallback: true}``. */
async function postScan(item) {
  const deadline = performance.now() + ONLINE_TIMEOUT_MS;
  const body = {secret: item.secret, nonce: item.nonce, type: item.type, scanned_at: item.scanned_at};
  for (let attempt = 1; ; attempt++) {
    const left = deadline - performance.now();
    if (left <= 0 || !navigator.onLine) return {fallback: true};
    try {
      const response = await api("POST", "/api/v1/checkin/scan", body, left);
      if (response.ok) return {answer: await response.json()};
      if (response.status < 500) {
        const problem = await response.json().catch(() => ({}));
        return {problem, status: response.status};
      }
    } catch {
      // network error or timeout: try again while there is time
    }
    await sleep(Math.min(100 * attempt, Math.max(0, deadline - performance.now())));
  }
}

// --- deciding offline --------------------------------------------------------------------

function explained(reason) {
  const [zh, en] = config.explanations[reason] ?? config.explanations.ambiguous;
  return {zh, en};
}

function admittedToday(day) {
  const record = store.get("admitted", null);
  return record && record.day === day ? record : {day, entries: {}};
}

function remember(day, ticketId, listId, change) {
  const record = admittedToday(day);
  const key = `${ticketId}:${listId}`;
  record.entries[key] = {...(record.entries[key] ?? {}), ...change};
  store.set("admitted", record);
}

async function decideLocally(secret, kind) {
  const keysNow = keys();
  const claims = keysNow ? await verifyToken(secret, keysNow, verifier) : "no_keys";
  let today = null;
  try {
    if (keysNow) today = dayNumber(keysNow.timezone, Date.now());
  } catch {
    today = null;
  }
  const record = today === null ? null : admittedToday(today);
  const decision = decideOffline({
    claims, keys: keysNow, kind, today,
    seenOf: listId => record?.entries[`${claims.ticketId}:${listId}`]});
  const ticketId = typeof claims === "string" ? undefined : claims.ticketId;
  if (decision.change) {
    const gate = gateOf(keysNow, keysNow.gate_id);
    const {first, ...change} = decision.change;
    remember(today, ticketId, decision.list.id, {
      ...change, ...(first ? {at: Date.now(), gate_zh: gate?.name_zh, gate_en: gate?.name_en} : {})});
  }
  if (decision.reason === "already_redeemed") {
    const seen = decision.seen;
    const at = clockText(keysNow.timezone, seen.at);
    return {
      status: "error", reason: "already_redeemed", ticketId,
      zh: `此票今日已于 ${at} 从${seen.gate_zh || TEXT.zh.other_gate}入场`,
      en: `Already entered today at ${at} via ${seen.gate_en || TEXT.en.other_gate}`,
      firstEntry: {at: seen.at, gate_name_zh: seen.gate_zh, gate_name_en: seen.gate_en},
    };
  }
  if (decision.status !== "ok") return {status: "error", reason: decision.reason, ticketId, ...explained(decision.reason)};
  if (kind === "exit") return {status: "ok", reason: null, ticketId, ...explained("exit")};
  const ok = explained("ok");
  const child = claims.flags & 1;
  return {status: "ok", reason: null, ticketId,
          zh: ok.zh + (child ? BOTH.child[0] : ""), en: ok.en + (child ? BOTH.child[1] : "")};
}

/** What this phone learns from an online answer, so that it can refuse a second entry
 * by itself once offline. */
function learn(answer, item) {
  const keysNow = keys();
  const list = answer.ticket?.enclosure_id;
  if (!keysNow || !list) return;
  let today;
  try {
    today = dayNumber(keysNow.timezone, Date.now());
  } catch {
    return;
  }
  const gate = gateOf(keysNow, keysNow.gate_id);
  if (answer.status === "ok" && item.type === "exit") {
    remember(today, answer.ticket.id, list, {inside: false});
  } else if (answer.status === "ok" || answer.reason === "already_redeemed") {
    const first = answer.first_entry;
    const firstAt = first ? Date.parse(first.at) : Date.now();
    remember(today, answer.ticket.id, list, {
      inside: true, at: firstAt,
      gate_zh: first ? first.gate_name_zh : gate?.name_zh, gate_en: first ? first.gate_name_en : gate?.name_en});
  }
}

// --- the queue of offline scans ----------------------------------------------------------

function queue() {
  return store.get("queue", []);
}

function enqueue(item) {
  const saved = store.set("queue", [...queue(), item]);
  renderNet();
  return saved;
}

let syncing = null;

function syncQueue() {
  syncing ??= uploadQueue().finally(() => { syncing = null; renderNet(); });
  return syncing;
}

async function uploadQueue() {
  for (;;) {
    const pending = queue();
    if (!pending.length || !state.token || state.refused) return;
    const batch = pending.slice(0, SYNC_BATCH);
    let response;
    try {
      response = await api("POST", "/api/v1/checkin/sync", {scans: batch}, 15_000);
    } catch {
      setOffline(true);
      return;
    }
    if (response.status === 401 || response.status === 403) { refuseDevice(); return; }
    if (response.status === 422) {
      // Scans the server will never take (e.g. older than 14 days): set aside, shown.
      const problem = await response.json().catch(() => ({}));
      const bad = new Set((problem.errors ?? []).map(e => /^scans\.(\d+)\./.exec(e.field)?.[1])
                                               .filter(i => i !== undefined).map(Number));
      if (!bad.size) return;
      const nonces = new Set(batch.filter((_, i) => bad.has(i)).map(i => i.nonce));
      store.set("rejected", [...store.get("rejected", []), ...batch.filter(i => nonces.has(i.nonce))]);
      store.set("queue", queue().filter(i => !nonces.has(i.nonce)));
      continue;
    }
    if (!response.ok) return;  // the server is unwell: the probe tries again later
    const result = await response.json();
    const sent = new Set(batch.map(i => i.nonce));
    store.set("queue", queue().filter(i => !sent.has(i.nonce)));
    const byNonce = new Map(batch.map(i => [i.nonce, i]));
    const conflicts = result.items.filter(i => i.conflict).map(i => ({
      nonce: i.nonce, scanned_at: byNonce.get(i.nonce)?.scanned_at, first_entry: i.first_entry,
      ticket: shortRef(parseToken(byNonce.get(i.nonce)?.secret ?? "")?.ticketId)}));
    if (conflicts.length) {
      store.set("conflicts", [...store.get("conflicts", []), ...conflicts].slice(-100));
      renderConflicts();
    }
    renderNet();
  }
}

// --- keys, revocations and layout for offline checks -------------------------------------

async function refreshKeys() {
  if (!state.device || state.refused) return;
  const current = keys();
  const since = current ? current.cursor : 0;
  let response;
  try {
    response = await api("GET", `/api/v1/checkin/keys?since=${since}`);
  } catch {
    return;
  }
  if (response.status === 401 || response.status === 403) { refuseDevice(); return; }
  if (!response.ok) return;
  const fresh = await response.json();
  store.set("keys", keysFrom(fresh, current));
  renderDevice();
}

// --- network state -------------------------------------------------------------------------

function setOffline(offline) {
  state.offline = offline;
  renderNet();
}

async function probe() {
  if (!state.device) return;
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3000);
    const response = await fetch("/health", {cache: "no-store", signal: controller.signal});
    clearTimeout(timer);
    if (response.ok) {
      setOffline(false);
      await syncQueue();
      if (!keys() || Date.now() - keys().fetched_at > KEYS_REFRESH_MS) await refreshKeys();
      return;
    }
  } catch {
    // still offline
  }
  setOffline(true);
}

// --- scanning ------------------------------------------------------------------------------

function newNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return uuidOf(crypto.getRandomValues(new Uint8Array(16)));  // insecure contexts lack randomUUID
}

let chain = Promise.resolve();

/** Scans are handled one at a time, in the order read. */
function submit(code) {
  const secret = String(code).trim();
  if (!secret || !state.device) return;
  chain = chain.then(() => handle(secret)).catch(error => console.error("scan failed", error));
}

async function handle(secret) {
  const item = {secret, nonce: newNonce(), scanned_at: new Date().toISOString(), type: state.kind};
  $("scanner").dataset.busy = "true";
  let result;
  try {
    if (state.refused) {
      const [zh, en] = BOTH.device_refused;
      result = {status: "error", reason: "device", zh, en};
    } else if (!state.offline && navigator.onLine) {
      if (queue().length) await Promise.race([syncQueue(), sleep(1000)]);
      const online = await postScan(item);
      if (online.answer) {
        learn(online.answer, item);
        result = {status: online.answer.status, reason: online.answer.reason,
                  zh: online.answer.explanation_zh, en: online.answer.explanation_en,
                  firstEntry: online.answer.first_entry, ticketId: online.answer.ticket?.id};
      } else if (online.problem) {
        if (online.status === 401 || online.status === 403) refuseDevice();
        const [zh, en] = online.status === 401 || online.status === 403 ? BOTH.device_refused : BOTH.problem;
        result = {status: "error", reason: online.problem.code ?? "problem", zh,
                  en: online.problem.detail ? `${en}: ${online.problem.detail}` : en};
      } else {
        setOffline(true);
      }
    }
    if (!result) {
      result = {...await decideLocally(secret, item.type), offline: true};
      const saved = enqueue({...item, local_result: result.status, local_reason: result.reason});
      if (!saved) {
        const [zh, en] = BOTH.storage_full;
        result = {...result, status: "error", zh, en};
      }
    }
  } finally {
    delete $("scanner").dataset.busy;
  }
  result.local = localAnswer(result, item.type);
  showAnswer(result);
  addRecent(result);
}

// --- the answer: seen, heard and felt --------------------------------------------------------

let audio = null;

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  audio ??= new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

function beep(ok) {
  const ctx = audio && audioContext();
  if (!ctx) return;
  const tones = ok ? [[1320, 0, 0.16]] : [[220, 0, 0.2], [220, 0.28, 0.2]];
  for (const [frequency, start, length] of tones) {
    const oscillator = ctx.createOscillator();
    const gain = ctx.createGain();
    oscillator.type = ok ? "sine" : "square";
    oscillator.frequency.value = frequency;
    const t0 = ctx.currentTime + start;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.35, t0 + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + length);
    oscillator.connect(gain).connect(ctx.destination);
    oscillator.start(t0);
    oscillator.stop(t0 + length + 0.02);
  }
}

/** The answer in the page's language when that is neither Chinese nor English (Tibetan);
 * the Chinese and English lines stay below it. */
function localAnswer(result, kind) {
  if (!config.answers) return "";
  const reason = result.status === "ok" ? (kind === "exit" ? "exit" : "ok") : result.reason;
  return config.answers[reason] ?? config.answers.problem ?? "";
}

function showAnswer(result) {
  const panel = $("answer");
  const ok = result.status === "ok";
  panel.dataset.status = ok ? "ok" : "error";
  panel.dataset.reason = result.reason ?? "";
  panel.dataset.offline = result.offline ? "true" : "false";
  panel.dataset.seq = String(Number(panel.dataset.seq ?? 0) + 1);  // one more answer shown
  $("answer-mark").textContent = ok ? "✓" : "✕";
  $("answer-local").textContent = result.local ?? "";
  $("answer-local").hidden = !result.local;
  $("answer-zh").textContent = result.zh;
  $("answer-en").textContent = result.en;
  const first = result.firstEntry;
  const keysNow = keys();
  if (first && result.reason === "already_redeemed") {
    const zone = keysNow?.timezone ?? "Asia/Shanghai";
    const at = typeof first.at === "number" ? first.at : Date.parse(first.at);
    const date = new Intl.DateTimeFormat("zh-CN", {timeZone: zone, dateStyle: "medium", timeStyle: "short"})
      .format(new Date(at));
    $("answer-detail").textContent = `${BOTH.first_entry[0]} ${BOTH.first_entry[1]}: ${date} · `
      + `${first.gate_name_zh ?? ""} ${first.gate_name_en ?? ""}`.trim();
  } else {
    $("answer-detail").textContent = result.offline ? `${BOTH.offline_note[0]} · ${BOTH.offline_note[1]}` : "";
  }
  $("answer-offline").hidden = !result.offline;
  // What makes this answer unlike the last one: its number, the time, the ticket.
  const seq = panel.dataset.seq;
  const when = clockText(keysNow?.timezone ?? "Asia/Shanghai", Date.now(), true);
  $("answer-ref").textContent = `#${seq} · ${when} · ${BOTH.ticket[0]} ${shortRef(result.ticketId) ?? "—"}`;
  clearTimeout(state.answerTimer);
  const clearMs = store.get("clear_ms", DEFAULT_CLEAR_MS);
  // Green clears itself; red stays until a steward taps it.
  if (ok && clearMs > 0) state.answerTimer = setTimeout(hideAnswer, clearMs);
  $("answer-dismiss").textContent = ok && clearMs > 0 ? BOTH.auto_clear.join(" · ") : BOTH.tap.join(" · ");
  panel.hidden = false;
  beep(ok);
  navigator.vibrate?.(ok ? 80 : [200, 100, 200]);
}

function hideAnswer() {
  clearTimeout(state.answerTimer);
  $("answer").hidden = true;
  keepFocus();
}

function addRecent(result) {
  const list = $("recent");
  const li = document.createElement("li");
  li.dataset.testid = "recent-item";
  li.className = result.status === "ok" ? "ok" : "bad";
  const when = clockText(keys()?.timezone ?? "Asia/Shanghai", Date.now());
  li.textContent = `${when} ${result.status === "ok" ? "✓" : "✕"} ${result.local || (lang === "en" ? result.en : result.zh)}`
    + (result.offline ? ` · ${text("offline")}` : "");
  list.prepend(li);
  while (list.children.length > 8) list.lastElementChild.remove();
}

// --- rendering ----------------------------------------------------------------------------------

function renderNet() {
  const pending = queue().length;
  const root = $("scanner");
  root.dataset.online = state.offline ? "false" : "true";
  root.dataset.queue = String(pending);
  $("net").textContent = state.offline ? text("offline") : text("online");
  $("net").className = state.offline ? "net off" : "net on";
  const banner = $("offline-banner");
  banner.hidden = !state.offline && pending === 0;
  banner.classList.toggle("uploading", !state.offline);
  $("offline-word").textContent = state.offline ? `${TEXT.en.offline} ${TEXT.zh.offline}` : "";
  $("queue-text").textContent = state.offline ? text("queued", {n: pending}) : text("uploading", {n: pending});
  $("queue-text").dataset.count = String(pending);
  const rejected = store.get("rejected", []).length;
  if (rejected && !state.refused) {
    $("device-warning").textContent = text("rejected", {n: rejected});
    $("device-warning").hidden = false;
  }
}

function renderDevice() {
  const device = state.device;
  if (!device) return;
  const keysNow = keys();
  const gate = gateOf(keysNow, device.gate_id);
  $("gate-name").textContent = [nameOf(gate) || text("gate"), device.name].filter(Boolean).join(" · ");
  $("festival-name").textContent = nameOf(device.festival);
  const status = $("keys-status");
  if (keysNow) {
    let when;
    try {
      const p = localParts(keysNow.timezone, keysNow.fetched_at);
      when = `${p.month}/${p.day} ${p.time}`;
    } catch {
      when = new Date(keysNow.fetched_at).toLocaleString();
    }
    status.textContent = text("keys_at", {t: when, n: keysNow.revoked.length});
    $("scanner").dataset.keys = "ready";
    if (Math.abs(keysNow.skew_ms ?? 0) > CLOCK_SKEW_WARN_MS && !state.refused) {
      $("device-warning").textContent = text("clock_skew", {m: Math.round(Math.abs(keysNow.skew_ms) / 60_000)});
      $("device-warning").hidden = false;
    }
  } else {
    status.textContent = text("keys_none");
  }
}

function renderConflicts() {
  const conflicts = store.get("conflicts", []);
  $("conflicts").hidden = conflicts.length === 0;
  const zone = keys()?.timezone ?? "Asia/Shanghai";
  $("conflict-list").replaceChildren(...conflicts.map(c => {
    const li = document.createElement("li");
    const first = c.first_entry;
    li.dataset.testid = "conflict-item";
    li.textContent = text("conflict_item", {
      ticket: c.ticket ?? "?", time: c.scanned_at ? clockText(zone, Date.parse(c.scanned_at)) : "",
      first: first ? clockText(zone, Date.parse(first.at)) : "?",
      gate: (first && (lang === "zh" ? first.gate_name_zh : first.gate_name_en)) || text("other_gate")});
    return li;
  }));
}

function renderKind() {
  for (const button of document.querySelectorAll("[data-kind]")) {
    button.setAttribute("aria-pressed", String(button.dataset.kind === state.kind));
  }
  $("scanner").dataset.kind = state.kind;
}

// --- keeping the wedge input focused --------------------------------------------------------------

const wedge = $("wedge");

function isTyping(element) {
  return element && element !== wedge && element.matches("input, textarea, select");
}

function keepFocus() {
  if (!$("station").hidden && !isTyping(document.activeElement)) wedge.focus({preventScroll: true});
}

// --- the camera -------------------------------------------------------------------------------------

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(script);
  });
}

async function makeDetector() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        const detector = new window.BarcodeDetector({formats: ["qr_code"]});
        return {kind: "native", detect: async video => (await detector.detect(video))[0]?.rawValue ?? null};
      }
    } catch {
      // fall through to jsQR
    }
  }
  await loadJsQR();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", {willReadFrequently: true});
  return {kind: "jsqr", detect: async video => {
    const scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
    if (!width || !height) return null;
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const image = context.getImageData(0, 0, width, height);
    return window.jsQR(image.data, width, height, {inversionAttempts: "dontInvert"})?.data ?? null;
  }};
}

async function startCamera() {
  $("camera-error").textContent = "";
  if (!navigator.mediaDevices?.getUserMedia) {
    $("camera-error").textContent = text("camera_missing");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: false, video: {facingMode: {ideal: "environment"}}});
  } catch (error) {
    $("camera-error").textContent = text("camera_error", {e: error.name || error.message});
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  $("camera").hidden = false;
  state.camera = {stream, timer: null};
  renderCameraButton();
  try {
    await video.play();
    const detector = await makeDetector();
    $("camera").dataset.detector = detector.kind;
    let last = {code: null, at: 0};
    const tick = async () => {
      if (!state.camera) return;
      if (video.readyState >= 2) {
        const code = await detector.detect(video).catch(() => null);
        if (code) {
          const now = performance.now();
          if (code !== last.code || now - last.at > SAME_CODE_MS) submit(code);
          last = {code, at: now};  // held in view: not scanned again
        }
      }
      if (state.camera) state.camera.timer = setTimeout(tick, CAMERA_FRAME_MS);
    };
    tick();
  } catch (error) {
    stopCamera();
    $("camera-error").textContent = text("camera_error", {e: error.name || error.message});
  }
}

function stopCamera() {
  if (!state.camera) return;
  clearTimeout(state.camera.timer);
  for (const track of state.camera.stream.getTracks()) track.stop();
  state.camera = null;
  $("video").srcObject = null;
  $("camera").hidden = true;
  renderCameraButton();
}

function renderCameraButton() {
  $("camera-toggle").textContent = state.camera ? text("camera_stop") : text("camera_start");
}

// --- setting the device up ----------------------------------------------------------------------------

function cleanToken(value) {
  return String(value).trim().replace(/^Device\s+/i, "").trim();
}

/** Which device this is (and its festival), from the server; false when the token is refused. */
async function identify() {
  let response;
  try {
    response = await api("GET", "/api/v1/devices/me", null, 6000);
  } catch {
    return null;  // offline: keep what is known
  }
  if (response.status === 401 || response.status === 403) return false;
  if (!response.ok) return null;
  const device = await response.json();
  let festival = {};
  try {
    const got = await fetch(`/api/v1/festivals/${device.festival_id}`, {cache: "no-store"});
    if (got.ok) {
      const body = await got.json();
      festival = {name_zh: body.name_zh, name_en: body.name_en};
    }
  } catch {
    // the names can wait
  }
  return {...device, festival};
}

function showSetup(error = "") {
  stopCamera();
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  $("station").hidden = true;
  $("setup").hidden = false;
  $("setup-error").textContent = error;
  $("scanner").dataset.state = "setup";
  $("device-token").focus();
}

async function startStation() {
  $("setup").hidden = true;
  $("station").hidden = false;
  $("scanner").dataset.state = "station";
  state.device = store.get("device", null);
  renderKind();
  renderCameraButton();
  renderNet();
  renderDevice();
  renderConflicts();
  keepFocus();
  const known = await identify();
  if (known === false) {
    if (state.device) {
      refuseDevice();  // keep the station: offline scans may still be waiting to upload
    } else {
      store.clear();
      state.token = null;
      showSetup(text("token_refused"));
      return;
    }
  } else if (known === null) {
    setOffline(true);  // the server does not answer: start offline, the probe checks again
  } else {
    if (state.device && state.device.device_id !== known.device_id) {
      store.set("admitted", null);
    }
    state.device = known;
    store.set("device", known);
  }
  if (!state.device) {
    showSetup(text("network"));
    return;
  }
  renderDevice();
  if (known) {
    setOffline(false);
    await refreshKeys();
    await syncQueue();
  }
  state.timers.push(setInterval(() => { if (state.offline || queue().length) probe(); }, PROBE_MS));
  state.timers.push(setInterval(() => { if (!state.offline) refreshKeys(); }, KEYS_REFRESH_MS));
  $("scanner").dataset.state = "ready";
}

async function saveToken(value) {
  const token = cleanToken(value);
  if (!token) {
    $("setup-error").textContent = text("token_empty");
    return;
  }
  if (token === state.token && state.device) {
    await startStation();
    return;
  }
  const pending = queue().length;
  if (pending && !window.confirm(text("forget_confirm", {n: pending}))) {
    if (state.token) await startStation();
    return;
  }
  store.clear();
  store.set("token", token);
  state.token = token;
  state.device = null;
  state.refused = false;
  await startStation();
}

async function forget() {
  if (queue().length && !state.offline) await syncQueue();
  const pending = queue().length;
  if (!window.confirm(pending ? text("forget_confirm", {n: pending}) : text("forget_ask"))) return;
  store.clear();
  Object.assign(state, {token: null, device: null, refused: false});
  $("device-warning").hidden = true;
  $("recent").replaceChildren();
  $("device-token").value = "";
  showSetup();
}

// --- wiring ------------------------------------------------------------------------------------------

/** An organiser's QR opens /scan#token=...: the token is kept, and dropped from the address
 * bar (and so from the history). */
function tokenFromLink() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) history.replaceState(null, "", location.pathname + location.search);
  return token;
}

function boot() {
  if (!window.isSecureContext) $("insecure").hidden = false;
  const fromLink = tokenFromLink();

  $("setup-form").addEventListener("submit", event => {
    event.preventDefault();
    saveToken($("device-token").value);
  });
  $("wedge-form").addEventListener("submit", event => {
    event.preventDefault();
    const value = wedge.value;
    wedge.value = "";
    submit(value);
  });
  wedge.addEventListener("keydown", event => {  // some scanners end a code with Tab
    if (event.key === "Tab" && wedge.value.trim()) {
      event.preventDefault();
      $("wedge-form").requestSubmit();
    }
  });
  wedge.addEventListener("blur", () => setTimeout(keepFocus, 50));
  window.addEventListener("focus", keepFocus);
  // A scanner typing while something else has focus still reaches the input.
  document.addEventListener("keydown", event => {
    audioContext();
    if ($("station").hidden || document.activeElement === wedge || isTyping(document.activeElement)) return;
    if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      wedge.focus({preventScroll: true});
      wedge.value += event.key;
    } else if (event.key === "Enter" && wedge.value) {
      event.preventDefault();
      $("wedge-form").requestSubmit();
    }
  });
  document.addEventListener("pointerdown", () => audioContext());
  $("answer").addEventListener("click", hideAnswer);
  for (const button of document.querySelectorAll("[data-kind]")) {
    button.addEventListener("click", () => {
      state.kind = button.dataset.kind;
      store.set("kind", state.kind);
      renderKind();
      keepFocus();
    });
  }
  $("camera-toggle").addEventListener("click", () => { state.camera ? stopCamera() : startCamera(); keepFocus(); });
  $("forget").addEventListener("click", forget);
  $("clear-after").value = String(store.get("clear_ms", DEFAULT_CLEAR_MS));
  $("clear-after").addEventListener("change", () => {
    store.set("clear_ms", Number($("clear-after").value));
    keepFocus();
  });
  preloadOfflineTools();
  $("conflicts-clear").addEventListener("click", () => { store.set("conflicts", []); renderConflicts(); keepFocus(); });
  window.addEventListener("online", probe);
  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("pagehide", stopCamera);
  window.addEventListener("hashchange", () => {  // the link opened while this page was open
    const token = tokenFromLink();
    if (token) saveToken(token);
  });

  state.token = store.get("token", null);
  state.device = state.token ? store.get("device", null) : null;
  if (fromLink) {
    saveToken(fromLink);
    return;
  }
  if (state.token) startStation();
  else showSetup();
}

// For tests and debugging: the offline verifier on its own.
window.eventsScanner = {
  verifyToken: (token, keysAnswer, engine = null) => verifyToken(token, keysAnswer, new Verifier(engine)),
  engine: () => verifier.detect(),
  state,
};

boot();
