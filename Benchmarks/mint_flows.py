#!/usr/bin/env python3
"""Mints OAuth callbacks for the callback benchmark (plain Python 3, standard library only).

Each flow is what a browser does up to Square's redirect back to us:
  1. GET /                        -> CSRF cookie and the form's csrf_token
  2. POST /oauth/start            -> 303 to the emulator's authorize URL, plus the browser-binding cookie
  3. GET <authorize URL>          -> the emulator's consent page with its request_id
  4. POST /oauth2/authorize/decision (allow, merchant_id=<prefix><n>) -> 302 to /oauth/callback?code=..&state=..

Steps 1-3 run for every flow first, then step 4 for every flow: the emulator lists every seller on its
consent page and adds one per Allow, so interleaving would make each page longer than the last. Doing the
decisions last also keeps the codes (5-minute life at the emulator) as fresh as possible for the load run.

Writes one line per flow: "<path and query of the callback>\t<Cookie header value>", the file that
Benchmarks/callback.lua reads. Progress goes to stderr; any unexpected answer stops with a message.

Usage: mint_flows.py --server http://127.0.0.1:PORT --flows N --out FILE [--workers 8] [--merchant-prefix MLBENCH]
"""

import argparse
import http.client
import re
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUEST_ID_FIELD = re.compile(r'name="request_id" value="([^"]+)"')


class MintError(Exception):
    """An answer the flow did not expect: the benchmark cannot go on."""


class Client:
    """Keep-alive HTTP/1.1 connections, one per host:port, owned by one worker thread."""

    def __init__(self):
        self.connections = {}

    def request(self, url, method="GET", body=None, headers=None):
        parts = urllib.parse.urlsplit(url)
        key = (parts.hostname, parts.port)
        path = parts.path + ("?" + parts.query if parts.query else "")
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self.connections.get(key)
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                self.connections[key] = connection
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                connection.close()
                del self.connections[key]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        for connection in self.connections.values():
            connection.close()


def header(headers, name):
    return next((value for key, value in headers if key.lower() == name), None)


def cookie(headers, base_name):
    """The `name=value` of our cookie `base_name` (with or without the __Host- prefix)."""
    for key, value in headers:
        if key.lower() == "set-cookie":
            pair = value.split(";", 1)[0].strip()
            name = pair.split("=", 1)[0]
            if name in (base_name, "__Host-" + base_name):
                return pair
    return None


def expect(condition, step, status, body):
    if not condition:
        snippet = body[:300].decode("utf-8", "replace").replace("\n", " ")
        raise MintError(f"{step}: unexpected answer {status}: {snippet}")


def start_flow(client, server):
    """Steps 1-3: returns (request_id, binding cookie)."""
    status, headers, body = client.request(server + "/")
    csrf_cookie = cookie(headers, "so_csrf")
    match = CSRF_FIELD.search(body.decode("utf-8", "replace"))
    expect(status == 200 and csrf_cookie and match, "GET /", status, body)
    form = urllib.parse.urlencode({"csrf_token": match.group(1)})
    status, headers, body = client.request(server + "/oauth/start", "POST", form, {"Cookie": csrf_cookie})
    authorize_url, binding = header(headers, "location"), cookie(headers, "so_bind")
    expect(status == 303 and authorize_url and binding, "POST /oauth/start", status, body)
    status, headers, body = client.request(authorize_url)
    match = REQUEST_ID_FIELD.search(body.decode("utf-8", "replace"))
    expect(status == 200 and match, "GET consent page", status, body)
    decision_url = urllib.parse.urljoin(authorize_url, "/oauth2/authorize/decision")
    return decision_url, match.group(1), binding


def decide(client, decision_url, request_id, merchant_id, callback_prefix):
    """Step 4: returns the callback's path and query."""
    form = urllib.parse.urlencode({"request_id": request_id, "decision": "allow", "merchant_id": merchant_id})
    status, headers, body = client.request(decision_url, "POST", form)
    location = header(headers, "location") or ""
    expect(status == 302 and location.startswith(callback_prefix) and "code=" in location, "POST decision", status, body)
    parts = urllib.parse.urlsplit(location)
    return parts.path + "?" + parts.query


class Progress:
    """One self-overwriting line on stderr, at most twice a second."""

    def __init__(self, label, total):
        self.label, self.total, self.done = label, total, 0
        self.lock = threading.Lock()
        self.started = self.shown = time.monotonic()

    def step(self):
        with self.lock:
            self.done += 1
            now = time.monotonic()
            if now - self.shown >= 0.5 or self.done == self.total:
                self.shown = now
                rate = self.done / max(now - self.started, 1e-9)
                sys.stderr.write(f"\r    {self.label}: {self.done}/{self.total} ({rate:.0f}/s)   ")
                sys.stderr.flush()

    def finish(self):
        sys.stderr.write("\n")
        return time.monotonic() - self.started


def run_phase(label, items, work, workers):
    """Runs `work(client, item)` over items on `workers` threads, each with its own connections."""
    progress = Progress(label, len(items))
    results = [None] * len(items)
    chunks = [range(w, len(items), workers) for w in range(workers)]

    def worker(indexes):
        client = Client()
        try:
            for index in indexes:
                results[index] = work(client, items[index])
                progress.step()
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker, chunk) for chunk in chunks]:
            future.result()
    return results, progress.finish()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", required=True, help="the service's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--flows", type=int, required=True, help="how many callbacks to mint")
    parser.add_argument("--out", required=True, help="the file to write, one flow per line")
    parser.add_argument("--workers", type=int, default=8, help="parallel browsers (threads)")
    parser.add_argument("--merchant-prefix", default="MLBENCH", help="merchant_id = prefix + 6-digit flow number")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    callback_prefix = server + "/oauth/callback?"
    try:
        started, seconds_a = run_phase("consent pages", list(range(args.flows)), lambda c, _: start_flow(c, server), args.workers)
        decisions = [(url, rid, f"{args.merchant_prefix}{n:06d}") for n, (url, rid, _) in enumerate(started)]
        callbacks, seconds_b = run_phase(
            "codes", decisions, lambda c, d: decide(c, d[0], d[1], d[2], callback_prefix), args.workers
        )
    except (MintError, OSError, http.client.HTTPException) as error:
        sys.stderr.write(f"\nmint_flows: {error}\n")
        return 1
    with open(args.out, "w") as out:
        for path, (_, _, binding) in zip(callbacks, started):
            out.write(f"{path}\t{binding}\n")
    sys.stderr.write(f"    minted {args.flows} flows in {seconds_a + seconds_b:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
