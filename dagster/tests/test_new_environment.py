"""Adding an environment is adding its file: a copy of a committed .env.<env> under a
new name works for the settings, the definitions and the gate with no code change."""

from __future__ import annotations

import shutil

import pytest

from lakehouse.build import build_definitions
from lakehouse.config import Settings
from tests.conftest import PROJECT_DIR, set_key
from tests.test_definitions import default_statuses
from tests.test_gate import run_gate


@pytest.mark.parametrize(("source", "deployed"), [("dev", False), ("staging", True)])
def test_a_copied_env_file_is_a_new_environment(lake, soda_python, tmp_path, source, deployed):
    project = tmp_path / "project"
    project.mkdir()
    env_file = project / ".env.zzfixture"
    shutil.copyfile(PROJECT_DIR / f".env.{source}", env_file)
    set_key(env_file, "LAKEHOUSE_ENVIRONMENT", "zzfixture")
    copied = Settings.for_environment(source, environ={})

    settings = Settings.for_environment("zzfixture", environ={}, project_dir=project)
    assert (settings.environment, settings.deployed) == ("zzfixture", deployed)
    assert settings.access_level == copied.access_level

    schedules, drift, alert = default_statuses(build_definitions(settings))
    running = "RUNNING" if deployed else "STOPPED"
    assert (schedules, drift) == ({running}, {running})
    assert alert == ("RUNNING" if copied.alerting_enabled else "STOPPED")

    # The gate reads .env.zzfixture; the catalog is exported (a local SQL catalog here).
    catalog = {k: lake["env"][k] for k in ("ICEBERG_CATALOG_URI", "ICEBERG_WAREHOUSE")}
    code, report, _ = run_gate(
        soda_python, None, tmp_path, project_dir=project, environment="zzfixture", process=catalog
    )
    assert (code, report["outcome"]) == (0, "pass")
    assert (report["environment"], report["access_level"]) == ("zzfixture", copied.access_level)
    assert (project / ".soda" / "zzfixture" / "lakehouse.duckdb").is_file()
