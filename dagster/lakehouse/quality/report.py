"""Normalized quality-gate report (schema_version 2): aggregation, JSON and markdown.

Standard library only; shared by the Soda runner (soda venv) and the tests (main venv).
The JSON Schema is gate_report.schema.json next to this file; the pipeline's reader is
pipelines/quality (Go), which refuses a report whose outcomes and counts disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("gate_report.schema.json")

# Exit codes of `python -m lakehouse.quality.gate` (documented in dagster/README.md).
EXIT_CODES = {"pass": 0, "fail": 1, "warn": 2, "error": 3}
CHECK_OUTCOMES = ("pass", "warn", "fail", "not_evaluated")
FULL, INCREMENTAL = "full", "incremental"

# The release identity the pipeline passes (pipelines/release: commitPattern, digestRef).
COMMIT_PATTERN = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
IMAGE_PATTERN = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Release:
    """The code the gate judged; ``None`` fields outside a release (a local run)."""

    commit: str | None = None
    runtime_image: str | None = None
    gate_image: str | None = None


@dataclass
class CheckResult:
    name: str
    outcome: str
    measured_value: float | int | str | None = None
    column: str | None = None
    definition: str | None = None


@dataclass
class TableResult:
    name: str
    checks_file: str
    outcome: str = "pass"
    mode: str = FULL
    row_count: int | None = None
    snapshot_id: str | None = None  # the Iceberg snapshot that was read
    base_snapshot_id: str | None = None  # incremental: the scan read what came after it
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    note: str | None = None  # markdown only (e.g. why an incremental scan ran in full)

    def as_json(self) -> dict[str, Any]:
        """The table as schema 2 has it (``note`` is not part of the schema)."""
        return {
            "name": self.name,
            "checks_file": self.checks_file,
            "outcome": self.outcome,
            "mode": self.mode,
            "row_count": self.row_count,
            "snapshot_id": self.snapshot_id,
            "base_snapshot_id": self.base_snapshot_id,
            "error": self.error,
            "checks": [asdict(c) for c in self.checks],
        }


def normalize_value(value: Any) -> float | int | str | None:
    """Measured values as JSON scalars (timedeltas as seconds, NaN as null)."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, timedelta):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def table_outcome(table: TableResult) -> str:
    if table.error:
        return "error"
    outcomes = {c.outcome for c in table.checks}
    if "not_evaluated" in outcomes or not table.checks:
        return "error"
    if "fail" in outcomes:
        return "fail"
    if "warn" in outcomes:
        return "warn"
    return "pass"


def overall_outcome(tables: list[TableResult], errors: list[str]) -> str:
    """error > fail > warn > pass: an unreadable table means the gate knows nothing."""
    outcomes = {t.outcome for t in tables}
    if errors or "error" in outcomes or not tables:
        return "error"
    if "fail" in outcomes:
        return "fail"
    if "warn" in outcomes:
        return "warn"
    return "pass"


def redact_uri(uri: str) -> str:
    """Drop user:password from a catalog URI before it is written to a report."""
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return uri


def build_report(
    *,
    environment: str,
    access_level: str,
    catalog: dict[str, str],
    tables: list[TableResult],
    errors: list[str],
    started_at: str,
    finished_at: str,
    tool_versions: dict[str, str],
    release: Release,
    branch: str | None = None,
) -> dict[str, Any]:
    """The report; outcomes, counts, exit code and mode are derived, never passed in.

    The report's ``mode`` is ``incremental`` when any table was read incrementally
    (then not every row was judged), else ``full``. ``branch``: the branch whose head
    was judged (None: the published state).
    """
    for table in tables:
        table.outcome = table_outcome(table)
    outcome = overall_outcome(tables, errors)
    checks = [c for t in tables for c in t.checks]
    catalog = dict(catalog)
    if "uri" in catalog:
        catalog["uri"] = redact_uri(catalog["uri"])
    return {
        "schema_version": SCHEMA_VERSION,
        "environment": environment,
        "access_level": access_level,
        "outcome": outcome,
        "exit_code": EXIT_CODES[outcome],
        "started_at": started_at,
        "finished_at": finished_at,
        "mode": INCREMENTAL if any(t.mode == INCREMENTAL for t in tables) else FULL,
        "release": asdict(release),
        "branch": branch,
        "catalog": catalog,
        "tool_versions": tool_versions,
        "summary": {
            "tables": len(tables),
            "tables_with_errors": sum(t.outcome == "error" for t in tables),
            "checks": len(checks),
            **{o: sum(c.outcome == o for c in checks) for o in CHECK_OUTCOMES},
        },
        "tables": [t.as_json() for t in tables],
        "errors": errors,
    }


def _cell(text: str, limit: int = 160) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:limit]


def render_markdown(report: dict[str, Any], notes: dict[str, str] | None = None) -> str:
    """The report for people; ``notes`` (by table) say e.g. why a scan ran in full."""
    s = report["summary"]
    release = report["release"]
    judged = ", ".join(f"{k} `{v}`" for k, v in release.items() if v) or "none (a local run)"
    lines = [
        f"# Quality gate: `{report['environment']}` — **{report['outcome'].upper()}**",
        "",
        f"- finished: {report['finished_at']} (started {report['started_at']})",
        f"- mode: {report['mode']}; release: {judged}",
        "- read: "
        + (
            f"branch `{report['branch']}` at its head (the snapshots below)"
            if report.get("branch")
            else "the published state (main)"
        ),
        f"- checks: {s['checks']} — pass {s['pass']}, warn {s['warn']}, fail {s['fail']}, "
        f"not evaluated {s['not_evaluated']}; tables with errors: {s['tables_with_errors']}",
        "- tools: " + ", ".join(f"{k} {v}" for k, v in sorted(report["tool_versions"].items())),
        "",
        "| table | outcome | mode | snapshot | rows | checks | note |",
        "|---|---|---|---|---:|---:|---|",
    ]
    notes = notes or {}
    for t in report["tables"]:
        note = "; ".join(n for n in (t["error"], notes.get(t["name"])) if n)
        rows = "" if t["row_count"] is None else str(t["row_count"])
        snapshot = t["snapshot_id"] or ""
        if t["base_snapshot_id"]:
            snapshot = f"{t['base_snapshot_id']} → {snapshot}"
        lines.append(
            f"| {t['name']} | {t['outcome']} | {t['mode']} | {snapshot} | {rows} "
            f"| {len(t['checks'])} | {_cell(note, 240)} |"
        )
    bad = [(t["name"], c) for t in report["tables"] for c in t["checks"] if c["outcome"] != "pass"]
    if bad:
        lines += ["", "## Checks not passing", "", "| table | check | outcome | measured |"]
        lines.append("|---|---|---|---|")
        for table, c in bad:
            lines.append(f"| {table} | {c['name']} | {c['outcome']} | {c['measured_value']} |")
    if report["errors"]:
        lines += ["", "## Errors", ""] + [f"- {e}" for e in report["errors"]]
    return "\n".join(lines) + "\n"
