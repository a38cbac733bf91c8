-- wrk script for Benchmarks/admin-pages: counts answers that are not 200 (a lost session answers 303 to the
-- sign-in page, which wrk alone would count as a success) and prints one line of figures for the script.
-- Each wrk thread has its own Lua state: done() reads the counts back from the threads.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    bad = 0
end

function response(status, headers, body)
    if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
    local non200 = 0
    for _, thread in ipairs(threads) do non200 = non200 + thread:get("bad") end
    io.write(string.format(
        "PAGE_RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d max_us=%d non200=%d errors=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max, non200,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
