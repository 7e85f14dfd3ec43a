// The gate decision an offline scanner takes by itself (docs/checkin.md), in the server's
// order: invalid → canceled → revoked → wrong_day (entries only) → wrong_gate →
// already_redeemed. No DOM, no storage, no clock: scanner.js gives it what it knows, and
// tests/checkin/scan_cases.json runs the same cases here (under node) as on PostgreSQL and
// SQLite, so the three decisions cannot drift apart.

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
