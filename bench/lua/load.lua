-- wrk script: one request shape, made unique per request.
-- args: method, path template, body template ("" for none), range, bearer key, run id.
-- In templates {u} becomes "<run id>-<thread>-<n>" (unique), {r} a random
-- integer in [0, range) and {p} the same integer zero-padded to 7 digits.

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local method, path_t, body_t, range, run_id
local n = 0

function init(args)
  method, path_t, body_t, range = args[1], args[2], args[3], tonumber(args[4])
  run_id = args[6]
  wrk.headers["Authorization"] = "Bearer " .. args[5]
  wrk.headers["Content-Type"] = "application/json"
  math.randomseed(tid * 7919 + os.time())
end

local function fill(template, unique, r)
  local text = template:gsub("{u}", unique)
  text = text:gsub("{r}", tostring(r))
  text = text:gsub("{p}", string.format("%07d", r))
  return text
end

function request()
  n = n + 1
  local unique = run_id .. "-" .. tid .. "-" .. n
  local r = math.random(0, range - 1)
  local body = nil
  if body_t ~= "" then body = fill(body_t, unique, r) end
  return wrk.format(method, fill(path_t, unique, r), nil, body)
end

-- Each thread remembers one failed response, to say why requests failed.
function response(status, headers, body)
  if status >= 400 and not failed then
    failed = status .. " " .. body:sub(1, 300)
    io.write("WRKFAIL " .. failed:gsub("\n", " ") .. "\n")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
