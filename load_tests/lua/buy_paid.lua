-- A paid one-ticket order and its payment with the test provider: POST .../orders (the
-- capacity is held), then POST /api/v1/payments/{id}/test-complete?pay_token=... with the
-- token of the order's pay link (checkout_url), as the buyer's phone does (the tickets are
-- issued). Each wrk thread keeps a queue of placed orders' payments: a connection that is
-- free pays the oldest, else places a new order. BENCH_FESTIVAL, BENCH_TYPE as buy.lua.
local path = "/api/v1/festivals/" .. os.getenv("BENCH_FESTIVAL") .. "/orders"
local body = '{"email": "rush@example.com", "items": [{"ticket_type_id": "' ..
             os.getenv("BENCH_TYPE") .. '", "quantity": 1}]}'
local headers = {["Content-Type"] = "application/json"}
local queue, first, last = {}, 1, 0
request = function()
  if first <= last then
    local pay = queue[first]
    queue[first] = nil
    first = first + 1
    return wrk.format("POST", "/api/v1/payments/" .. pay[1] .. "/test-complete?pay_token=" ..
                      pay[2], headers, "")
  end
  return wrk.format("POST", path, headers, body)
end
response = function(status, _, text)
  if status == 201 then
    local payment, token = string.match(text, '/pay/test/([0-9a-f-]+)%?pay_token=([%w_-]+)')
    if payment then
      last = last + 1
      queue[last] = {payment, token}
    end
  end
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
