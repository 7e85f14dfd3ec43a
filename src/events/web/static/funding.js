// Organisers' funding page: sign in (organiser.js), then the summary
// (GET .../funding/summary), the two charts drawn by the server as SVG
// (GET .../funding/charts/*.svg), the ledger with filters (GET .../funding), a form to
// record a receipt (POST .../funding) and a reversal per record (POST .../{id}/reversal).
import {organiserSignIn} from "/static/organiser.js";

const config = JSON.parse(document.getElementById("funding-config").textContent);
const $ = id => document.getElementById(id);
const lang = config.lang;
const api = `/api/v1/festivals/${config.festival_id}`;
const session = organiserSignIn({root: $("funding"), onSignedIn: loadAll});

/** Fen as yuan, exactly: 1234567 -> "¥12,345.67". */
export function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  const part = abs % 100;
  return `${sign}¥${whole}${part ? "." + String(part).padStart(2, "0") : ""}`;
}

/** "1234.5" -> 123450 fen; null when it is not a positive amount with at most 2 decimals. */
function toFen(text) {
  const match = /^\s*(\d{1,10})(?:\.(\d{1,2}))?\s*$/.exec(text.replaceAll(",", ""));
  if (!match) return null;
  const fen = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  return fen > 0 ? fen : null;
}

const name = obj => obj[`name_${lang}`] || obj[`name_${lang === "zh" ? "en" : "zh"}`] || "";
const label = (group, code) => config.labels[group][code] || code;
let sponsors = [];

async function get(path) {
  const response = await session.api(path);
  if (response === null) return null;
  if (!response.ok) throw new Error(String(response.status));
  return response;
}

async function loadAll() {
  $("load-error").textContent = "";
  try {
    await loadSponsors();
    await Promise.all([loadSummary(), loadCharts(), loadLedger()]);
    $("funding").dataset.state = "ready";
  } catch {
    $("load-error").textContent = config.text.error;
  }
}

async function loadSponsors() {
  const response = await get(`${api}/sponsors?limit=500`);
  if (response === null) return;
  sponsors = (await response.json()).items;
  for (const select of document.querySelectorAll(".sponsor-select")) {
    const keep = select.value;
    select.replaceChildren(select.options[0], ...sponsors.map(s => new Option(name(s), s.id)));
    select.value = keep;
  }
}

function cells(tr, values) {
  values.forEach((value, i) => {
    const td = document.createElement("td");
    if (value instanceof Node) td.append(value); else td.textContent = value;
    if (i > 0) td.className = "num";
    tr.append(td);
  });
  return tr;
}

async function loadSummary() {
  const response = await get(`${api}/funding/summary`);
  if (response === null) return;
  const s = await response.json();
  $("balance").textContent = yuan(s.balance_fen);
  $("received").textContent = yuan(s.received_fen);
  $("paid-out").textContent = yuan(s.paid_out_fen);
  $("committed").textContent = yuan(s.prize_money.committed_fen);
  $("covered").textContent = `${(s.coverage.covered_bp / 100).toFixed(1)}%`;
  $("owed").textContent = yuan(s.prize_money.owed_fen);
  $("paid").textContent = yuan(s.prize_money.paid_fen);
  $("warnings").replaceChildren(...(s.warnings.length ? s.warnings.map(w => {
    const p = document.createElement("p");
    p.className = "warning";
    p.dataset.code = w.code;
    p.dataset.testid = "warning";
    const text = config.labels.warning[w.code];
    p.textContent = `⚠ ${text ? text.replace("{amount}", yuan(w.amount_fen)) : w.detail}`;
    return p;
  }) : [Object.assign(document.createElement("p"), {className: "ok", textContent: config.text.ok})]));
  $("by-source").replaceChildren(...s.by_source.filter(x => x.records).map(x => {
    const tr = cells(document.createElement("tr"), [label("source", x.source), yuan(x.received_fen),
                                                    yuan(x.paid_out_fen), yuan(x.net_fen)]);
    tr.dataset.source = x.source;
    return tr;
  }));
  $("by-sponsor").replaceChildren(...s.by_sponsor.map(x => {
    const link = document.createElement("a");
    link.href = `/festivals/${config.festival_id}/sponsors/${x.sponsor_id}/statement`;
    link.textContent = name(x);
    link.dataset.testid = "statement-link";
    const tr = cells(document.createElement("tr"), [link, yuan(x.pledged_fen), yuan(x.received_fen),
                                                    yuan(x.outstanding_fen)]);
    tr.dataset.sponsor = x.sponsor_id;
    return tr;
  }));
}

async function loadCharts() {
  await Promise.all([...document.querySelectorAll("[data-chart]")].map(async box => {
    const response = await get(`${api}/funding/charts/${box.dataset.chart}.svg?lang=${lang === "en" ? "en" : "zh"}`);
    if (response === null) return;
    const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    box.replaceChildren(document.importNode(svg.documentElement, true));
  }));
}

