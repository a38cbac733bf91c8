#!/usr/bin/env python3
"""Start to first answer: milliseconds from starting a server to its first 200 on a health route (standard library).

Each start gets a free loopback port (HTTP_PORT) and a fresh, empty data folder (DATA_DIRECTORY) in its own folder
under --work; the rest of the environment is this process's. The clock starts just before the fork and exec and
stops at the first `200` answer to `GET <path>`, polled as fast as the server can refuse: a new connection, a
request, and on a refused or unanswered connection a retry after 1 ms. The server is then stopped (SIGTERM) and
the next start begins. Prints the median, then every start's figure, as "START_TIMES median ms ms ms ...".

Usage: start_time.py --starts 5 --work DIR [--path /healthz] -- COMMAND ARGS...
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port, path):
    """True if GET path on the port answers 200 now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_start(command, work, path, timeout):
    port = free_port()
    data = os.path.join(work, "data")
    os.makedirs(data)
    environment = dict(os.environ, HTTP_PORT=str(port), DATA_DIRECTORY=data)
    with open(os.path.join(work, "serve.log"), "wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, env=environment, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not answers(port, path):
                if process.poll() is not None:
                    sys.exit(f"start_time.py: the server exited during start (log: {work}/serve.log)")
                if time.monotonic() - started > timeout:
                    sys.exit(f"start_time.py: no answer within {timeout} s (log: {work}/serve.log)")
                time.sleep(0.001)
            return (time.monotonic() - started) * 1000
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main():
    parser = argparse.ArgumentParser(description="start to first answer of a server, in ms")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--work", required=True)
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("command", nargs="+")
    arguments = parser.parse_args()
    times = []
    for index in range(arguments.starts):
        times.append(one_start(arguments.command, os.path.join(arguments.work, f"start-{index + 1}"), arguments.path, arguments.timeout))
        print(f"\r    start to first answer: {index + 1}/{arguments.starts} ({times[-1]:.0f} ms)   ", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print("START_TIMES " + " ".join(f"{value:.1f}" for value in [statistics.median(times)] + times))


if __name__ == "__main__":
    main()
