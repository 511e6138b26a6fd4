"""DuckDB's extensions come only from the pinned wheels: the gate works with no network,
and a missing wheel is an ``error`` report that names the package to install."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from lakehouse.quality.duck import ExtensionMissing, extension_file
from tests.test_gate import run_gate


def test_a_missing_wheel_names_the_package(monkeypatch):
    """The main virtualenv has DuckDB but none of the extension wheels."""
    version = metadata.version("duckdb")
    with pytest.raises(ExtensionMissing, match=f"wheel duckdb-extension-iceberg=={version}"):
        extension_file("iceberg")


def test_the_gate_needs_no_network(lake, tmp_path, soda_python):
    """In a network namespace of its own (no interface but a downed loopback) and with an
    empty HOME (no ~/.duckdb), the gate reads every table and passes."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.strip()}")
    home = tmp_path / "home"
    home.mkdir()
    code, report, markdown = run_gate(
        soda_python,
        lake["env"],
        tmp_path,
        process={"HOME": str(home)},
        wrapper=("unshare", "-rn"),
    )
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert not (home / ".duckdb").exists()
    published = tmp_path / "project" / ".soda" / "zzfixture" / "duckdb_extensions"
    assert sorted(p.name for p in published.rglob("*.duckdb_extension")) == [
        "avro.duckdb_extension",
        "httpfs.duckdb_extension",
        "iceberg.duckdb_extension",
    ]


def test_a_broken_extension_wheel_is_an_error_report(lake, tmp_path, soda_python):
    """A package ``duckdb_extension_iceberg`` without the extension file of this DuckDB
    (a wheel of another version, or a damaged one) stops the gate before it reads."""
    shadow = tmp_path / "shadow" / "duckdb_extension_iceberg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    code, report, _ = run_gate(
        soda_python,
        lake["env"],
        tmp_path,
        process={"PYTHONPATH": f"{shadow.parent}:{Path(__file__).resolve().parents[1]}"},
    )
    assert (code, report["outcome"]) == (3, "error")
    (message,) = report["errors"]
    assert "duckdb-extension-iceberg==1.5.5" in message and "iceberg.duckdb_extension" in message
    assert not (tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb").exists()
