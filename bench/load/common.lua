-- Shared by the wrk scripts of bench/load: a JSON summary on stdout at the end (one line starting with RESULT).
local M = {}

function M.load_ids(path)
  local ids = {}
  for line in io.lines(path) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  return ids
end

-- `per_request` memories per request (for memories/s).
function M.report(name, summary, latency, per_request)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'RESULT {"name":"%s","requests":%d,"seconds":%.2f,"rps":%.1f,"memories_per_s":%.1f,' ..
    '"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"errors":%d,"errors_by_kind":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    name, summary.requests, secs, summary.requests / secs, summary.requests * per_request / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, e.connect, e.read, e.write, e.status, e.timeout))
end

return M
