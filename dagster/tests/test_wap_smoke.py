"""The smoke run of a release writes to its audit branch, never to the published state."""

from __future__ import annotations

import json
import subprocess
import sys

from lakehouse.wap import open_versioning
from tests.conftest import PROJECT_DIR, lake_env, process_env
from tests.wap_lake import main_ids, published_lake, reader_view

BRANCH = "audit-zz5m0ke"


def smoke(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lakehouse.smoke", "--partition", "2026-11-30", *args],
        cwd=PROJECT_DIR,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def head_line(stdout: str, branch: str = BRANCH) -> dict:
    prefix = f"audit branch {branch} head "
    line = next(line for line in stdout.splitlines() if prefix in line)
    return json.loads(line.split(prefix, 1)[1])


def test_the_smoke_run_writes_only_to_the_audit_branch(tmp_path):
    env = lake_env(tmp_path)
    settings = published_lake(env)
    before, published = reader_view(settings), main_ids(settings)
    done = smoke(env, "--audit-branch", BRANCH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"audit branch {BRANCH} made from " in done.stdout
    after = reader_view(settings)
    assert {name: after[name] for name in before} == before
    now = main_ids(settings)
    assert {name: now[name] for name in published} == published
    # customer_features did not exist: the write created it (table refs cannot branch a
    # table's creation), and readers see it empty until a publish.
    assert after["customer_features"] == []
    head = head_line(done.stdout)
    assert head == open_versioning(settings).head(BRANCH).to_json()
    assert set(head["tables"]) == {"customer_dim", "customer_features", "event_stream"}


def test_the_smoke_run_writes_to_a_branch_the_pipeline_made(tmp_path):
    env = lake_env(tmp_path)
    settings = published_lake(env)
    open_versioning(settings).begin(BRANCH)
    done = smoke(env, "--audit-branch", BRANCH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"writing to the existing audit branch {BRANCH}" in done.stdout


def test_the_smoke_run_refuses_a_bad_branch_name(tmp_path):
    done = smoke(lake_env(tmp_path), "--audit-branch", "main")
    assert done.returncode == 1 and "not main" in done.stderr
