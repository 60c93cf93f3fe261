-- POST /v1/memories with batches of $MEMLANE_BENCH_BATCH (default 100) new memories, each with unique content.
package.path = package.path .. ";" .. (os.getenv("MEMLANE_BENCH_DIR") or ".") .. "/?.lua"
local common = require("common")
local batch = tonumber(os.getenv("MEMLANE_BENCH_BATCH") or "100")
local counter = 0
tag = tag or "x" -- set per thread by setup()
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tag", "t" .. threads .. "-" .. os.time())
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = string.format(
      '{"scope":{"user":"u%d"},"kind":"fact","content":"memory %s-%d about topic %d","metadata":{"n":%d}}',
      counter % 50, tag, counter, counter % 97, counter)
  end
  return wrk.format(nil, "/v1/memories", nil, '{"memories":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  common.report("add_batch" .. batch, summary, latency, batch)
end
