"""scripts/check_dependencies.py: `pip check` less exactly the recorded overrides."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

import pytest

from tests.conftest import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "check_dependencies.py"
OVERRIDDEN = "soda-core-duckdb 3.5.6 has requirement duckdb<1.1.0, but you have duckdb 1.5.5."


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_dependencies", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_overrides_pin_duckdb_only():
    pins = load().read_overrides(PROJECT_DIR / "requirements-soda.overrides")
    assert pins == {"duckdb": "1.5.5"}
    lock = (PROJECT_DIR / "requirements-soda.lock").read_text()
    assert "\nduckdb==1.5.5 " in lock
    for name in ("iceberg", "avro", "httpfs"):
        assert f"\nduckdb-extension-{name}==1.5.5 " in lock


@pytest.mark.parametrize(
    ("report", "left"),
    [
        (OVERRIDDEN, []),
        ("No broken requirements found.", []),
        # the override's pin, but another version installed: not what was locked
        (OVERRIDDEN.replace("duckdb 1.5.5.", "duckdb 1.4.0."), ["duckdb 1.4.0"]),
        # any other conflict or missing dependency stays an error
        ("pyiceberg 0.12.0 has requirement pyarrow>=17, but you have pyarrow 16.0.0.", ["pyarrow"]),
        ("soda-core 3.5.6 requires click, which is not installed.", ["click"]),
    ],
)
def test_only_the_overridden_conflict_is_accepted(report, left):
    found = load().unexpected(f"{OVERRIDDEN}\n{report}\n", {"duckdb": "1.5.5"})
    assert len(found) == len(left)
    for line, word in zip(found, left, strict=True):
        assert word in line


def test_the_script_passes_in_this_interpreter_without_overrides(tmp_path):
    """The main virtualenv has no override: the script is plain `pip check` there."""
    empty = tmp_path / "none.overrides"
    empty.write_text("# no overrides\n")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(empty)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "overrides: none" in proc.stdout


def test_a_malformed_override_names_the_line(tmp_path):
    bad = tmp_path / "bad.overrides"
    bad.write_text("# comment\nduckdb>=1.5\n")
    with pytest.raises(SystemExit, match=r"bad.overrides:2: expected name==version"):
        load().read_overrides(bad)
