-- Mixed read/write over many connections: 80% GET by id, 10% list of a user's page, 10% add of 10 memories.
package.path = package.path .. ";" .. (os.getenv("MEMLANE_BENCH_DIR") or ".") .. "/?.lua"
local common = require("common")
local ids
local counter = 0
tag = tag or "x" -- set per thread by setup()
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tag", "m" .. threads .. "-" .. os.time())
end

function init(args)
  ids = common.load_ids(os.getenv("MEMLANE_BENCH_IDS"))
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local json = { ["Content-Type"] = "application/json" }

function request()
  local r = math.random(100)
  if r <= 80 then
    return wrk.format("GET", "/v1/memories/" .. ids[math.random(#ids)])
  elseif r <= 90 then
    return wrk.format("POST", "/v1/memories/list", json,
      string.format('{"user":"u%d","limit":10}', math.random(0, 49)))
  end
  local parts = {}
  for i = 1, 10 do
    counter = counter + 1
    parts[i] = string.format('{"scope":{"user":"u%d"},"content":"mixed %s-%d"}', counter % 50, tag, counter)
  end
  return wrk.format("POST", "/v1/memories", json, '{"memories":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  common.report("mixed_1000_connections", summary, latency, 1)
end
