"""The gate's command line: flags, their defaults from the environment, usage errors.

Standard library only. argparse exits 2 on a bad command line, which would mean
``warn``; here a refused command line raises :class:`UsageError`, and the gate turns
it into an ``error`` report (exit 3).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from lakehouse.config import PROJECT_DIR, ConfigError, check_branch_name
from lakehouse.quality.duck import FLOOR_MEMORY_LIMIT, MIB, MIN_MEMORY_LIMIT, PER_THREAD_LIMIT
from lakehouse.quality.report import COMMIT_PATTERN, IMAGE_PATTERN

# Where the pipeline passes the release being judged (flags override them).
RELEASE_VARIABLES = {
    "commit": "LAKEHOUSE_RELEASE_COMMIT",
    "runtime_image": "LAKEHOUSE_RUNTIME_IMAGE",
    "gate_image": "LAKEHOUSE_GATE_IMAGE",
}


class UsageError(Exception):
    """A command line argparse refuses (argparse would exit 2, which means warn)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


_SIZE = re.compile(r"([0-9]+)\s*(KiB|MiB|GiB|KB|MB|GB)", re.IGNORECASE)
_UNITS = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6, "gb": 10**9}


def memory_size(value: str) -> int:
    """``64MiB``, ``512MB``, ``2GiB`` ... in bytes (argparse type)."""
    match = _SIZE.fullmatch(value.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a memory size: write e.g. 256MiB or 2GiB"
        )
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if size < FLOOR_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(
            f"{value!r} is too small: DuckDB needs at least {FLOOR_MEMORY_LIMIT // MIB}MiB "
            "(below it, it can abort without a report)"
        )
    return size


def branch_name(value: str) -> str:
    """A branch the lakehouse writes to (argparse type); not main, the published state."""
    try:
        return check_branch_name(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; leave --branch out to judge main") from None


def _release_value(
    pattern: re.Pattern[str], expected: str, variable: str
) -> Callable[[str], str | None]:
    def parse(value: str) -> str | None:
        value = value.strip()
        if not value:
            return None
        if not pattern.fullmatch(value):
            raise argparse.ArgumentTypeError(
                f"{value!r} is not {expected} (from the flag or {variable}): the report binds "
                "its outcome to exactly what was tested"
            )
        return value

    return parse


def _release_argument(parser: argparse.ArgumentParser, field: str, expected: str) -> None:
    variable = RELEASE_VARIABLES[field]
    pattern = COMMIT_PATTERN if field == "commit" else IMAGE_PATTERN
    parser.add_argument(
        "--" + field.replace("_", "-"),
        dest=field,
        type=_release_value(pattern, expected, variable),
        default=os.environ.get(variable, ""),
        help=f"{expected} of the release being judged (default: ${variable}; "
        "none: the report's release field is null, a local run that never promotes)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m lakehouse.quality.gate",
        description="Scan an environment's Iceberg tables with Soda and write a gate report. "
        "Exit codes: 0 pass, 1 fail, 2 warn, 3 error (also for bad arguments or "
        "configuration, with an error report).",
    )
    parser.add_argument(
        "--env",
        required=True,
        help="environment name: reads <project-dir>/.env.<env>; exported variables "
        "override its values, except LAKEHOUSE_ENVIRONMENT, which must match",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="directory holding .env.<env>; the snapshot and the record of passing "
        f"snapshots go to its .soda/<env>/ (default: {PROJECT_DIR})",
    )
    parser.add_argument("--out", type=Path, default=Path("gate.json"), help="JSON report path")
    parser.add_argument("--markdown", type=Path, help="also write a markdown summary here")
    parser.add_argument(
        "--duckdb-path",
        help="DuckDB file of the views the checks read (default <project-dir>/.soda/<env>/"
        "lakehouse.duckdb, what `soda scan` opens; ':memory:' keeps nothing)",
    )
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        help="memory DuckDB starts the checks with; bigger work spills to disk, and a "
        "table whose checks still run out of it is scanned again with twice as much, up "
        "to half of the machine's memory (default: "
        f"{PER_THREAD_LIMIT // MIB} MiB per DuckDB thread, at least {MIN_MEMORY_LIMIT // MIB} "
        "MiB)",
    )
    parser.add_argument(
        "--branch",
        type=branch_name,
        help="judge every table exactly at this branch's head (write-audit-publish: the "
        "snapshot ids `python -m lakehouse.wap status --branch NAME` prints; Nessie: the "
        "branch at that commit hash), and name it in the report; the DuckDB file `soda "
        "scan` reads is then left as it was unless --duckdb-path names one (default: the "
        "published state, main)",
    )
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="read only the rows appended since each table's last passing snapshot "
        "(full scan for a table with none, or with an overwrite/delete since); the "
        "snapshot for `soda scan` is then left as it was",
    )
    parser.add_argument(
        "--since-report",
        type=Path,
        help="a passing gate report of this environment whose tables' snapshots are the "
        "bases (implies --incremental; default: the gate's record in "
        "<project-dir>/.soda/<env>/)",
    )
    _release_argument(parser, "commit", "a full commit hash (40 or 64 hex digits)")
    _release_argument(parser, "runtime_image", "a runtime image pinned by digest (REPO@sha256:…)")
    _release_argument(parser, "gate_image", "a gate image pinned by digest (REPO@sha256:…)")
    parser.add_argument(
        "--materialize-only",
        action="store_true",
        help="only refresh the DuckDB file of views used by `soda scan`, no report",
    )
    return parser


def salvage(argv: list[str]) -> tuple[str, Path, Path | None]:
    """Environment and report paths from a command line argparse refused."""
    lenient = _Parser(add_help=False)
    lenient.add_argument("--env", default="unknown")
    lenient.add_argument("--out", type=Path, default=Path("gate.json"))
    lenient.add_argument("--markdown", type=Path)
    try:
        known, _ = lenient.parse_known_args(argv)
    except UsageError:
        return "unknown", Path("gate.json"), None
    return known.env, known.out, known.markdown
