-- merchflow: GET /v1/storefront/search?q=… — two-character Chinese queries and typo'd English ones, at random.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
require("storefront_summary")
local queries = {
  -- 方巾 围巾 香包 精油 花瓶 真丝 羊绒 蜡烛 (URL-encoded)
  "%E6%96%B9%E5%B7%BE", "%E5%9B%B4%E5%B7%BE", "%E9%A6%99%E5%8C%85", "%E7%B2%BE%E6%B2%B9",
  "%E8%8A%B1%E7%93%B6", "%E7%9C%9F%E4%B8%9D", "%E7%BE%8A%E7%BB%92", "%E8%9C%A1%E7%83%9B",
  -- slik scraf, cashmre glovs, scnted candel, ceramc vsae, lenin cushon, bambo box
  "slik%20scraf", "cashmre%20glovs", "scnted%20candel", "ceramc%20vsae", "lenin%20cushon", "bambo%20box",
}
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MERCH_BENCH_KEY")
request = function()
  return wrk.format("GET", "/v1/storefront/search?q=" .. queries[math.random(1, #queries)])
end
