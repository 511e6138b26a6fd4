"""``python -m lakehouse.wap``: what the pipeline runs inside an environment.

Every command prints exactly one JSON document on stdout (lakehouse/wap/wap_cli.schema.json)
and exits 0 (ok), 1 (refused: nothing changed, or only what ``steps`` say) or 3 (error);
the reason is in the document and on stderr. Settings come from the process environment,
as for the smoke run (a one-off task of the runtime image).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from lakehouse.config import ConfigError, Settings, check_branch_name
from lakehouse.wap import open_versioning
from lakehouse.wap.base import Versioning
from lakehouse.wap.changes import plan_text
from lakehouse.wap.model import PUBLISHED, SCHEMA_VERSION, WapError, WapRefused, mismatches
from lakehouse.wap.steps import steps_json

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 3

# The fields of each command's document besides the common ones, with their value
# before the command got that far (every field is always present).
FIELDS: dict[str, dict[str, Any]] = {
    "begin": {"base": None},
    "status": {"published": None, "head": None, "changed": None},
    "publish": {
        "expected": None,
        "method": None,
        "resumed": False,
        "steps": None,
        "mismatches": None,
        "published": None,
        "branch_removed": False,
    },
    "discard": {"removed": False, "dropped_tables": []},
    "plan-rollback": {"target": None, "changes": None, "text": None},
    "rollback": {
        "target": None,
        "changes": None,
        "text": None,
        "method": None,
        "resumed": False,
        "steps": None,
        "moved_from": None,
        "published": None,
    },
}


class _BadCommandLine(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _BadCommandLine(f"{self.prog}: {message}")


def _branch(value: str) -> str:
    try:
        return check_branch_name(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _snapshot_map(value: str) -> dict[str, int]:
    """A JSON object: table name -> snapshot id (an integer)."""
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {value[:200]!r}") from None
    if not isinstance(data, dict) or not data:
        raise argparse.ArgumentTypeError('expected a non-empty object {"<table>": <snapshot id>}')
    for name, snapshot in data.items():
        if not name or not isinstance(snapshot, int) or isinstance(snapshot, bool):
            raise argparse.ArgumentTypeError(
                f"{name!r}: {snapshot!r} is not a snapshot id (an integer); expected "
                '{"<table>": <snapshot id>, ...}'
            )
    return data


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m lakehouse.wap", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    begin = commands.add_parser("begin", help="make a branch from the published state")
    status = commands.add_parser("status", help="the branch head per table")
    publish = commands.add_parser("publish", help="publish exactly the audited snapshots")
    discard = commands.add_parser("discard", help="remove a branch, publish nothing")
    for sub in (begin, status, publish, discard):
        sub.add_argument("--branch", required=True, type=_branch)
    publish.add_argument("--expect", required=True, type=_snapshot_map, metavar="JSON")
    publish.add_argument("--keep", action="store_true", help="keep the branch after publishing")
    plan = commands.add_parser("plan-rollback", help="what a rollback would change")
    rollback = commands.add_parser("rollback", help="move the published state to --to")
    for sub in (plan, rollback):
        sub.add_argument("--to", required=True, type=_snapshot_map, metavar="JSON")
        sub.add_argument(
            "--allow-schema-change", nargs="+", default=[], metavar="TABLE", dest="allow"
        )
    for sub in (publish, rollback):
        sub.add_argument("--state", type=Path, help="state file: the plan, to resume from")
    return top


def _begin(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    doc["base"] = wap.begin(args.branch).to_json()


def _status(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    published = wap.head(PUBLISHED)
    doc["published"] = published.to_json()
    head = wap.head(args.branch)
    doc["head"] = head.to_json()
    changed = mismatches(head.tables, published.tables)  # type: ignore[arg-type]
    doc["changed"] = [m["table"] for m in changed if m["table"] in head.tables]


def _publish(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    doc["expected"] = dict(sorted(args.expect.items()))
    doc["method"] = wap.method()
    result = wap.publish(args.branch, args.expect, state=args.state, keep=args.keep)
    doc.update(
        resumed=result.plan.resumed,
        steps=steps_json(result.plan),
        published=result.published.to_json(),
        branch_removed=result.branch_removed,
    )


def _discard(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    result = wap.discard(args.branch)
    doc.update(removed=result.removed, dropped_tables=sorted(result.dropped_tables))


def _plan_rollback(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    doc["target"] = dict(sorted(args.to.items()))
    changes = wap.plan_rollback(args.to, set(args.allow))
    doc["changes"] = [c.to_json() for c in changes]
    doc["text"] = plan_text(wap.backend, wap.namespace, changes)
    print(doc["text"], file=sys.stderr)
    refused = [c.table for c in changes if c.action == "refused"]
    if refused:
        raise WapRefused(f"a rollback would be refused for {', '.join(refused)}")


def _rollback(wap: Versioning, args: argparse.Namespace, doc: dict) -> None:
    doc["target"] = dict(sorted(args.to.items()))
    doc["method"] = wap.method()
    try:
        result = wap.rollback(args.to, set(args.allow), state=args.state)
    except WapRefused as exc:
        if "changes" in exc.details:
            changes = exc.details.pop("changes")
            doc["changes"] = [c.to_json() for c in changes]
            doc["text"] = plan_text(wap.backend, wap.namespace, changes)
            print(doc["text"], file=sys.stderr)
        raise
    doc.update(
        changes=[c.to_json() for c in result.changes],
        text=plan_text(wap.backend, wap.namespace, result.changes),
        resumed=result.plan.resumed,
        steps=steps_json(result.plan),
        moved_from=dict(sorted(result.moved_from.items())),
        published=result.published.to_json(),
    )
    print(doc["text"], file=sys.stderr)


COMMANDS: dict[str, Callable[[Versioning, argparse.Namespace, dict], None]] = {
    "begin": _begin,
    "status": _status,
    "publish": _publish,
    "discard": _discard,
    "plan-rollback": _plan_rollback,
    "rollback": _rollback,
}


def _document(command: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "outcome": "ok",
        "exit_code": EXIT_OK,
        "reason": None,
        "environment": None,
        "backend": None,
        "namespace": None,
        "branch": None,
    }
    doc.update(json.loads(json.dumps(FIELDS.get(command or "", {}))))
    return doc


def _fail(doc: dict, outcome: str, code: int, reason: str, details: dict) -> None:
    for key, value in details.items():
        if key in doc:
            doc[key] = value
    doc.update(outcome=outcome, exit_code=code, reason=reason)


def run(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one command; returns its document (never raises)."""
    args_list = sys.argv[1:] if argv is None else argv
    known = next((a for a in args_list if a in COMMANDS), None)
    doc = _document(known)
    try:
        args = parser().parse_args(args_list)
        doc["branch"] = getattr(args, "branch", None)
        settings = Settings.from_env(environ)
        doc.update(environment=settings.environment, namespace=settings.namespace)
        wap = open_versioning(settings)
        doc["backend"] = wap.backend
        COMMANDS[args.command](wap, args, doc)
    except WapRefused as exc:
        _fail(doc, "refused", EXIT_REFUSED, str(exc), exc.details)
    except WapError as exc:
        _fail(doc, "error", EXIT_ERROR, str(exc), exc.details)
    except (_BadCommandLine, ConfigError) as exc:
        _fail(doc, "error", EXIT_ERROR, str(exc), {})
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        _fail(doc, "error", EXIT_ERROR, f"{type(exc).__name__}: {exc}", {})
    return doc


def main(argv: list[str] | None = None) -> int:
    out = sys.stdout
    # Only the document goes to stdout: anything a library prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        doc = run(argv)
    if doc["reason"]:
        command = doc["command"] or "(no command)"
        print(f"lakehouse.wap {command}: {doc['outcome']}: {doc['reason']}", file=sys.stderr)
    json.dump(doc, out, indent=2)
    out.write("\n")
    out.flush()
    return int(doc["exit_code"])
