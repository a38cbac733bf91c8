-- wrk script for the callback benchmark: GET /oauth/callback with a fresh (state, code, binding cookie)
-- per request, from the flows Benchmarks/mint_flows.py wrote ("<path?query>\t<Cookie value>" per line).
--
--   wrk -t THREADS -c CONNECTIONS -d SECONDS+DRAIN -s callback.lua URL -- FLOWS_FILE THREADS SECONDS
--
-- Thread i of n takes lines i, i+n, i+2n, ... in order, never one twice. After SECONDS (counted from the
-- thread's first request), or when its flows run out, a thread sends nothing more: its connections idle
-- while the answers still in flight arrive (wrk's -d must leave time for that: the drain). So every
-- callback sent is either answered and counted here, or reported as unanswered; none is cut off unseen,
-- and the server's connection rows can be checked against the successes exactly.
--
-- done() prints one line "BENCH_RESULT {json}": answered, ok (303 to /connection?connected=1), non3xx,
-- the non-3xx statuses, unanswered, exhausted, seconds (first request to last answer, all threads),
-- p50/p99/max latency in microseconds and wrk's socket errors.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

local function now()
    ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC: the same clock in every thread
    return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

-- Main state: hands each thread its index, keeps the threads for done().
local threads = {}

function setup(thread)
    thread:set("index", #threads)
    table.insert(threads, thread)
end

-- Thread state.
local requests = {}
local next_flow, window, deadline, closed, verifying = 1, 0, nil, false, false
sent, answered, ok, non3xx, statuses, exhausted, first, last = 0, 0, 0, 0, "", false, 0, 0
local status_counts = {}

function init(args)
    local path, thread_count = args[1], tonumber(args[2])
    window = tonumber(args[3])
    local file = assert(io.open(path, "r"), "cannot open the flows file " .. tostring(path))
    local line_number = 0
    for line in file:lines() do
        if line_number % thread_count == index then
            local target, cookie = line:match("^([^\t]+)\t(.+)$")
            table.insert(requests, wrk.format("GET", target, { ["Cookie"] = cookie }))
        end
        line_number = line_number + 1
    end
    file:close()
    -- wrk calls request() once on thread 0's state before the load, only to check the request's syntax.
    verifying = index == 0
end

function request()
    if verifying then -- wrk's syntax check: show a flow without using it up
        verifying = false
        return requests[1] or wrk.format("GET", "/healthz")
    end
    if closed then return "" end -- an empty request: the connection waits, sending nothing
    local t = now()
    if deadline == nil then
        first, deadline = t, t + window
    end
    if t >= deadline then
        closed = true
        return ""
    end
    local r = requests[next_flow]
    if r == nil then
        exhausted, closed = true, true
        return ""
    end
    next_flow = next_flow + 1
    sent = sent + 1
    return r
end

function response(status, headers, body)
    last = now()
    answered = answered + 1
    if status == 303 and (headers["Location"] or headers["location"]) == "/connection?connected=1" then
        ok = ok + 1
    end
    if status < 300 or status > 399 then
        non3xx = non3xx + 1
        status_counts[status] = (status_counts[status] or 0) + 1
        local parts = {}
        for code, count in pairs(status_counts) do table.insert(parts, code .. ":" .. count) end
        statuses = table.concat(parts, ",")
    end
end

function done(summary, latency, wrk_requests)
    local total = { sent = 0, answered = 0, ok = 0, non3xx = 0 }
    local first_all, last_all, any_exhausted, all_statuses = nil, 0, false, {}
    for _, thread in ipairs(threads) do
        for key in pairs(total) do total[key] = total[key] + thread:get(key) end
        local f, l = thread:get("first"), thread:get("last")
        if f > 0 and (first_all == nil or f < first_all) then first_all = f end
        if l > last_all then last_all = l end
        any_exhausted = any_exhausted or thread:get("exhausted")
        local s = thread:get("statuses")
        if s ~= "" then table.insert(all_statuses, s) end
    end
    local seconds = (first_all and last_all > first_all) and (last_all - first_all) or 0
    local e = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"sent":%d,"answered":%d,"ok":%d,"non3xx":%d,"statuses":"%s","unanswered":%d,' ..
        '"exhausted":%s,"seconds":%.4f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
        '"connect_errors":%d,"read_errors":%d,"write_errors":%d}\n',
        total.sent, total.answered, total.ok, total.non3xx, table.concat(all_statuses, ","),
        total.sent - total.answered, tostring(any_exhausted), seconds,
        latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write))
end
