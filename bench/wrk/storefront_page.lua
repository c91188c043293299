-- merchflow: GET /v1/storefront/products/{code} of a random listed product of the scale catalog
-- (sp-0000001 … sp-N, N from MERCH_BENCH_PRODUCTS), with the storefront key in MERCH_BENCH_KEY.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
require("storefront_summary")
local n = tonumber(os.getenv("MERCH_BENCH_PRODUCTS") or "200000")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MERCH_BENCH_KEY")
request = function()
  return wrk.format("GET", string.format("/v1/storefront/products/sp-%07d", math.random(1, n)))
end
