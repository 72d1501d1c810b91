-- wrk script shared by the HTTP benches (bench/_http.py runs it).
--
-- Environment:
--   METHOD   the request method (default GET)
--   BODIES   a file with one request body a line; every request sends the next unused one, wrk
--            thread k taking lines k, k + THREADS, ... So every booking POST asks for a slot no
--            other request asks for, and a 409 cannot flatter the figures. Once a thread has used
--            all its lines it resends its last one (answered 409, counted as non-2xx and as reused).
--   THREADS  wrk's -t, to deal the lines
-- At the end it prints one line, `BENCH key=value ...`, that bench/_http.py parses: latencies in
-- microseconds, the 2xx count and every status seen.

wrk.method = os.getenv("METHOD") or "GET"

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  reused = 0
  bodies = {}
  local path = os.getenv("BODIES")
  local count = tonumber(os.getenv("THREADS") or "1")
  if path then
    local n = 0
    for line in io.lines(path) do
      if n % count == id then
        table.insert(bodies, line)
      end
      n = n + 1
    end
  end
  next_body = 1
  if #bodies > 0 then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if #bodies == 0 then
    return wrk.format()
  end
  local body = bodies[next_body]
  if body == nil then
    reused = reused + 1
    body = bodies[#bodies]
  end
  next_body = next_body + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts, ok, total_reused = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
      if tonumber(status) >= 200 and tonumber(status) < 300 then
        ok = ok + n
      end
    end
    total_reused = total_reused + thread:get("reused")
  end
  local seen = {}
  for status, n in pairs(counts) do
    table.insert(seen, status .. ":" .. n)
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d ok=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d reused=%d"
      .. " socket_errors=%d timeouts=%d statuses=%s\n",
    summary.requests, ok, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, total_reused,
    errors.connect + errors.read + errors.write, errors.timeout, table.concat(seen, ",")
  ))
end
