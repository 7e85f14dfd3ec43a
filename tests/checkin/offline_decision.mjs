// Runs tests/checkin/scan_cases.json through the scanner's offline decision
// (static/checkin-decision.js), as scanner.js does: keys kept from GET /checkin/keys, the
// token verified with WebCrypto Ed25519, the phone's record of today's admissions.
// stdin: {module, cases: [{keys: {gate: keysAnswer} | null, steps: [{token, kind, at_ms, gate}]}]}
// stdout: per case, per step, "ok" or the reason.
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";

const input = JSON.parse(readFileSync(0, "utf8"));
const {base64Bytes, dayNumber, decideOffline, keysFrom, verifyToken} =
  await import(pathToFileURL(input.module).href);
const verifier = {
  async verify(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", base64Bytes(publicKey), {name: "Ed25519"},
                                              false, ["verify"]);
    return crypto.subtle.verify({name: "Ed25519"}, key, signature, message);
  },
};
const results = [];
for (const c of input.cases) {
  let record = null;
  const answers = [];
  for (const step of c.steps) {
    const keys = c.keys ? keysFrom(c.keys[step.gate], null, step.at_ms) : null;
    const claims = keys ? await verifyToken(step.token, keys, verifier) : "no_keys";
    const today = keys ? dayNumber(keys.timezone, step.at_ms) : null;
    if (!record || record.day !== today) record = {day: today, entries: {}};
    const decision = decideOffline({
      claims, keys, kind: step.kind, today,
      seenOf: listId => record.entries[`${claims.ticketId}:${listId}`]});
    if (decision.change) {
      const key = `${claims.ticketId}:${decision.list.id}`;
      const {first, ...change} = decision.change;
      record.entries[key] = {...(record.entries[key] ?? {}), ...change,
                             ...(first ? {at: step.at_ms} : {})};
    }
    answers.push(decision.status === "ok" ? "ok" : decision.reason);
  }
  results.push(answers);
}
process.stdout.write(JSON.stringify(results));
