-- merchflow: one movement of 1 unit per request, from 1,000 hot SKU × bin rows, each request with its own
-- Idempotency-Key (as a scanner sends): a `pick`, or with probability MERCH_BENCH_RETURNS (default 0) a
-- `return` (售后) — a third not resellable (into the quarantine bin Q-01), 60 % naming the sale they reverse
-- (channel web, one of the last 28 days, UTC: bench/stock.py's sales), a reason from the vocabulary.
-- Uses the shared summary (WRKJSON line) of ../shared/bench/wrk.
package.path = (os.getenv("MERCH_WRK_SHARED") or "../shared/bench/wrk") .. "/?.lua;" .. package.path
require("summary")
local key = os.getenv("MERCH_BENCH_KEY")
local returns = tonumber(os.getenv("MERCH_BENCH_RETURNS") or "0")
local kept = {"wrong_size", "not_as_described", "changed_mind"}  -- back on the shelf
local damaged = {"defective", "damaged_in_transit"}  -- into quarantine
local n = 0
request = function()
  n = n + 1
  local i = math.random(1, 1000)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", tid or 0, n, math.random(1, 1000000000)),
  }
  local body
  if math.random() < returns then
    local resellable = math.random(1, 3) > 1
    local reason = resellable and kept[math.random(1, 3)] or damaged[math.random(1, 2)]
    local sale = ""
    if math.random(1, 10) <= 6 then
      sale = string.format(',"sale":{"channel":"web","day":"%s"}', os.date("!%Y-%m-%d", os.time() - 86400 * math.random(1, 28)))
    end
    body = string.format(
      '{"type":"return","sku":"BENCH-%04d","qty":1,"warehouse":"bench","location":"%s","reference":"RMA-%d-%d",'
        .. '"return_reason":"%s","condition":"%s"%s}',
      i, resellable and string.format("BIN-%02d", i % 10) or "Q-01", tid or 0, n, reason,
      resellable and "resellable" or "not_resellable", sale)
  else
    body = string.format(
      '{"type":"pick","sku":"BENCH-%04d","qty":1,"warehouse":"bench","location":"BIN-%02d"}', i, i % 10)
  end
  return wrk.format("POST", "/v1/stock/movements", headers, body)
end
