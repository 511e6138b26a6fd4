from __future__ import annotations

import subprocess
import sys
from datetime import date

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.smoke import default_partition
from tests.conftest import EVENTS_PER_DAY, PROJECT_DIR, lake_env, process_env


def test_default_partition_is_the_latest_complete_day():
    assert default_partition(date(2026, 12, 1)) == "2026-11-30"
    assert default_partition(date(2026, 1, 1)) == "2025-12-31"


def test_smoke_materializes_every_asset_through_the_entry_point(tmp_path):
    env = lake_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.smoke", "--partition", "2026-11-30"],
        cwd=PROJECT_DIR,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke zzfixture: pass" in done.stdout
    catalog = open_catalog(Settings.from_env(env))
    events = catalog.load_table(("lakehouse", "event_stream")).scan().to_arrow()
    assert events.num_rows == EVENTS_PER_DAY
    for name in ("customer_dim", "customer_features"):
        assert catalog.load_table(("lakehouse", name)).scan().to_arrow().num_rows > 0


def test_smoke_fails_with_the_reason_on_a_bad_configuration(tmp_path):
    env = lake_env(tmp_path, ICEBERG_CATALOG_URI="http://nessie:19120/api/v2")
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.smoke", "--partition", "2026-11-30"],
        cwd=PROJECT_DIR,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "configuration error" in done.stderr
    assert "/iceberg/main" in done.stderr, "the message says what to use instead"


def test_smoke_refuses_a_bad_partition(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.smoke", "--partition", "yesterday"],
        cwd=PROJECT_DIR,
        env=process_env(**lake_env(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "not a date" in done.stderr
