-- wrk script for a plain route of the benchmark (GET, the same request every time): /healthz, the connect page,
-- the hello-world route. Only done() is ours: it prints one line "BENCH_RESULT {json}" with wrk's figures.
--
--   wrk -t THREADS -c CONNECTIONS -d SECONDS --timeout 10s -s route.lua URL
--
-- requests and seconds (first request to the end), wrk's socket errors (connect, read, write, timeout) and the
-- answers with a status of 400 or more (status_errors), p50/p99/max latency in microseconds.

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests":%d,"seconds":%.6f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
        '"timeouts":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
        summary.requests, summary.duration / 1e6, errors.connect, errors.read, errors.write, errors.timeout,
        errors.status, latency:percentile(50), latency:percentile(99), latency.max))
end