function filterQuery() {
  const query = new URLSearchParams({limit: "100"});
  for (const [key, id] of [["source", "f-source"], ["direction", "f-direction"],
                           ["sponsor_id", "f-sponsor"], ["from", "f-from"], ["to", "f-to"]]) {
    if ($(id).value) query.set(key, $(id).value);
  }
  return query;
}

let ledgerRequest = 0;

async function loadLedger() {
  const mine = ++ledgerRequest;  // a later filter change wins over an earlier answer
  const response = await get(`${api}/funding?${filterQuery()}`);
  if (response === null) return;
  const page = await response.json();
  if (mine !== ledgerRequest) return;
  $("ledger-count").textContent = config.text.shown.replace("{count}", page.items.length)
    .replace("{total}", page.total);
  if (!page.items.length) {
    const li = document.createElement("li");
    li.textContent = config.text.no_records;
    li.dataset.testid = "no-records";
    $("ledger").replaceChildren(li);
    return;
  }
  const sponsorName = Object.fromEntries(sponsors.map(s => [s.id, name(s)]));
  $("ledger").replaceChildren(...page.items.map(item => {
    const li = document.createElement("li");
    li.dataset.testid = "record";
    li.dataset.id = item.id;
    li.dataset.source = item.source;
    if (item.reversed_by_id) li.classList.add("reversed");
    const what = document.createElement("span");
    what.textContent = `${item.occurred_on} · ${label("source", item.source)}` +
      (item.sponsor_id ? ` · ${sponsorName[item.sponsor_id] || ""}` : "");
    const amount = document.createElement("span");
    amount.className = `amount ${item.direction}`;
    amount.dataset.testid = "record-amount";
    amount.textContent = yuan(item.signed_amount);
    const facts = document.createElement("span");
    facts.className = "facts";
    facts.textContent = [label("origin", item.origin), item.reference, item.note,
                         item.reverses_id ? config.text.reversal_of : "",
                         item.reversed_by_id ? config.text.reversed_by : ""]
      .filter(Boolean).join(" · ");
    li.append(what, amount, facts);
    if (!item.reversed_by_id && !item.reverses_id) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = config.text.reverse;
      button.dataset.testid = "reverse";
      button.addEventListener("click", () => reverse(item));
      li.append(button);
    }
    return li;
  }));
}

function problemText(body) {
  const fields = (body.errors || []).map(e => `${e.field}: ${e.message}`).join("; ");
  return [body.detail || body.title || config.text.error, fields].filter(Boolean).join(" — ");
}

async function reverse(item) {
  const reason = prompt(config.text.reverse_prompt);
  if (!reason || !reason.trim()) return;
  $("ledger-message").textContent = "";
  const response = await session.api(`${api}/funding/${item.id}/reversal`,
                                     {method: "POST", body: {reason: reason.trim()}});
  if (response === null) return;
  if (!response.ok) {
    $("load-error").textContent = problemText(await response.json());
    return;
  }
  $("ledger-message").textContent = config.text.reversed;
  await loadAll();
}

async function record(event) {
  event.preventDefault();
  $("record-error").textContent = "";
  $("record-ok").textContent = "";
  const amount = toFen($("r-amount").value);
  if (amount === null) {
    $("record-error").textContent = `amount: ${$("r-amount").placeholder}`;
    return;
  }
  const body = {source: $("r-source").value, direction: $("r-direction").value, amount,
                occurred_on: $("r-date").value, reference: $("r-reference").value.trim(),
                note: $("r-note").value.trim()};
  if ($("r-sponsor").value) body.sponsor_id = $("r-sponsor").value;
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    const response = await session.api(`${api}/funding`, {method: "POST", body});
    if (response === null) return;
    if (!response.ok) {
      $("record-error").textContent = problemText(await response.json());
      return;
    }
    $("record-ok").textContent = config.text.saved;
    $("r-amount").value = "";
    $("r-reference").value = "";
    $("r-note").value = "";
    await loadAll();
  } catch {
    $("record-error").textContent = config.text.error;
  } finally {
    if (button) button.disabled = false;
  }
}

async function download(kind) {
  const response = await get(`${api}/funding/export.${kind}`);
  if (response === null) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `funding-${config.festival_id}.${kind}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

$("r-date").value = new Intl.DateTimeFormat("en-CA", {timeZone: config.timezone}).format(new Date());
$("record-form").addEventListener("submit", record);
$("filters").addEventListener("change", () => loadLedger().catch(() => {
  $("load-error").textContent = config.text.error;
}));
$("filters").addEventListener("submit", event => event.preventDefault());
document.querySelectorAll("[data-export]").forEach(b => b.addEventListener(
  "click", () => download(b.dataset.export)));
session.start();
