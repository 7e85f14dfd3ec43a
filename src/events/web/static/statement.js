// A sponsor's statement: sign in (organiser.js), then GET .../sponsors/{id}/statement;
// the PDF buttons fetch .../statement.pdf?lang=zh|en with the organiser's token.
import {organiserSignIn} from "/static/organiser.js";

const config = JSON.parse(document.getElementById("funding-config").textContent);
const $ = id => document.getElementById(id);
const lang = config.lang;
const url = `/api/v1/festivals/${config.festival_id}/sponsors/${config.sponsor_id}/statement`;
const session = organiserSignIn({root: $("statement"), onSignedIn: load});
const pick = (obj, field) => obj[`${field}_${lang}`] || obj[`${field}_${lang === "zh" ? "en" : "zh"}`] || "";

function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const part = abs % 100;
  return `${sign}¥${Math.floor(abs / 100).toLocaleString("en-US")}${part ? "." + String(part).padStart(2, "0") : ""}`;
}

function items(target, list, text) {
  $(target).replaceChildren(...list.map(value => {
    const li = document.createElement("li");
    li.textContent = text(value);
    return li;
  }));
}

async function load() {
  let response;
  try {
    response = await session.api(url);
  } catch {
    $("load-error").textContent = config.text.error;
    return;
  }
  if (response === null) return;
  if (!response.ok) {
    $("load-error").textContent = (await response.json()).detail || config.text.error;
    return;
  }
  const s = await response.json();
  $("s-name").textContent = pick(s.sponsor, "name");
  $("s-tier").textContent = config.labels.tier[s.sponsor.tier] || s.sponsor.tier;
  $("s-pledged").textContent = yuan(s.pledged_fen);
  $("s-received").textContent = yuan(s.received_fen);
  $("s-outstanding").textContent = yuan(s.outstanding_fen);
  $("s-in-kind").textContent = yuan(s.in_kind_value_fen);
  items("s-placements", s.placements, p => pick(p, "label") +
        (p.prize_fen ? ` · ${config.text.prize_money} ${yuan(p.prize_fen)}` : ""));
  items("s-in-kind-items", s.sponsor.in_kind, i => `${pick(i, "description")} · ${yuan(i.value_fen)}`);
  if (s.lines.length) {
    items("s-lines", s.lines, l => `${l.occurred_on} · ${yuan(l.direction === "in" ? l.amount : -l.amount)}` +
          ` · ${l.reference || l.note}`);
  } else {
    items("s-lines", [config.text.no_receipts], t => t);
  }
  $("statement").dataset.state = "ready";
}

async function pdf(which) {
  const response = await session.api(`${url}.pdf?lang=${which}`);
  if (response === null) return;
  if (!response.ok) {
    $("load-error").textContent = (await response.json()).detail || config.text.error;
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `sponsor-${config.sponsor_id}-${which}.pdf`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

document.querySelectorAll("[data-pdf]").forEach(b => b.addEventListener("click", () => pdf(b.dataset.pdf)));
session.start();
