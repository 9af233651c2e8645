-- wrk script for bench/api_bench.py:  wrk ... -s bench/_api_wrk.lua URL -- METHOD TARGETS THREADS [cycle|once]
-- TARGETS: one request a line, "<path> <token>" (token "-" = no Authorization header). Thread t of n takes
-- lines t, t+n, t+2n, ...; "once" stops a thread when its lines are used up (each visit confirmed once),
-- "cycle" starts again from its first line. done() prints one line "RESULT {json}" for api_bench.py.

local threads, counter = {}, 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local method, file, nthreads = args[1], args[2], tonumber(args[3])
  cycle = args[4] == "cycle"
  reqs, i, ok, bad, exhausted, codes = {}, 0, 0, 0, 0, ""
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == tid then
      local path, token = line:match("^(%S+)%s+(%S+)$")
      local headers = { ["Accept-Language"] = "en", ["X-Forwarded-Proto"] = "https" }
      if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
      local body = nil
      if method == "POST" then
        body = ""
        headers["Content-Type"] = "application/json"
      end
      reqs[#reqs + 1] = wrk.format(method, path, headers, body)
    end
    n = n + 1
  end
end

function request()
  i = i + 1
  if i > #reqs then
    if cycle then
      i = 1
    else
      exhausted = 1
      wrk.thread:stop()
      i = #reqs
    end
  end
  return reqs[i]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    if #codes < 600 then codes = codes .. status .. " " .. string.sub(body or "", 1, 100) .. " | " end
  end
end

function done(summary, latency, requests)
  local ok_, bad_, used, exh, codes_ = 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    ok_ = ok_ + t:get("ok")
    bad_ = bad_ + t:get("bad")
    used = used + t:get("i")
    exh = exh + t:get("exhausted")
    codes_ = codes_ .. t:get("codes")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"mean_us": %.1f, "ok": %d, "non2xx": %d, "sent": %d, "exhausted_threads": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "bad_samples": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, ok_, bad_, used, exh, e.connect, e.read, e.write, e.timeout,
    (codes_:gsub('[\\"]', "'"):gsub("[%c]", " "))))
end
