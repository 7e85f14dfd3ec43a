-- POST /api/v1/festivals/{id}/orders: one-ticket orders of a free ticket type (issued at
-- once). BENCH_FESTIVAL names the festival, BENCH_TYPE the ticket type.
local path = "/api/v1/festivals/" .. os.getenv("BENCH_FESTIVAL") .. "/orders"
local body = '{"email": "rush@example.com", "items": [{"ticket_type_id": "' ..
             os.getenv("BENCH_TYPE") .. '", "quantity": 1}]}'
local headers = {["Content-Type"] = "application/json"}
request = function()
  return wrk.format("POST", path, headers, body)
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
