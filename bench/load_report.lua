-- wrk script for bench/load.py: counts every response whose status is not 2xx (wrk itself counts
-- only >= 400) and every 2xx whose body lacks the text in LOAD_MARKER (a page rendered without
-- its script's variables: a failed script still renders), and prints one machine-readable line at
-- the end, latencies in microseconds.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local marker = os.getenv("LOAD_MARKER")

function init(args)
  non2xx = 0
  unmarked = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif marker and not string.find(body, marker, 1, true) then
    unmarked = unmarked + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, unmarked_total = 0, 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    unmarked_total = unmarked_total + (thread:get("unmarked") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "err_connect": %d, "err_read": %d, ' ..
    '"err_write": %d, "err_status": %d, "err_timeout": %d, "non2xx": %d, "unmarked": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, non2xx_total, unmarked_total))
end
