"""Nessie's Iceberg REST URL layout in front of Apache Iceberg's REST catalog server.

Deployed environments point pyiceberg at Nessie's ``<base>/iceberg/<branch>``. Nessie
(catalog/service/rest in github.com/projectnessie/nessie: IcebergApiV1GenericResource,
IcebergConfigurer, ExternalBaseUri, CatalogConfig) serves

- ``GET /iceberg/v1/config`` (default branch) and ``GET /iceberg/<branch>/v1/config``,
  optionally ``?warehouse=<name or location>``: the defaults carry
  ``prefix=urlencode("<branch>|<warehouse>")`` (just the branch when no warehouse is asked
  for) and the overrides ``uri=<base>/iceberg/``; a warehouse it does not know is refused;
- every other endpoint under ``/iceberg/v1/<prefix>/…``.

pyiceberg fetches the config from the URI it was given, then adopts the ``uri`` override
and the ``prefix``. Apache Iceberg's server has neither layer: it serves ``/v1/…`` at its
root. This front translates between the two and answers 404 for an unknown branch or a
path outside ``/iceberg/``, as Nessie does, so a wrong catalog path fails here as there.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class NessieFront:
    """Where the front listens and what it knows; ``requests`` records what it was asked."""

    backend: str  # host:port of the Apache Iceberg REST server
    warehouse_name: str
    warehouse_location: str
    branches: tuple[str, ...] = ("main",)
    # Nessie's marker in its config overrides (IcebergConfigurer): lakehouse.wap then
    # takes the catalog for Nessie and branches it through Nessie's API v2.
    nessie_marker: bool = False
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def uri(self, branch: str = "main") -> str:
        """The catalog URI a deployed environment's ICEBERG_CATALOG_URI holds."""
        return f"{self.base}/iceberg/{branch}"

    def warehouse(self, asked: str | None) -> str | None:
        """The warehouse name a request resolves to (Nessie: by name or location)."""
        if not asked:
            return self.warehouse_name
        known = (self.warehouse_name, self.warehouse_location.rstrip("/"))
        return asked if asked.rstrip("/") in known else None

    def start(self) -> NessieFront:
        handler = type("Handler", (_Handler,), {"front": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    front: NessieFront
    body: bytes | None = None

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.front.requests.append((self.command, self.path, status))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, kind: str, message: str) -> None:
        body = {"error": {"message": message, "type": kind, "code": status}}
        self._reply(status, json.dumps(body).encode(), [("Content-Type", "application/json")])

    def _forward(
        self, path: str, *, plain: bool = False
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if plain:
            headers.pop("Accept-Encoding", None)
        conn = http.client.HTTPConnection(self.front.backend, timeout=120)
        try:
            conn.request(self.command, path, body=self.body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, data, kept
        finally:
            conn.close()

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else None  # read even when refused
        url = urlsplit(self.path)
        parts = url.path.split("/")  # "", "iceberg", ...
        if len(parts) < 3 or parts[1] != "iceberg":
            self._error(404, "NotFoundException", f"no Iceberg REST resource at {url.path}")
            return
        rest = parts[2:]
        if rest[:2] == ["v1", "config"] or rest[1:3] == ["v1", "config"]:
            branch = "main" if rest[0] == "v1" else rest[0]
            self._config(branch, parse_qs(url.query).get("warehouse", [None])[0])
            return
        if rest[0] != "v1" or len(rest) < 3:
            self._error(404, "NotFoundException", f"no Iceberg REST resource at {url.path}")
            return
        branch, _, warehouse = unquote(rest[1]).partition("|")
        if branch not in self.front.branches:
            self._error(404, "NoSuchReferenceException", f"Named reference '{branch}' not found")
            return
        if self.front.warehouse(warehouse) is None:
            self._error(400, "IllegalStateException", f"Warehouse '{warehouse}' is not known")
            return
        target = "/v1/" + "/".join(rest[2:]) + (f"?{url.query}" if url.query else "")
        self._reply(*self._forward(target))

    def _config(self, branch: str, asked: str | None) -> None:
        if branch not in self.front.branches:
            self._error(404, "NoSuchReferenceException", f"Named reference '{branch}' not found")
            return
        warehouse = self.front.warehouse(asked)
        if warehouse is None:
            self._error(400, "IllegalStateException", f"Warehouse '{asked}' is not known")
            return
        status, body, headers = self._forward("/v1/config", plain=True)
        if status != 200:
            self._reply(status, body, headers)
            return
        config = json.loads(body)
        prefix = f"{branch}|{warehouse}" if asked else branch
        config.setdefault("defaults", {}).update(
            prefix=quote(prefix, safe=""), warehouse=self.front.warehouse_location
        )
        config.setdefault("overrides", {}).update(uri=f"{self.front.base}/iceberg/")
        if self.front.nessie_marker:
            config["overrides"]["nessie.is-nessie-catalog"] = "true"
        self._reply(200, json.dumps(config).encode(), [("Content-Type", "application/json")])

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _route
