"""Soda's telemetry stays off in the gate: its checks run, and Soda sets up no OpenTelemetry
exporter (to collect.soda.io), even where ``~/.soda/config.yml`` allows usage statistics."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import process_env

# In the Soda virtualenv: argv = [checks file]. One table, two checks, scanned as the gate
# scans; prints the outcomes and whether OpenTelemetry was imported.
SCAN = r"""
import json, sys
from pathlib import Path
import duckdb
from lakehouse.quality.soda_scan import scan_table
con = duckdb.connect()
con.execute("CREATE TABLE zzfixture_t AS SELECT * FROM (VALUES (1), (NULL)) v(id)")
result = scan_table(con, "zzfixture_t", Path(sys.argv[1]), "zzfixture")
print(json.dumps({
    "error": result.error,
    "checks": sorted((c.name, c.outcome, c.measured_value) for c in result.checks),
    "telemetry": sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"),
}))
"""


def test_scans_run_with_no_telemetry_set_up(tmp_path, soda_python):
    home = tmp_path / "home"
    (home / ".soda").mkdir(parents=True)
    (home / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: true\n")
    checks = tmp_path / "zzfixture_t_checks.yaml"
    checks.write_text("checks for zzfixture_t:\n  - row_count = 2\n  - missing_count(id) = 0\n")
    proc = subprocess.run(
        [soda_python, "-c", SCAN, str(checks)],
        cwd=tmp_path,
        env=process_env(HOME=str(home)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["error"] is None
    assert got["checks"] == [["missing_count(id) = 0", "fail", 1], ["row_count = 2", "pass", 2]]
    assert got["telemetry"] == []
