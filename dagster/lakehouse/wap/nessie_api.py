"""The subset of Nessie's REST API v2 that write-audit-publish uses (Nessie 0.106).

Paths and bodies as in Nessie's ``HttpTreeApi`` (api/model/.../api/v2/http) and its
OpenAPI document: references ``GET/POST/DELETE /trees``, contents
``GET /trees/{ref}/entries?content=true``, ``POST /trees/{branch}/history/merge`` and
``/history/commit``, ``GET /trees/{ref}/history?fetch=ALL``. A reference in a path is
``name`` or ``name@hash`` (the hash pins it, or is the expected hash of a change).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from lakehouse.wap.model import WapError

TIMEOUT = 60
ICEBERG_TABLE = "ICEBERG_TABLE"


class NessieHttpError(WapError):
    """Nessie answered with an error: its status, errorCode and message."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"Nessie {status} {code}: {message}")
        self.status, self.code, self.body = status, code, body


def key_path(elements: tuple[str, ...]) -> str:
    """A content key as Nessie writes it in a URL: elements joined by dots."""
    if any("." in e or not e for e in elements):
        raise WapError(f"content key {elements!r}: an element with a dot is not supported")
    return ".".join(elements)


def key_json(elements: tuple[str, ...]) -> dict[str, list[str]]:
    return {"elements": list(elements)}


class NessieApi:
    def __init__(self, base: str, session: requests.Session | None = None) -> None:
        self.base = base.rstrip("/")
        self.session = session or requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base}/{path}"
        try:
            response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise WapError(f"Nessie API {url}: {exc}") from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"message": response.text[:500]}
        if response.status_code >= 400:
            raise NessieHttpError(
                response.status_code,
                str(body.get("errorCode") or body.get("reason") or ""),
                str(body.get("message") or response.reason),
                body,
            )
        return body

    # --- references ----------------------------------------------------------------
    def reference(self, name: str) -> dict[str, Any] | None:
        """``{"type", "name", "hash"}`` of a branch or tag, None when there is none."""
        try:
            return self._call("GET", f"trees/{name}")["reference"]
        except NessieHttpError as exc:
            if exc.status == 404:
                return None
            raise

    def create_branch(self, name: str, source: str, source_hash: str) -> dict[str, Any]:
        body = {"type": "BRANCH", "name": source, "hash": source_hash}
        return self._call("POST", "trees", params={"name": name, "type": "BRANCH"}, json=body)[
            "reference"
        ]

    def delete_branch(self, name: str, expected_hash: str) -> None:
        self._call("DELETE", f"trees/{name}@{expected_hash}", params={"type": "BRANCH"})

    # --- contents --------------------------------------------------------------------
    def tables(self, ref: str, namespace: str) -> dict[str, dict[str, Any]]:
        """Every Iceberg table directly in ``namespace`` at ``ref``: name -> content."""
        found: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"content": "true"}
        while True:
            page = self._call("GET", f"trees/{ref}/entries", params=params)
            for entry in page.get("entries", []):
                elements = tuple(entry["name"]["elements"])
                content = entry.get("content") or {}
                if entry.get("type") == ICEBERG_TABLE and elements[:-1] == (namespace,):
                    found[elements[-1]] = content
            if not page.get("hasMore"):
                return found
            params = {"content": "true", "page-token": page["token"]}

    def log(self, ref: str, touching: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """Commits of ``ref`` with their operations, newest first; Nessie filters them to
        those touching the key ``touching`` (a CEL filter; the caller checks anyway)."""
        cel = f"operations.exists(op, op.key == '{key_path(touching)}')"
        params: dict[str, Any] = {"fetch": "ALL", "filter": cel}
        while True:
            page = self._call("GET", f"trees/{ref}/history", params=params)
            yield from page.get("logEntries", [])
            if not page.get("hasMore"):
                return
            params = {**params, "page-token": page["token"]}

    # --- changes ---------------------------------------------------------------------
    def merge(
        self,
        target: str,
        expected_hash: str,
        source: str,
        source_hash: str,
        message: str,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Merge ``source@source_hash`` into ``target``: one commit; a conflict is returned
        as ``wasSuccessful: false`` (and nothing is committed)."""
        body = {
            "fromRefName": source,
            "fromHash": source_hash,
            "defaultKeyMergeMode": "NORMAL",
            "dryRun": dry_run,
            "returnConflictAsResult": True,
            "commitMeta": {"message": message},
        }
        return self._call("POST", f"trees/{target}@{expected_hash}/history/merge", json=body)

    def commit(
        self, branch: str, expected_hash: str, puts: dict[tuple[str, ...], dict], message: str
    ) -> dict[str, Any]:
        """One commit of ``Put`` operations on ``branch``, expected at ``expected_hash``:
        refused (409) when any key changed between that hash and the head."""
        operations = [
            {"type": "PUT", "key": key_json(key), "content": content}
            for key, content in sorted(puts.items())
        ]
        body = {"commitMeta": {"message": message}, "operations": operations}
        return self._call("POST", f"trees/{branch}@{expected_hash}/history/commit", json=body)
