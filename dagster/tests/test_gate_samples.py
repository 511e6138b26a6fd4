"""Reports the gate wrote, kept for the Go reader in pipelines/quality/testdata/reports.

pipelines/quality/schema_test.go validates every sample against gate_report.schema.json
and parses it with quality.Parse, so Python, the JSON Schema and Go agree on reports the
gate really writes. This test makes each sample again with the gate and fails when the
committed one no longer has the same shape (outcomes, modes, checks, counts, release;
times, snapshot ids, paths and versions aside). After a deliberate change, rewrite them:

    LAKEHOUSE_UPDATE_GATE_SAMPLES=1 scripts/test.sh tests/test_gate_samples.py
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.quality.soda_scan import CHECKS_DIR
from lakehouse.wap import open_versioning
from tests.conftest import PROJECT_DIR
from tests.test_gate import RELEASE_ENV, lake_copy, replace_events, run_gate
from tests.test_gate_branch import BRANCH, write_bad_rows_to
from tests.test_gate_incremental import NEW_DAY, events_day

SAMPLES = PROJECT_DIR.parent / "pipelines" / "quality" / "testdata" / "reports"
UPDATE = os.environ.get("LAKEHOUSE_UPDATE_GATE_SAMPLES") == "1"

# The gate with the checks files of another directory (argv[1]).
WITH_CHECKS_DIR = (
    "import sys; from pathlib import Path; from lakehouse.quality import gate, soda_scan; "
    "files = soda_scan.check_files(Path(sys.argv.pop(1))); "
    "gate.check_files = lambda: files; sys.exit(gate.main())"
)


def _pass(lake: dict, tmp: Path, python: str) -> dict:
    return run_gate(python, lake["env"], tmp, process=RELEASE_ENV)[1]


def _incremental(lake: dict, tmp: Path, python: str) -> dict:
    env = lake_copy(lake, tmp / "lake")
    run_gate(python, env, tmp, process=RELEASE_ENV)
    events_day(env, NEW_DAY)
    return run_gate(python, env, tmp, "--incremental", process=RELEASE_ENV)[1]


def _mutated(mutate: Callable[[list[dict]], list[dict]]):
    def make(lake: dict, tmp: Path, python: str) -> dict:
        env = lake_copy(lake, tmp / "lake")
        replace_events(env, mutate)
        return run_gate(python, env, tmp, process=RELEASE_ENV)[1]

    return make


def _anonymous(rows: list[dict]) -> list[dict]:
    for i, row in enumerate(rows):
        if i % 5 < 2:  # 40%: above the warn threshold, below fail
            row["user_email"] = None
    return rows


def _broken(rows: list[dict]) -> list[dict]:
    rows[0]["customer_id"] = None
    rows.append(dict(rows[5]))
    return rows


def _branch(lake: dict, tmp: Path, python: str) -> dict:
    """Bad rows on an audit branch, judged there (the published state passes)."""
    env = lake_copy(lake, tmp / "lake")
    open_versioning(Settings.from_env(env)).begin(BRANCH)
    write_bad_rows_to(env, BRANCH)
    return run_gate(python, env, tmp, "--branch", BRANCH, process=RELEASE_ENV)[1]


def _missing_table(lake: dict, tmp: Path, python: str) -> dict:
    env = lake_copy(lake, tmp / "lake")
    open_catalog(Settings.from_env(env)).drop_table(("lakehouse", "customer_features"))
    return run_gate(python, env, tmp, process=RELEASE_ENV)[1]


def _with_checks(table: str, text: str):
    """The gate with ``text`` as the checks file of ``table``."""

    def make(lake: dict, tmp: Path, python: str) -> dict:
        checks = tmp / "soda_checks"
        shutil.copytree(CHECKS_DIR, checks)
        (checks / f"{table}_checks.yaml").write_text(text)
        entry = ("-c", WITH_CHECKS_DIR, str(checks))
        return run_gate(python, lake["env"], tmp, process=RELEASE_ENV, entry=entry)[1]

    return make


def _configuration(lake: dict, tmp: Path, python: str) -> dict:
    env = {**lake["env"], "LAKEHOUSE_ACCESS_LEVEL": "root"}
    return run_gate(python, env, tmp, process=RELEASE_ENV)[1]


# Soda runs a checks file without checks and says nothing: the gate says error.
_zero_checks = _with_checks("customer_features", "checks for customer_features: []\n")
# One check whose query fails: Soda 3.5 then evaluates none of the table's checks.
_unevaluated = _with_checks(
    "customer_features",
    (CHECKS_DIR / "customer_features_checks.yaml").read_text()
    + "  - rows_elsewhere = 0:\n"
    + "      name: a check whose query fails\n"
    + "      rows_elsewhere query: SELECT count(*) FROM no_such_table\n",
)


CASES = {
    "pass.json": _pass,
    "pass-incremental.json": _incremental,
    "warn.json": _mutated(_anonymous),
    "fail.json": _mutated(_broken),
    "fail-branch.json": _branch,
    "error-missing-table.json": _missing_table,
    "error-zero-checks.json": _zero_checks,
    "error-unevaluated-check.json": _unevaluated,
    "error-configuration.json": _configuration,
}


def shape(report: dict) -> dict:
    """What must not drift: everything but times, ids, paths, versions and measurements."""
    return {
        **{k: report[k] for k in ("schema_version", "environment", "access_level", "outcome")},
        **{k: report[k] for k in ("exit_code", "mode", "release", "summary")},
        "branch": report.get("branch"),
        "catalog": sorted(report["catalog"]),
        "tool_versions": sorted(report["tool_versions"]),
        "errors": len(report["errors"]),
        "tables": [
            {
                **{k: t[k] for k in ("name", "outcome", "mode", "row_count")},
                "checks_file": Path(t["checks_file"]).name,
                "snapshot_id": t["snapshot_id"] is not None,
                "base_snapshot_id": t["base_snapshot_id"] is not None,
                "error": (t["error"] or "")[:60].split(" (")[0],
                "checks": [(c["name"], c["outcome"], c["column"]) for c in t["checks"]],
            }
            for t in report["tables"]
        ],
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_committed_samples_are_what_the_gate_writes(name, lake, tmp_path, soda_python):
    if not SAMPLES.parent.exists():
        if (PROJECT_DIR.parent / "go.mod").exists():
            pytest.fail(f"{SAMPLES.parent} is missing from the repository")
        pytest.skip("the dagster project was copied without the repository")
    report = CASES[name](lake, tmp_path, soda_python)
    assert report["outcome"] == name.removesuffix(".json").split("-")[0]
    path = SAMPLES / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with LAKEHOUSE_UPDATE_GATE_SAMPLES=1"
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert shape(committed) == shape(report), (
        f"{path} no longer matches what the gate writes: if the change is intended, "
        "run with LAKEHOUSE_UPDATE_GATE_SAMPLES=1 and run go test ./pipelines/quality/"
    )
