#!/usr/bin/env python3
r"""Process start to first answered token request: launches `auth-server serve` pinned to
one CPU, polls POST /token (client_credentials, Basic) about every millisecond until it
answers 200, and times that from the moment before the exec. Repeats on the same
(already migrated) database and prints the median and every run in milliseconds:

    median_ms 12.3 runs 11.9,12.3,12.8,...

    AUTH_SERVER_BIND=127.0.0.1:PORT DATABASE_URL=... CLIENT_BASIC=... \
      python3 bench/first_token.py BIN/auth-server SERVER_CPU LOAD_CPU RUNS

The server runs pinned to SERVER_CPU, this poller to LOAD_CPU.

The server's other settings come from the environment as given (HTTP_WORKERS, the rate
limits and so on).
"""

import http.client
import os
import signal
import statistics
import subprocess
import sys
import time

BODY = b"grant_type=client_credentials&scope=tasks%3Aread"
GIVE_UP_AFTER = 10.0  # seconds


def first_token(host, port, basic):
    """One attempt: True when the server answered the token request with 200."""
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request(
            "POST",
            "/token",
            body=BODY,
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def one_start(binary, cpu, host, port, basic):
    """Milliseconds from launching the server to its first 200 token answer."""
    pin = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731 - runs in the child
    started = time.perf_counter()
    server = subprocess.Popen(
        [binary, "serve"],
        preexec_fn=pin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not first_token(host, port, basic):
            if server.poll() is not None:
                sys.exit(f"first_token: the server exited with {server.returncode}")
            if time.perf_counter() - started > GIVE_UP_AFTER:
                sys.exit("first_token: no token within 10 s")
            time.sleep(0.001)
        return (time.perf_counter() - started) * 1000
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    binary, cpu, load_cpu, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.sched_setaffinity(0, {load_cpu})
    host, port = os.environ["AUTH_SERVER_BIND"].rsplit(":", 1)
    basic = os.environ["CLIENT_BASIC"]
    times = [one_start(binary, cpu, host, int(port), basic) for _ in range(runs)]
    listed = ",".join(f"{t:.1f}" for t in times)
    print(f"median_ms {statistics.median(times):.1f} runs {listed}")


if __name__ == "__main__":
    main()
