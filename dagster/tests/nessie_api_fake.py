"""A FAKE of Nessie's REST API v2, in memory, for the Nessie backend's tests.

No Nessie server can be obtained on this machine (not on Maven Central, no container
images), so this is NOT Nessie: it is a small stand-in for exactly the calls
lakehouse/wap/nessie_api.py makes, written from Nessie 0.106's HttpTreeApi, its OpenAPI
document and the semantics of its version store (see /work/wt/research-nessie-wap.md):

- references ``GET/POST/DELETE /api/v2/trees[/{ref}]`` (409 when the name exists or the
  expected hash is not the head; 404 when missing);
- ``GET /trees/{ref}/entries?content=true`` and ``/history?fetch=ALL``, two per page so
  clients must follow ``token`` (the ``filter`` of /history is ignored: the client checks
  every operation itself);
- ``POST /trees/{branch}@{hash}/history/merge``: one squashed commit of the keys the
  source changed since the common ancestor; a key the target also changed since then to
  another value is a conflict and nothing is committed; ``dryRun`` commits nothing;
- ``POST /trees/{branch}@{hash}/history/commit``: refused (409) when a key changed
  between ``hash`` and the head, or a Put names another content id than the key has;
- ``GET /iceberg/{ref}/v1/config``: the catalog's config with Nessie's marker
  ``nessie.is-nessie-catalog=true`` (only that, for the backend detection).

Writes through Nessie's Iceberg REST API are simulated by :meth:`FakeNessie.put`: a
commit of table contents on a branch, as Nessie's catalog makes on every table commit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

NO_ANCESTOR = "2e1cfa82b035c26cbbbdae632cea070514eb8b773f616aaeaf668e2f0be8f10d"
PAGE = 2

Key = tuple[str, ...]


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class Commit:
    hash: str
    parents: list[str]
    operations: list[dict]
    contents: dict[Key, dict]
    message: str


@dataclass
class FakeNessie:
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Called with (branch, body) before a /history/commit is applied: a test's race.
    before_commit: Callable[[str, dict], None] | None = None
    server: ThreadingHTTPServer | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.commits[NO_ANCESTOR] = Commit(NO_ANCESTOR, [], [], {}, "")
        self.refs["main"] = NO_ANCESTOR

    # --- what a test uses ------------------------------------------------------------
    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeNessie:
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def put(self, branch: str, contents: dict[Key, dict], message: str = "write") -> str:
        """A table commit on ``branch``, as Nessie's Iceberg REST catalog makes one."""
        with self.lock:
            head = self.commits[self.refs[branch]]
            ops = []
            for key, content in contents.items():
                old = head.contents.get(key)
                content = {
                    "type": "ICEBERG_TABLE",
                    "id": old["id"] if old else str(uuid.uuid4()),
                    **content,
                }
                ops.append({"type": "PUT", "key": {"elements": list(key)}, "content": content})
            return self._commit(branch, ops, message)

    def contents(self, ref: str) -> dict[Key, dict]:
        return self.commits[self.refs[ref]].contents

    def log_length(self, ref: str) -> int:
        return len(self._chain(self.refs[ref]))

    # --- the store -------------------------------------------------------------------
    def _commit(self, branch: str, ops: list[dict], message: str, second: str | None = None) -> str:
        parent = self.refs[branch]
        contents = dict(self.commits[parent].contents)
        for op in ops:
            key = tuple(op["key"]["elements"])
            if op["type"] == "PUT":
                contents[key] = op["content"]
            else:
                contents.pop(key, None)
        parents = [parent] + ([second] if second else [])
        digest = hashlib.sha256(json.dumps([parents, ops, message], sort_keys=True).encode())
        commit = Commit(digest.hexdigest(), parents, ops, contents, message)
        self.commits[commit.hash] = commit
        self.refs[branch] = commit.hash
        return commit.hash

    def _chain(self, hash_: str) -> list[str]:
        """First-parent history, newest first (without the root)."""
        chain = []
        while hash_ != NO_ANCESTOR:
            chain.append(hash_)
            hash_ = self.commits[hash_].parents[0]
        return chain

    def _ancestors(self, hash_: str) -> set[str]:
        seen, todo = set(), [hash_]
        while todo:
            h = todo.pop()
            if h not in seen:
                seen.add(h)
                todo.extend(self.commits[h].parents)
        return seen

    def _resolve(self, spec: str) -> tuple[str, str]:
        name, _, hash_ = unquote(spec).partition("@")
        if name not in self.refs:
            raise Refusal(404, "REFERENCE_NOT_FOUND", f"Named reference '{name}' not found")
        head = self.refs[name]
        if hash_ and hash_ != head and hash_ not in [*self._chain(head), NO_ANCESTOR]:
            raise Refusal(404, "REFERENCE_NOT_FOUND", f"Commit '{hash_}' not found on '{name}'")
        return name, hash_ or head

    def _ref(self, name: str) -> dict[str, str]:
        return {"type": "BRANCH", "name": name, "hash": self.refs[name]}

    def _merge(self, target: str, body: dict) -> dict:
        name, expected = self._resolve(target)
        _, source = self._resolve(f"{body['fromRefName']}@{body.get('fromHash') or ''}")
        head = self.refs[name]
        base = next(h for h in [*self._chain(head), NO_ANCESTOR] if h in self._ancestors(source))
        was, now, there = (self.commits[h].contents for h in (base, source, head))
        changed = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
        details, conflicts = [], 0
        for key in changed:
            detail: dict[str, Any] = {"key": {"elements": list(key)}, "mergeBehavior": "NORMAL"}
            if there.get(key) != was.get(key) and there.get(key) != now.get(key):
                conflicts += 1
                detail["conflictType"] = "UNRESOLVABLE"
                detail["conflict"] = {
                    "conflictType": "VALUE_DIFFERS",
                    "key": {"elements": list(key)},
                    "message": f"values of existing and expected content for key "
                    f"'{'.'.join(key)}' are different",
                }
            details.append(detail)
        result = {
            "targetBranch": name,
            "expectedHash": expected,
            "effectiveTargetHash": head,
            "commonAncestor": base,
            "resultantTargetHash": head,
            "wasApplied": False,
            "wasSuccessful": conflicts == 0,
            "details": details,
        }
        if conflicts and not body.get("returnConflictAsResult"):
            raise Refusal(
                409, "REFERENCE_CONFLICT", "The following keys have been changed in conflict"
            )
        if conflicts or body.get("dryRun") or not changed:
            return result
        ops = [
            {"type": "PUT", "key": {"elements": list(k)}, "content": now[k]}
            if k in now
            else {"type": "DELETE", "key": {"elements": list(k)}}
            for k in changed
        ]
        message = (body.get("commitMeta") or {}).get("message") or "merge"
        result["resultantTargetHash"] = self._commit(name, ops, message, second=source)
        result["wasApplied"] = True
        return result

    def _commit_ops(self, target: str, body: dict) -> dict:
        name, expected = self._resolve(target)
        if self.before_commit is not None:
            self.before_commit(name, body)
        head = self.commits[self.refs[name]].contents
        at = self.commits[expected].contents
        for op in body["operations"]:
            key = tuple(op["key"]["elements"])
            if head.get(key) != at.get(key):
                raise Refusal(
                    409, "REFERENCE_CONFLICT", f"Key '{'.'.join(key)}' has conflicting changes"
                )
            content_id = (op.get("content") or {}).get("id")
            if key in head and content_id != head[key]["id"]:
                raise Refusal(
                    409,
                    "CONTENT_NOT_FOUND",
                    f"Key '{'.'.join(key)}' already exists with content ID {head[key]['id']}",
                )
        message = (body.get("commitMeta") or {}).get("message", "")
        self._commit(name, body["operations"], message)
        return {"targetBranch": self._ref(name), "addedContents": []}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeNessie

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        self.fake.requests.append((self.command, self.path))
        try:
            with self.fake.lock:
                self._reply(200, self._answer(url.path.split("/")[1:], query, body))
        except Refusal as exc:
            error = {"status": exc.status, "reason": "", "message": str(exc), "errorCode": exc.code}
            self._reply(exc.status, error)

    def _answer(self, parts: list[str], query: dict[str, str], body: dict) -> dict:
        fake, method = self.fake, self.command
        if parts[:1] == ["iceberg"] and parts[-2:] == ["v1", "config"]:
            return {"defaults": {}, "overrides": {"nessie.is-nessie-catalog": "true"}}
        if parts[:3] != ["api", "v2", "trees"]:
            raise Refusal(404, "NOT_FOUND", f"no such resource {self.path}")
        rest = parts[3:]
        if not rest and method == "POST":
            name = query["name"]
            if name in fake.refs:
                raise Refusal(
                    409, "REFERENCE_ALREADY_EXISTS", f"Named reference '{name}' already exists."
                )
            _, source = fake._resolve(f"{body['name']}@{body.get('hash') or ''}")
            fake.refs[name] = source
            return {"reference": fake._ref(name)}
        if len(rest) == 1 and method == "GET":
            name, hash_ = fake._resolve(rest[0])
            return {"reference": {"type": "BRANCH", "name": name, "hash": hash_}}
        if len(rest) == 1 and method == "DELETE":
            name, hash_ = fake._resolve(rest[0])
            if hash_ != fake.refs[name]:
                raise Refusal(409, "REFERENCE_CONFLICT", f"'{name}' is not at {hash_}")
            del fake.refs[name]
            return {"reference": {"type": "BRANCH", "name": name, "hash": hash_}}
        if rest[1:] == ["entries"]:
            _, hash_ = fake._resolve(rest[0])
            entries = [
                {
                    "type": c["type"],
                    "name": {"elements": list(k)},
                    "contentId": c["id"],
                    "content": c,
                }
                for k, c in sorted(fake.commits[hash_].contents.items())
            ]
            return _page(entries, query, "entries")
        if rest[1:] == ["history"]:
            _, hash_ = fake._resolve(rest[0])
            entries = [
                {
                    "commitMeta": {"hash": h, "message": fake.commits[h].message},
                    "parentCommitHash": fake.commits[h].parents[0],
                    "operations": fake.commits[h].operations,
                }
                for h in fake._chain(hash_)
            ]
            return _page(entries, query, "logEntries")
        if rest[1:] == ["history", "merge"] and method == "POST":
            return fake._merge(rest[0], body)
        if rest[1:] == ["history", "commit"] and method == "POST":
            return fake._commit_ops(rest[0], body)
        raise Refusal(404, "NOT_FOUND", f"no such resource {method} {self.path}")

    do_GET = do_POST = do_DELETE = _route


def _page(items: list[dict], query: dict[str, str], name: str) -> dict:
    start = int(query.get("page-token") or 0)
    more = start + PAGE < len(items)
    return {
        name: items[start : start + PAGE],
        "hasMore": more,
        "token": str(start + PAGE) if more else None,
    }
