-- POST /api/v1/checkin/scan. Each wrk thread scans its own slice of the tokens file in order
-- (fresh tickets), with its own device and a new nonce per request. BENCH_TOKENS names the
-- file; BENCH_DEVICE_TOKENS the devices' tokens, comma-separated.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

function init(args)
  local devices = {}
  for token in string.gmatch(os.getenv("BENCH_DEVICE_TOKENS"), "[^,]+") do
    devices[#devices + 1] = token
  end
  local total_threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  tokens = {}
  local n = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    n = n + 1
    if (n - 1) % total_threads == index - 1 then tokens[#tokens + 1] = line end
  end
  device = devices[((index - 1) % #devices) + 1]
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Device " .. device}
  position = 0
  run = os.getenv("BENCH_RUN") or "run"
end

request = function()
  position = position + 1
  local token = tokens[((position - 1) % #tokens) + 1]
  local body = '{"secret": "' .. token .. '", "nonce": "' .. run .. "-" .. index .. "-" ..
               position .. '", "type": "entry"}'
  return wrk.format("POST", "/api/v1/checkin/scan", headers, body)
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
