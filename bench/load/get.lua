-- GET /v1/memories/{id} with ids drawn at random from $MEMLANE_BENCH_IDS.
package.path = package.path .. ";" .. (os.getenv("MEMLANE_BENCH_DIR") or ".") .. "/?.lua"
local common = require("common")
local ids

function init(args)
  ids = common.load_ids(os.getenv("MEMLANE_BENCH_IDS"))
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  return wrk.format("GET", "/v1/memories/" .. ids[math.random(#ids)])
end

function done(summary, latency, requests)
  common.report("get", summary, latency, 1)
end
