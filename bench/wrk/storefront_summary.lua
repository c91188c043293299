-- The shared summary (../shared/bench/wrk/summary.lua) with the 95th percentile too, for the storefront's
-- latency goals (p95). Loaded by the storefront scripts after the shared one.
package.path = (os.getenv("MERCH_WRK_SHARED") or "../shared/bench/wrk") .. "/?.lua;" .. package.path
require("summary")
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"bytes":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max, summary.bytes))
end
