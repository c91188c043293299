-- A GET of the URL given to wrk, with the key in MERCH_BENCH_KEY if set. Uses the shared summary (WRKJSON
-- line) of ../shared/bench/wrk.
package.path = (os.getenv("MERCH_WRK_SHARED") or "../shared/bench/wrk") .. "/?.lua;" .. package.path
require("summary")
local key = os.getenv("MERCH_BENCH_KEY")
if key then wrk.headers["Authorization"] = "Bearer " .. key end
