-- wrk script for the suite's cross-check (scripts/bench): POSTs a fixed body and writes wrk's own
-- figures as JSON for `loadgen report --wrk`. Settings come from the environment, which every wrk
-- thread (and the summary) can read:
--   WRK_BODY         file holding the request body (an Open Inference Protocol JSON infer request)
--   WRK_JSON         where to write the summary
--   WRK_CONNECTIONS  the -c given to wrk (wrk's summary does not say it)
--   WRK_CONTENT_TYPE optional, default application/json

local function read_all(path)
  local file = assert(io.open(path, "rb"), "WRK_BODY: cannot open " .. tostring(path))
  local content = file:read("*a")
  file:close()
  return content
end

wrk.method = "POST"
wrk.body = read_all(os.getenv("WRK_BODY"))
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local out = assert(io.open(os.getenv("WRK_JSON"), "w"), "WRK_JSON: cannot write")
  out:write(string.format(
    '{"requests_per_s": %.3f, "p50_us": %d, "p99_us": %d, "requests": %d, "errors": %d, "connections": %d, "duration_s": %.3f}\n',
    (summary.requests - e.status) / seconds, latency:percentile(50), latency:percentile(99),
    summary.requests, errors, tonumber(os.getenv("WRK_CONNECTIONS") or "0"), seconds))
  out:close()
end
