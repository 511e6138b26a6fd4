"""Health endpoint for the Dagster daemon on Cloud Run, which has no exec probes.

gcp/dagster.tf starts the daemon container as
``python -c "<this file>" dagster-daemon run -w <workspace>``: the daemon runs as a child;
``GET /healthz`` on $PORT answers 200 when it is running and ``dagster-daemon
liveness-check`` (the compose health check) passes, 503 otherwise. When the daemon exits
this process exits with its status, so Cloud Run replaces the instance; SIGTERM is passed
on to the daemon.
"""

import http.server
import os
import signal
import subprocess
import sys
import threading

daemon = subprocess.Popen(sys.argv[1:])


def healthy() -> bool:
    if daemon.poll() is not None:
        return False
    try:
        check = subprocess.run(
            ["dagster-daemon", "liveness-check"], capture_output=True, timeout=25, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return check.returncode == 0


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/healthz" and healthy() else 503
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # probes every few seconds would drown the daemon's own logs


signal.signal(signal.SIGTERM, lambda *_: daemon.terminate())
server = http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Health)  # noqa: S104
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.exit(daemon.wait())
