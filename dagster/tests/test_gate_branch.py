"""The gate judges a pinned branch head (`--branch`), as write-audit-publish needs.

Good rows are published (main), then bad rows (every event twice) are written to an
audit branch: the gate of the branch fails and names the check, the gate of the
published state still passes, each report names exactly the snapshots
`python -m lakehouse.wap status` gives, and `soda scan` readers keep the published
state's views. On the SQL catalog and on Apache's REST catalog server (table refs).
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.synthetic import events_for_day
from tests.conftest import materialize_all, process_env, write_env_file
from tests.servers import CREDENTIALS
from tests.test_gate import lake_copy, run_gate
from tests.test_gate_incremental import NEW_DAY, tables
from tests.test_gate_snapshot import PUBLISHED, rows_in
from tests.test_wap_cli import wap_cli

BRANCH = "audit-zzg4te"
DUPLICATED = "event_id is unique"


def write_bad_rows_to(env: dict[str, str], branch: str) -> None:
    """Every event of a day twice, on ``branch`` only."""
    settings = replace(Settings.from_env(env), write_branch=branch)
    rows = events_for_day(date.fromisoformat(NEW_DAY), 50, 40, datetime.now(UTC))
    build_resources(settings)["iceberg"].overwrite("event_stream", rows + rows)


def snapshot_ids(report: dict) -> dict[str, int]:
    return {name: int(t["snapshot_id"]) for name, t in tables(report).items()}


def failing_checks(report: dict) -> set[tuple[str, str]]:
    return {
        (t["name"], c["name"])
        for t in report["tables"]
        for c in t["checks"]
        if c["outcome"] == "fail"
    }


def judge_main_then_the_branch(
    env: dict[str, str], tmp_path: Path, soda_python: str, process: dict[str, str]
) -> None:
    code, begun, _ = wap_cli(env, "begin", "--branch", BRANCH)
    assert code == 0, begun
    write_bad_rows_to(env, BRANCH)
    code, status, _ = wap_cli(env, "status", "--branch", BRANCH)
    assert code == 0 and status["head"]["tables"] != status["published"]["tables"]

    code, main, markdown = run_gate(soda_python, env, tmp_path / "main", process=process)
    assert (code, main["outcome"], main["branch"]) == (0, "pass", None), markdown
    assert snapshot_ids(main) == status["published"]["tables"]
    soda_dir = tmp_path / "main" / "project" / ".soda" / env["LAKEHOUSE_ENVIRONMENT"]
    exported = {**env, **process}  # the guide: set -a; . ./.env.<env>; set +a
    published = rows_in(soda_python, soda_dir / "lakehouse.duckdb", exported)

    code, judged, markdown = run_gate(
        soda_python, env, tmp_path / "main", "--branch", BRANCH, process=process
    )
    assert (code, judged["outcome"], judged["branch"]) == (1, "fail", BRANCH), markdown
    assert failing_checks(judged) == {("event_stream", DUPLICATED)}
    assert snapshot_ids(judged) == status["head"]["tables"]
    assert tables(judged)["event_stream"]["row_count"] == 100
    assert f"branch `{BRANCH}` at its head" in markdown
    # `soda scan` readers keep the published state's views; the branch left no file.
    after = rows_in(soda_python, soda_dir / "lakehouse.duckdb", exported)
    assert after == published and after["event_stream"] != 100
    assert {entry.name for entry in soda_dir.iterdir()} == PUBLISHED


def test_the_gate_judges_a_branch_head_on_the_sql_catalog(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    judge_main_then_the_branch(env, tmp_path, soda_python, {})


@pytest.mark.rest
def test_the_gate_judges_a_branch_head_over_rest(rest_catalog, tmp_path, soda_python, monkeypatch):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    env = {**rest_catalog.env("zzgatebranch"), **CREDENTIALS}
    materialize_all(env)
    judge_main_then_the_branch(env, tmp_path, soda_python, CREDENTIALS)


def test_a_branch_that_does_not_exist_is_an_error_naming_it(lake, tmp_path, soda_python):
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, "--branch", "audit-zznone")
    assert (code, report["outcome"], report["branch"]) == (3, "error", "audit-zznone")
    assert all("cannot pin branch 'audit-zznone'" in t["error"] for t in report["tables"])


@pytest.mark.parametrize("name", ["main", "9lives", "a/b"])
def test_a_branch_name_the_lakehouse_never_writes_is_a_usage_error(
    lake, tmp_path, soda_python, name
):
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, "--branch", name)
    assert (code, report["outcome"]) == (3, "error")
    assert "--branch" in report["errors"][0] and "is not allowed" in report["errors"][0]


def test_materialize_only_refuses_a_branch(lake, tmp_path, soda_python):
    """What `soda scan` reads is the published state: no branch's views go there."""
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    done = subprocess.run(
        [
            *(soda_python, "-m", "lakehouse.quality.gate", "--env", "zzfixture"),
            *("--project-dir", str(project), "--branch", BRANCH, "--materialize-only"),
        ],
        cwd=tmp_path,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3
    assert "--materialize-only refreshes what `soda scan` reads" in done.stderr
    assert not (project / ".soda").exists()
