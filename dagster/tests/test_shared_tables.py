"""The tables the Go pipeline runs too: Python and Go accept the same environment names
and read env files the same way (pipelines/environment/testdata)."""

from __future__ import annotations

import pytest

from lakehouse.config import ConfigError, Settings, check_environment_name, parse_env_file
from tests.conftest import shared_table

NAMES = shared_table("names.json")["cases"]
DOTENV = shared_table("dotenv_cases.json")["cases"]


@pytest.mark.parametrize("case", NAMES, ids=[c["reason"] for c in NAMES])
def test_environment_names_follow_the_shared_table(case):
    if case["valid"]:
        assert check_environment_name(case["name"]) == case["name"]
    else:
        with pytest.raises(ConfigError, match="2-10 characters, lowercase letters and digits"):
            check_environment_name(case["name"])


@pytest.mark.parametrize("case", NAMES, ids=[c["reason"] for c in NAMES])
def test_lakehouse_environment_accepts_exactly_the_valid_names(case, tmp_path):
    env = {
        "LAKEHOUSE_ENVIRONMENT": case["name"],
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{tmp_path}/c.db",
        "ICEBERG_WAREHOUSE": f"file://{tmp_path}",
    }
    if case["valid"]:
        assert Settings.from_env(env).environment == case["name"]
    else:
        with pytest.raises(
            ConfigError,
            match="is not allowed" if case["name"] else "LAKEHOUSE_ENVIRONMENT is empty",
        ):
            Settings.from_env(env)


@pytest.mark.parametrize("case", DOTENV, ids=[c["name"] for c in DOTENV])
def test_env_files_are_read_like_the_shared_table(case, tmp_path):
    path = tmp_path / ".env.x"
    path.write_bytes(case["input"].encode("utf-8"))  # no newline translation
    if "error" in case:
        with pytest.raises(ConfigError) as refused:
            parse_env_file(path)
        assert f"{path}{case['error']}" in str(refused.value)
    else:
        assert parse_env_file(path) == case["want"]
