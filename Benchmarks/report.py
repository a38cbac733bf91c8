#!/usr/bin/env python3
"""The table of Benchmarks/run: figures per route and measurement, the server's, and issue 12's targets per checkout.

Reads the two files Benchmarks/run wrote (standard library only):
  hellos.tsv   round, the hello-world's idle RSS KiB
  routes.tsv   round, checkout, route, wrk's BENCH_RESULT json, server CPU ticks in the load, other load %
  servers.tsv  round, checkout, connection rows, emulator CPU ticks in the callback load, RSS idle KiB,
               RSS after KiB, flows minted, start to first answer ms ("median each each ..."), % of the machine
               idle in the callback load
The hello-world rows have the checkout "hello-world" and no server row.
"""

import argparse
import json
import statistics
from collections import OrderedDict

HELLO = "hello-world"
HELLO_ROUTE = "hello-world GET /"
CALLBACK = "callback"
HEALTHZ = "GET /healthz"
CONNECT = "GET / (connect page)"
BASELINE_CALLBACKS = 365  # issue 12's figure for the callback before the work (requests/s)


def table(head, rows, left=2):
    widths = [max(len(row[c]) for row in [head] + rows) for c in range(len(head))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    separator = "|" + "|".join("-" * (w + 2) if i < left else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), separator] + [line(row) for row in rows])


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--routes", required=True)
    parser.add_argument("--servers", required=True)
    parser.add_argument("--hellos", required=True)
    parser.add_argument("--ticks", type=int, required=True)
    parser.add_argument("--title", required=True)
    arguments = parser.parse_args()
    ticks = arguments.ticks

    cpu = open("/proc/cpuinfo").read()
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name")), "?")
    cores = cpu.count("processor\t:")
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:")), 0)
    print(arguments.title)
    print(f"machine: {cores} cores ({model}), {memory / 1024 / 1024:.0f} GiB; servers, emulator and wrk all on it, loopback")
    print()

    # route -> checkout -> list of per-round figures
    figures, problems, rows = OrderedDict(), [], []
    for record in open(arguments.routes):
        rnd, label, route, result, server_ticks, other = record.rstrip("\n").split("\t")
        r = json.loads(result)
        where = f"round {rnd} {label} {route}"
        socket_errors = r["connect_errors"] + r["read_errors"] + r["write_errors"]
        if route == CALLBACK:
            answered, rate = r["answered"], (r["answered"] / r["seconds"] if r["seconds"] else 0.0)
            errors = r["non3xx"] + (r["answered"] - r["non3xx"] - r["ok"]) + r["unanswered"] + socket_errors
            if r["non3xx"]:
                problems.append(f"{where}: {r['non3xx']} non-3xx answers (status:count {r['statuses']})")
            if r["ok"] != r["answered"] - r["non3xx"]:
                problems.append(f"{where}: {r['answered'] - r['non3xx'] - r['ok']} 3xx answers that were not the success redirect")
            if r["unanswered"]:
                problems.append(f"{where}: {r['unanswered']} callbacks unanswered when wrk stopped")
            if r["exhausted"]:
                problems.append(f"{where}: used all minted flows after {r['seconds']:.1f} s; pass a larger --flows")
        else:
            answered, rate = r["requests"], (r["requests"] / r["seconds"] if r["seconds"] else 0.0)
            errors = r["status_errors"] + r["timeouts"] + socket_errors
            if r["status_errors"] or r["timeouts"]:
                problems.append(f"{where}: {r['status_errors']} answers of 400 or more, {r['timeouts']} timeouts")
        if socket_errors:
            problems.append(f"{where}: socket errors connect {r['connect_errors']}, read {r['read_errors']}, write {r['write_errors']}")
        cpu_ms = int(server_ticks) * 1000 / ticks / max(answered, 1)
        figure = {"rate": rate, "p50": r["p50_us"] / 1000, "p99": r["p99_us"] / 1000, "errors": errors, "cpu": cpu_ms, "ok": r.get("ok")}
        figures.setdefault(route, OrderedDict()).setdefault(label, []).append(figure)
        rows.append([rnd, label, route, f"{rate:.0f}", f"{figure['p50']:.1f}", f"{figure['p99']:.1f}", str(answered), str(errors),
                     f"{cpu_ms:.3f}", other])
    print(table(["round", "checkout", "route", "requests/s", "p50 ms", "p99 ms", "answers", "errors", "server CPU ms/req", "other load %"],
                rows, left=3))
    print("errors: socket errors, timeouts and answers of 400 or more (callback: anything but the 303 to /connection?connected=1,")
    print("and callbacks unanswered when wrk stopped). other load %: the machine's CPU that other processes used in the load.")
    print()

    servers, server_rows = OrderedDict(), []
    for record in open(arguments.servers):
        rnd, label, db_rows, emulator_ticks, rss_idle, rss_load, _flows, start_times, machine_idle = record.rstrip("\n").split("\t")
        times = [float(x) for x in start_times.split()]
        callback = figures[CALLBACK][label][len(servers.get(label, []))]
        emulator_ms = int(emulator_ticks) * 1000 / ticks / max(callback["ok"] or 1, 1)
        if int(db_rows) != callback["ok"]:
            problems.append(f"round {rnd} {label}: {db_rows} connection rows but {callback['ok']} successful callbacks")
        servers.setdefault(label, []).append({"idle": int(rss_idle) / 1024, "after": int(rss_load) / 1024, "starts": times[1:],
                                              "machine_idle": int(machine_idle)})
        server_rows.append([rnd, label, f"{times[0]:.0f} ({', '.join(f'{t:.0f}' for t in times[1:])})", f"{int(rss_idle) / 1024:.1f}",
                            f"{int(rss_load) / 1024:.1f}", db_rows, f"{emulator_ms:.2f}", machine_idle])
    for record in open(arguments.hellos):
        rnd, rss_idle = record.split()
        server_rows.append([rnd, HELLO, "-", f"{int(rss_idle) / 1024:.1f}", "-", "-", "-", "-"])
    print(table(["round", "checkout", "start to first answer ms: median (each)", "RSS idle MiB", "RSS after MiB", "connection rows",
                 "emulator CPU ms/callback", "machine idle % (callback)"], server_rows))
    print()

    hello = figures.get(HELLO_ROUTE, {}).get(HELLO, [])
    hello_rate = mean([f["rate"] for f in hello])
    for label, runs in servers.items():
        def route_mean(route, key):
            return mean([f[key] for f in figures.get(route, {}).get(label, [])])

        callback_rate = route_mean(CALLBACK, "rate")
        targets = [
            ("callback: server CPU per request", f"{route_mean(CALLBACK, 'cpu'):.2f} ms", "≤ 0.6 ms", route_mean(CALLBACK, "cpu") <= 0.6),
            ("callback: p99 at the load", f"{route_mean(CALLBACK, 'p99'):.1f} ms", "≤ 50 ms", route_mean(CALLBACK, "p99") <= 50),
            ("callback: throughput", f"{callback_rate:.0f}/s = {callback_rate / BASELINE_CALLBACKS:.2f} × {BASELINE_CALLBACKS}/s",
             f"≥ 3 × {BASELINE_CALLBACKS}/s", callback_rate >= 3 * BASELINE_CALLBACKS),
            ("callback: errors", f"{sum(f['errors'] for f in figures[CALLBACK][label])}", "0",
             sum(f["errors"] for f in figures[CALLBACK][label]) == 0),
            # No idle core: CPU, not waiting, limits the callback; 10 % of the machine is a fifth of a core on 2 cores.
            ("callback: machine idle in the load", f"{mean([r['machine_idle'] for r in runs]):.0f} %", "≤ 10 % (no idle core)",
             mean([r["machine_idle"] for r in runs]) <= 10),
            ("/healthz: share of hello-world", f"{route_mean(HEALTHZ, 'rate'):.0f}/s ÷ {hello_rate:.0f}/s = "
             f"{route_mean(HEALTHZ, 'rate') / hello_rate * 100:.0f} %", "≥ 50 %", route_mean(HEALTHZ, "rate") >= 0.5 * hello_rate),
            ("connect page: share of hello-world", f"{route_mean(CONNECT, 'rate'):.0f}/s ÷ {hello_rate:.0f}/s = "
             f"{route_mean(CONNECT, 'rate') / hello_rate * 100:.0f} %", "≥ 30 %", route_mean(CONNECT, "rate") >= 0.3 * hello_rate),
            ("idle RSS", f"{mean([r['idle'] for r in runs]):.1f} MiB", "≤ 40 MiB", mean([r["idle"] for r in runs]) <= 40),
            ("start to first answer (median)", f"{statistics.median([t for r in runs for t in r['starts']]):.0f} ms", "≤ 100 ms",
             statistics.median([t for r in runs for t in r["starts"]]) <= 100),
        ]
        print(f"{label}: issue 12's targets (means over {len(runs)} round(s); hello-world {hello_rate:.0f} requests/s)")
        print(table(["target", "figure", "goal", "met"], [[t, f, g, "met" if m else "NOT MET"] for t, f, g, m in targets], left=4))
        print()

    labels = list(servers)
    if len(labels) > 1:
        first = labels[0]
        for label in labels[1:]:
            parts = []
            for route in [CALLBACK, HEALTHZ, CONNECT]:
                a, b = mean([f["rate"] for f in figures[route][label]]), mean([f["rate"] for f in figures[route][first]])
                ca, cb = mean([f["cpu"] for f in figures[route][label]]), mean([f["cpu"] for f in figures[route][first]])
                parts.append(f"{route} requests/s {a / b:.2f}, CPU/request {ca / cb:.2f}")
            print(f"{label} / {first}: " + "; ".join(parts))
        print()
    print("problems: none" if not problems else "problems:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
