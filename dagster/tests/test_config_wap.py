"""The write-audit-publish settings, read once with the others (lakehouse/config.py)."""

from __future__ import annotations

import pytest

from lakehouse.config import ConfigError, Settings
from tests.conftest import lake_env, write_env_file


def test_writes_go_to_the_published_state_unless_a_branch_is_named(tmp_path):
    settings = Settings.from_env(lake_env(tmp_path))
    assert (settings.write_branch, settings.versioning, settings.run_branches) == (
        None,
        "auto",
        False,
    )
    branch = Settings.from_env(lake_env(tmp_path, LAKEHOUSE_WRITE_BRANCH="audit-0123abcd"))
    assert branch.write_branch == "audit-0123abcd"


@pytest.mark.parametrize("bad", ["main", "audit x", "9audit", "audit.", "a/b", "audit-é"])
def test_a_branch_name_neither_catalog_accepts_is_refused_with_its_origin(tmp_path, bad):
    env = lake_env(tmp_path, LAKEHOUSE_WRITE_BRANCH=bad)
    path = write_env_file(tmp_path / "project", env)
    with pytest.raises(ConfigError, match="LAKEHOUSE_WRITE_BRANCH") as err:
        Settings.for_environment("test", environ={}, project_dir=path.parent)
    assert f"{path}:" in str(err.value), "the message names the file and line"


def test_versioning_is_one_of_the_known_ways(tmp_path):
    for value in ("auto", "nessie", "table-refs"):
        assert Settings.from_env(lake_env(tmp_path, LAKEHOUSE_VERSIONING=value)).versioning == value
    with pytest.raises(ConfigError, match="allowed values are auto, nessie, table-refs"):
        Settings.from_env(lake_env(tmp_path, LAKEHOUSE_VERSIONING="git"))


def test_run_branches_follow_deployed_unless_set(tmp_path):
    deployed = lake_env(tmp_path, LAKEHOUSE_DEPLOYED="true")
    assert Settings.from_env(deployed).run_branches
    off = {**deployed, "LAKEHOUSE_RUN_BRANCHES": "false"}
    assert not Settings.from_env(off).run_branches
    on = lake_env(tmp_path, LAKEHOUSE_RUN_BRANCHES="true")
    assert Settings.from_env(on).run_branches
    with pytest.raises(ConfigError, match="LAKEHOUSE_RUN_BRANCHES"):
        Settings.from_env(lake_env(tmp_path, LAKEHOUSE_RUN_BRANCHES="yes"))
