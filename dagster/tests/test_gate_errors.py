"""Every way the gate can go wrong ends in exit 3 and an `error` report, never a
traceback with exit 1 (which means "fail") and nothing to read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from lakehouse.quality.report import SCHEMA_PATH
from tests.conftest import lake_env, process_env, set_key, write_env_file
from tests.test_gate import run_gate

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def gate_cli(soda_python: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [soda_python, "-m", "lakehouse.quality.gate", *args],
        cwd=cwd,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_report_at(path: Path) -> dict:
    report = json.loads(path.read_text())
    jsonschema.validate(report, SCHEMA)
    assert (report["outcome"], report["exit_code"]) == ("error", 3)
    return report


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("LAKEHOUSE_EVENTS_PER_DAY", "lots", "whole number"),
        ("LAKEHOUSE_DEPLOYED", "yes", "allowed values are true, false"),
        ("LAKEHOUSE_ACCESS_LEVEL", "root", "allowed values are admin, reader"),
    ],
)
def test_a_malformed_value_in_the_env_file_is_an_error_report(
    tmp_path, soda_python, key, value, expected
):
    env = lake_env(tmp_path / "lake")
    env_file = write_env_file(tmp_path / "project", env)
    set_key(env_file, key, value)
    code, report, markdown = run_gate(soda_python, None, tmp_path, environment="zzfixture")
    assert (code, report["outcome"]) == (3, "error")
    message = report["errors"][0]
    assert f"{key}='{value}' ({env_file}:" in message and expected in message
    assert "ERROR" in markdown


def test_a_malformed_exported_value_is_an_error_report(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    code, report, _ = run_gate(soda_python, env, tmp_path, process={"LAKEHOUSE_CUSTOMERS": "many"})
    assert (code, report["outcome"]) == (3, "error")
    assert "LAKEHOUSE_CUSTOMERS='many' (the process environment)" in report["errors"][0]


def test_a_missing_env_file_is_an_error_naming_it(tmp_path, soda_python):
    """Even with every variable exported: the environment is its file."""
    project = tmp_path / "project"
    project.mkdir()
    code, report, _ = run_gate(
        soda_python, None, tmp_path, environment="zzfixture", process=lake_env(tmp_path / "lake")
    )
    assert (code, report["environment"]) == (3, "zzfixture")
    assert f"{project / '.env.zzfixture'} does not exist" in report["errors"][0]


def test_an_exported_environment_that_differs_from_the_file_is_an_error(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    code, report, _ = run_gate(
        soda_python, env, tmp_path, process={"LAKEHOUSE_ENVIRONMENT": "prod"}
    )
    assert code == 3
    assert "LAKEHOUSE_ENVIRONMENT='prod' is exported" in report["errors"][0]


@pytest.mark.parametrize(
    ("args", "environment"),
    [
        (["--env", "zzfixture", "--no-such-flag"], "zzfixture"),
        (["--out-of-place"], "unknown"),  # no --env at all
    ],
)
def test_usage_errors_are_exit_3_with_a_report(tmp_path, soda_python, args, environment):
    out = tmp_path / "reports" / "gate.json"
    proc = gate_cli(soda_python, tmp_path, *args, "--out", str(out))
    assert proc.returncode == 3, proc.stderr
    report = error_report_at(out)
    assert report["environment"] == environment
    assert report["errors"][0].startswith("usage error:")
    assert "Traceback" not in proc.stderr


def test_a_usage_error_without_out_writes_the_default_report(tmp_path, soda_python):
    proc = gate_cli(soda_python, tmp_path)
    assert proc.returncode == 3
    assert "--env" in error_report_at(tmp_path / "gate.json")["errors"][0]


def test_an_unwritable_report_is_exit_3_with_a_message(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    write_env_file(tmp_path / "project", env)
    blocked = tmp_path / "blocked"
    blocked.mkdir()  # --out names a directory: the report cannot be written
    proc = gate_cli(
        soda_python,
        tmp_path,
        *("--env", "zzfixture", "--project-dir", str(tmp_path / "project")),
        *("--out", str(blocked), "--duckdb-path", ":memory:"),
    )
    assert proc.returncode == 3
    assert "cannot write the report" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unwritable_markdown_turns_the_json_into_an_error(lake, tmp_path, soda_python):
    write_env_file(tmp_path / "project", lake["env"])
    out = tmp_path / "gate.json"
    proc = gate_cli(
        soda_python,
        tmp_path,
        *("--env", "zzfixture", "--project-dir", str(tmp_path / "project"), "--out", str(out)),
        *("--markdown", str(tmp_path), "--duckdb-path", ":memory:"),
    )
    assert proc.returncode == 3, proc.stderr
    assert "cannot write the report" in error_report_at(out)["errors"][0]


def test_an_unexpected_crash_is_an_error_report(tmp_path, soda_python):
    """The snapshot's directory cannot be created (a file is in the way)."""
    env = lake_env(tmp_path / "lake")
    (tmp_path / "file").write_text("not a directory")
    code, report, _ = run_gate(
        soda_python, env, tmp_path, "--duckdb-path", str(tmp_path / "file" / "s.duckdb")
    )
    assert (code, report["outcome"]) == (3, "error")
    assert report["errors"][0].startswith("gate crashed:")
