"""How the gate's DuckDB gets credentials for a gs:// warehouse: an OAuth token of Google's
application default credentials, in a TEMPORARY (in-memory) secret.

No GCS is reachable here: the token comes from a stand-in for the metadata server Cloud
Run gives a job (``GCE_METADATA_HOST``/``GCE_METADATA_IP`` on 127.0.0.1), and the test
stops at the secret DuckDB holds; reading tables from GCS itself is not verified.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import process_env

PROBE = r"""
import json, sys
from lakehouse.config import Settings
from lakehouse.quality import duck
settings = Settings.from_env(json.loads(sys.argv[1]))
con = duck.connect()
duck.add_storage_secret(con, settings)
rows = con.execute(
    "SELECT name, type, persistent, storage, scope FROM duckdb_secrets()"
).fetchall()
print(json.dumps([[str(v) for v in row] for row in rows]))
"""


@pytest.fixture
def metadata_server() -> Iterator[tuple[str, list[str]]]:
    """Cloud Run's metadata server, as far as google-auth asks it: its address and the
    paths it was asked for. Its token is ``zztoken``."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.path)
            if "/token" in self.path:
                body: object = {"access_token": "zztoken", "expires_in": 3600}
            elif "service-accounts/default" in self.path:
                body = {"email": "zzgate@zzproject.iam", "aliases": ["default"], "scopes": []}
            else:
                body = "zzproject"
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(200)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_a_gs_warehouse_gets_a_token_secret_from_application_default_credentials(
    tmp_path: Path, soda_python: str, metadata_server: tuple[str, list[str]]
) -> None:
    address, asked = metadata_server
    env = {
        "LAKEHOUSE_ENVIRONMENT": "zzgs",
        "LAKEHOUSE_ACCESS_LEVEL": "reader",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": "http://127.0.0.1:9/iceberg/main",
        "ICEBERG_WAREHOUSE": "gs://zzbucket/warehouse",
    }
    proc = subprocess.run(
        [soda_python, "-c", PROBE, json.dumps(env)],
        env=process_env(
            GCE_METADATA_HOST=address,
            GCE_METADATA_IP=address,
            HOME=str(tmp_path),
            CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (secret,) = json.loads(proc.stdout)
    name, kind, persistent, storage, scope = secret
    assert (name, kind, persistent, storage) == ("lakehouse_storage", "gcs", "False", "memory")
    assert "gs://" in scope
    assert any("/token" in path for path in asked), asked
