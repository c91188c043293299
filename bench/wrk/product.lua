-- merchflow: GET /v1/products/{code} of a random product of the scale catalog (sp-0000001 … sp-N, N from
-- MERCH_BENCH_PRODUCTS), with the key in MERCH_BENCH_KEY. Uses the shared summary (WRKJSON line).
package.path = (os.getenv("MERCH_WRK_SHARED") or "../shared/bench/wrk") .. "/?.lua;" .. package.path
require("summary")
local key = os.getenv("MERCH_BENCH_KEY")
local n = tonumber(os.getenv("MERCH_BENCH_PRODUCTS") or "200000")
wrk.headers["Authorization"] = "Bearer " .. key
request = function()
  return wrk.format("GET", string.format("/v1/products/sp-%07d", math.random(1, n)))
end
