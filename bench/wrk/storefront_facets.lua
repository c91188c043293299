-- merchflow: the facets of a category page, GET /v1/storefront/facets?<MERCH_BENCH_QUERY>.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
require("storefront_summary")
local query = os.getenv("MERCH_BENCH_QUERY")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MERCH_BENCH_KEY")
request = function()
  return wrk.format("GET", "/v1/storefront/facets?" .. query)
end
