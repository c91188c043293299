-- merchflow: a category page, GET /v1/storefront/products?<MERCH_BENCH_QUERY>&sort=<one of three, at random>.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
require("storefront_summary")
local query = os.getenv("MERCH_BENCH_QUERY")
local sorts = {"position", "price_asc", "newest"}
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MERCH_BENCH_KEY")
request = function()
  return wrk.format("GET", "/v1/storefront/products?" .. query .. "&sort=" .. sorts[math.random(1, #sorts)])
end
