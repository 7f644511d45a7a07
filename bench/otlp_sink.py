"""An OTLP/HTTP trace sink for bench/observability_cost.sh: answers every POST /v1/traces
with 200 (an empty ExportTraceServiceResponse) and counts the exports and their bytes, so
the benchmark can check that spans really left the server. GET /count prints the totals.

    python3 bench/otlp_sink.py PORT
"""

import http.server
import sys
import threading

exports = 0
received = 0
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global exports, received
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        ok = self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/x-protobuf"
        if ok:
            with lock:
                exports += 1
                received += length
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            body = f"{exports} {received}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    server.serve_forever()
