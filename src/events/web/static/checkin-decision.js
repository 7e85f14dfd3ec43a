// The gate decision an offline scanner takes by itself (docs/checkin.md), in the server's
// order: invalid → canceled → revoked → wrong_day (entries only) → wrong_gate →
// already_redeemed. No DOM, no storage, no clock: scanner.js gives it what it knows, and
// tests/checkin/scan_cases.json runs the same cases here (under node) as on PostgreSQL and
// SQLite, so the three decisions cannot drift apart.

const DOMAIN = new TextEncoder().encode("events.ticket.v1");

// --- the token (docs/tickets.md, "The QR token") --------------------------------------

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32(textIn) {
  if ([1, 3, 6].includes(textIn.length % 8)) return null;  // no whole byte can end there
  let bits = 0, value = 0;
  const out = [];
  for (const c of textIn) {
    const v = B32.indexOf(c);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return new Uint8Array(out);
}

export function hex(bytes) {
  return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

export function uuidOf(bytes) {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidBytes(uuid) {
  const h = uuid.replace(/-/g, "");
  return Uint8Array.from({length: 16}, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
}

export function base64Bytes(b64) {
  return Uint8Array.from(atob(b64), c => c.charCodeAt(0));
}

/** The token's fields, or null when it is not a token at all (malformed). */
export function parseToken(token) {
  const textIn = String(token).replace(/\s+/g, "").toUpperCase();
  if (!textIn || textIn.length > 400) return null;
  const raw = base32(textIn);
  if (!raw || raw.length < 24 + 2 + 64) return null;
  const n = raw[23];
  if (raw[0] !== 1 || n < 1 || n > 60 || raw.length !== 24 + 2 * n + 64) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    kid: view.getUint16(1), ticketId: uuidOf(raw.subarray(3, 19)), serial: view.getUint16(19),
    enclosure: raw[21], flags: raw[22],
    days: Array.from({length: n}, (_, i) => view.getUint16(24 + 2 * i)),  // days since 1970-01-01
    body: raw.subarray(0, 24 + 2 * n), signature: raw.subarray(24 + 2 * n),
  };
}

/** The claims of a genuine token, or "malformed" / "unknown_key" / "bad_signature". */
export async function verifyToken(token, keys, verifier) {
  const claims = parseToken(token);
  if (!claims) return "malformed";
  const key = keys.keys.find(k => k.kid === claims.kid);
  if (!key) return "unknown_key";
  const festival = uuidBytes(keys.festival_id);
  const message = new Uint8Array(DOMAIN.length + 16 + claims.body.length);
  message.set(DOMAIN, 0);
  message.set(festival, DOMAIN.length);
  message.set(claims.body, DOMAIN.length + 16);
  let ok = false;
  try {
    ok = await verifier.verify(key.public_key, claims.signature, message);
  } catch {
    ok = false;
  }
  return ok ? claims : "bad_signature";
}

// --- time in the festival's zone -------------------------------------------------------

export function localParts(timeZone, ms) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23"}).formatToParts(new Date(ms));
  const get = type => parts.find(p => p.type === type).value;
  return {year: +get("year"), month: +get("month"), day: +get("day"), time: `${get("hour")}:${get("minute")}`};
}

/** The festival-local date of ``ms``, as days since 1970-01-01 (the token's unit). */
export function dayNumber(timeZone, ms) {
  const p = localParts(timeZone, ms);
  return Date.UTC(p.year, p.month - 1, p.day) / 86_400_000;
}

/** The offline data to keep, from ``GET /checkin/keys`` (``fresh``) and what was kept
 * before (``current``, or null): revocations accumulate after the cursor. */
export function keysFrom(fresh, current, now = Date.now()) {
  const revoked = new Set(current ? current.revoked : []);
  const canceled = new Set(current?.canceled ?? []);
  for (const r of fresh.revocations) {
    revoked.add(`${r.ticket_id}:${r.serial}`);
    if (r.reason === "canceled" || r.reason === "refunded") canceled.add(r.ticket_id);
  }
  return {
    festival_id: fresh.festival_id, timezone: fresh.timezone, gate_id: fresh.gate_id,
    keys: fresh.keys, enclosures: fresh.enclosures, gates: fresh.gates, cursor: fresh.cursor,
    revoked: [...revoked], canceled: [...canceled], fetched_at: now,
    skew_ms: now - Date.parse(fresh.server_time)};
}

// --- the decision ------------------------------------------------------------------------

/** The check-in list a ticket of enclosure ``number`` uses at this gate, as the server
 * picks it: its own enclosure, else the one containing it, if a gate list allows this gate.
 * undefined: the enclosure is unknown here; null: no list admits through this gate. */
export function checkinList(keys, number) {
  const own = keys.enclosures.find(e => e.number === number);
  if (!own) return undefined;
  const parent = keys.enclosures.find(e => e.id === own.parent_id);
  const admits = e => e && (e.gate_ids.length === 0 || e.gate_ids.includes(keys.gate_id));
  return [own, parent].find(admits) ?? null;
}

/**
 * Decide one scan offline.
 *
 * - ``claims``: the genuine token's claims ({ticketId, serial, enclosure, days}), or a
 *   string when it is not genuine (malformed, unknown key, bad signature).
 * - ``keys``: what ``GET /checkin/keys`` gave: ``revoked`` ("ticket:serial"), ``canceled``
 *   (ticket ids cancelled or refunded), ``enclosures``, ``gate_id``; null when the phone
 *   has none yet.
 * - ``today``: the festival-local date as days since 1970-01-01 (null: cannot tell).
 * - ``seen``: this phone's record of the ticket on its list today ({inside, at, ...}), or
 *   undefined; ``seenOf(listId)`` returns it.
 *
 * Returns {status, reason, list, seen, change}: ``change`` is what to remember about the
 * ticket on ``list`` (null: nothing).
 */
export function decideOffline({claims, keys, kind, today, seenOf}) {
  const refuse = reason => ({status: "error", reason, list: null, seen: undefined, change: null});
  // ambiguous: the phone cannot decide (no offline data yet, an enclosure it does not
  // know, no usable clock); the steward checks by hand.
  if (!keys) return refuse("ambiguous");
  if (typeof claims === "string") return refuse("invalid");
  if ((keys.canceled ?? []).includes(claims.ticketId)) return refuse("canceled");
  if (keys.revoked.includes(`${claims.ticketId}:${claims.serial}`)) return refuse("revoked");
  if (today === null || today === undefined) return refuse("ambiguous");
  if (kind !== "exit" && !claims.days.includes(today)) return refuse("wrong_day");
  const list = checkinList(keys, claims.enclosure);
  if (list === undefined) return refuse("ambiguous");
  if (list === null) return refuse("wrong_gate");
  const seen = seenOf(list.id);
  if (kind === "exit") {
    // An exit is never refused: the holder may have entered at a gate that was offline.
    return {status: "ok", reason: null, list, seen, change: seen ? {inside: false} : null};
  }
  if (seen && !(seen.inside === false && list.allow_reentry)) {
    return {status: "error", reason: "already_redeemed", list, seen, change: null};
  }
  return {status: "ok", reason: null, list, seen, change: {inside: true, first: !seen}};
}
