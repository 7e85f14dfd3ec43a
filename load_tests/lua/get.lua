-- A GET of BENCH_PATH (the trivial endpoint or the live results document); with BENCH_ETAG
-- set it is sent as If-None-Match, so the answer is a 304 from the worker's memory.
local path = os.getenv("BENCH_PATH") or "/bench/hello"
local etag = os.getenv("BENCH_ETAG") or ""
local headers = {}
if etag ~= "" then headers["If-None-Match"] = etag end
request = function()
  return wrk.format("GET", path, headers)
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
