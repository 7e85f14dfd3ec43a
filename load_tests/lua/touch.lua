-- Baseline: a bare one-row UPDATE per request (POST /bench/touch).
local ids = {}
for id in string.gmatch(os.getenv("BENCH_DEVICE_IDS") or "", "[^,]+") do ids[#ids + 1] = id end
local i = 0
request = function()
  i = i + 1
  local body = '{"id": "' .. ids[(i % #ids) + 1] .. '"}'
  return wrk.format("POST", "/bench/touch", {["Content-Type"] = "application/json"}, body)
end
-- Shared by every script: print a JSON summary line (errors.status = non-2xx/3xx answers).
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
