-- merchflow: one `pick` of 1 unit per request, from 1,000 hot SKU × bin rows, each request with its own
-- Idempotency-Key (as a scanner sends). Uses the shared summary (WRKJSON line) of ../shared/bench/wrk.
package.path = (os.getenv("MERCH_WRK_SHARED") or "../shared/bench/wrk") .. "/?.lua;" .. package.path
require("summary")
local key = os.getenv("MERCH_BENCH_KEY")
local n = 0
request = function()
  n = n + 1
  local i = math.random(1, 1000)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", tid or 0, n, math.random(1, 1000000000)),
  }
  local body = string.format(
    '{"type":"pick","sku":"BENCH-%04d","qty":1,"warehouse":"bench","location":"BIN-%02d"}', i, i % 10)
  return wrk.format("POST", "/v1/stock/movements", headers, body)
end
