// Organisers' gate devices: sign in (organiser.js), list the festival's devices
// (GET /api/v1/festivals/{id}/devices), add one (POST, which answers with its token this
// once) and revoke one (POST /api/v1/devices/{id}/revoke). A new device's scanner link,
// {origin}/scan#token=..., is shown as text and as a QR code drawn here in the browser
// (qrcode-generator from npm), so the token travels in no other request; it is kept only
// in this page's memory until "Done", sign-out or reload.
import {organiserSignIn} from "/static/organiser.js";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4;  // modules of white around the code, as the standard asks
const config = JSON.parse(document.getElementById("devices-config").textContent);
const $ = id => document.getElementById(id);
const lang = config.lang;
const gates = new Map(config.gates.map(g => [g.id, g]));
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
const name = obj => obj[`name_${lang}`] || obj[`name_${lang === "zh" ? "en" : "zh"}`] || "";
const when = iso => new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
  timeZone: config.timezone, month: lang === "zh" ? "numeric" : "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).format(new Date(iso));

const session = organiserSignIn({root: $("devices"), onSignedIn: load, onSignedOut: hideCreated});

async function load() {
  let response;
  try {
    response = await session.api(`/api/v1/festivals/${config.festival_id}/devices`);
  } catch {
    $("load-error").textContent = config.text.load_error;
    return;
  }
  if (response === null) return;  // signed out
  if (!response.ok) {
    $("load-error").textContent = config.text.load_error;
    return;
  }
  $("load-error").textContent = "";
  render((await response.json()).items);
}

function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Active devices first, then revoked ones; the newest first within each. */
function render(devices) {
  devices.sort((a, b) => Number(a.revoked_at !== null) - Number(b.revoked_at !== null)
                         || b.created_at.localeCompare(a.created_at));
  $("empty").hidden = devices.length > 0;
  $("device-list").replaceChildren(...devices.map(device => {
    const revoked = device.revoked_at !== null;
    const item = element("li", {"data-testid": "device", "data-device-id": device.device_id,
                                "data-state": revoked ? "revoked" : "active"});
    const head = element("div", {class: "device-head"});
    head.append(element("strong", {"data-testid": "device-name"}, device.name),
                element("span", {class: `pill ${revoked ? "off" : "on"}`, "data-testid": "device-state"},
                        revoked ? config.text.revoked : config.text.active));
    const gate = gates.get(device.gate_id);
    const facts = [gate ? name(gate) : "?", fill(config.text.created_at, {time: when(device.created_at)})];
    if (revoked) facts.push(fill(config.text.revoked_at, {time: when(device.revoked_at)}));
    item.append(head, element("div", {class: "muted small", "data-testid": "device-facts"}, facts.join(" · ")));
    if (!revoked) {
      const button = element("button", {type: "button", class: "secondary danger", "data-testid": "revoke"},
                             config.text.revoke);
      button.addEventListener("click", () => revoke(device, button));
      item.append(button);
    }
    return item;
  }));
  $("devices").dataset.count = String(devices.length);
}

async function revoke(device, button) {
  if (!confirm(fill(config.text.revoke_confirm, {name: device.name}))) return;
  button.disabled = true;
  let response;
  try {
    response = await session.api(`/api/v1/devices/${device.device_id}/revoke`, {method: "POST"});
  } catch {
    response = undefined;
  }
  if (response === null) return;
  if (!response?.ok) {
    button.disabled = false;
    $("load-error").textContent = config.text.error;
    return;
  }
  await load();
}

async function add(event) {
  event.preventDefault();
  const deviceName = $("device-name").value.trim();
  $("add-error").textContent = "";
  if (!deviceName) {
    $("add-error").textContent = config.text.name_missing;
    $("device-name").focus();
    return;
  }
  const submit = event.submitter ?? $("add-form").querySelector("button[type=submit]");
  submit.disabled = true;
  let response;
  try {
    response = await session.api(`/api/v1/festivals/${config.festival_id}/devices`,
                                 {method: "POST", body: {gate_id: $("gate").value, name: deviceName}});
  } catch {
    response = undefined;
  } finally {
    submit.disabled = false;
  }
  if (response === null) return;
  if (!response?.ok) {
    $("add-error").textContent = config.text.error;
    return;
  }
  const created = await response.json();
  $("device-name").value = "";
  await showCreated(created);
  await load();
}

// --- the new device's link, once ---------------------------------------------------------

let qrLibrary = null;

/** The link as an SVG QR code (error correction M; the smallest version that holds it). */
async function qrSvg(text) {
  qrLibrary ??= import("/static/vendor/qrcode-generator.js");
  const {default: qrcode} = await qrLibrary;
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  let path = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (code.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({viewBox: `0 0 ${size} ${size}`, role: "img",
                                             "aria-label": config.text.qr_label,
                                             "shape-rendering": "crispEdges", "data-testid": "qr-code"})) {
    svg.setAttribute(key, value);
  }
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", size);
  background.setAttribute("height", size);
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  return svg;
}

async function showCreated(created) {
  const link = `${location.origin}/scan#token=${encodeURIComponent(created.token)}`;
  $("created-name").textContent = created.name;
  $("created-gate").textContent = name(gates.get(created.gate_id) ?? {});
  $("link").textContent = link;
  $("copied").textContent = "";
  $("qr-error").hidden = true;
  $("qr").replaceChildren();
  $("created").hidden = false;
  try {
    $("qr").replaceChildren(await qrSvg(link));
  } catch {
    $("qr-error").hidden = false;
  }
  $("created").scrollIntoView({block: "start"});
}

function hideCreated() {
  $("created").hidden = true;
  $("link").textContent = "";
  $("qr").replaceChildren();
  $("copied").textContent = "";
}

async function copyLink() {
  const link = $("link").textContent;
  try {
    await navigator.clipboard.writeText(link);
    $("copied").textContent = config.text.copied;
  } catch {
    // No clipboard API (plain HTTP) or no permission: select the link for a manual copy.
    getSelection().selectAllChildren($("link"));
    $("copied").textContent = document.execCommand?.("copy") ? config.text.copied : config.text.copy_failed;
  }
}

$("add-form")?.addEventListener("submit", add);
$("copy").addEventListener("click", copyLink);
$("created-done").addEventListener("click", hideCreated);
session.start();
