"""Settings come from the environment's file, overlaid by exported variables."""

from __future__ import annotations

import re
import shutil

import pytest

from lakehouse.config import PROCESS, ConfigError, Settings
from tests.conftest import PROJECT_DIR, set_key


@pytest.fixture
def added(tmp_path):
    """A new environment: the committed staging file copied as .env.zzfixture."""
    path = tmp_path / ".env.zzfixture"
    shutil.copyfile(PROJECT_DIR / ".env.staging", path)
    set_key(path, "LAKEHOUSE_ENVIRONMENT", "zzfixture")
    return path


def line_of(path, key: str) -> int:
    lines = path.read_text().split("\n")
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(f"{key}="))


def test_for_environment_reads_the_committed_file():
    prod = Settings.for_environment("prod", environ={})
    assert (prod.environment, prod.access_level, prod.alerting_enabled, prod.deployed) == (
        "prod",
        "reader",
        True,
        True,
    )
    assert prod.catalog_uri.endswith("/iceberg/main")


def test_exported_variables_override_the_file(added):
    settings = Settings.for_environment(
        "zzfixture",
        environ={"ICEBERG_CATALOG_URI": "sqlite:///x.db", "LAKEHOUSE_ACCESS_LEVEL": "admin"},
        project_dir=added.parent,
    )
    assert (settings.catalog_type, settings.access_level) == ("sql", "admin")
    assert settings.warehouse == "s3://lakehouse-staging-lakehouse/warehouse"  # from the file


def test_an_exported_environment_must_match_the_file(added):
    same = Settings.for_environment(
        "zzfixture", environ={"LAKEHOUSE_ENVIRONMENT": "zzfixture"}, project_dir=added.parent
    )
    assert same.environment == "zzfixture"
    with pytest.raises(ConfigError, match="LAKEHOUSE_ENVIRONMENT='prod' is exported") as err:
        Settings.for_environment(
            "zzfixture", environ={"LAKEHOUSE_ENVIRONMENT": "prod"}, project_dir=added.parent
        )
    assert str(added) in str(err.value)


def test_a_missing_env_file_is_an_error_naming_it(tmp_path):
    complete = {
        "LAKEHOUSE_ENVIRONMENT": "zzfixture",
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": "sqlite:///x.db",
        "ICEBERG_WAREHOUSE": "file:///x",
    }
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("zzfixture", environ=complete, project_dir=tmp_path)
    message = str(err.value)
    assert f"{tmp_path / '.env.zzfixture'} does not exist" in message
    assert ".env.example" in message and "LAKEHOUSE_ENVIRONMENT=zzfixture" in message


def test_the_file_must_name_its_environment(added):
    set_key(added, "LAKEHOUSE_ENVIRONMENT", "staging")
    line = line_of(added, "LAKEHOUSE_ENVIRONMENT")
    with pytest.raises(ConfigError, match=f":{line}: LAKEHOUSE_ENVIRONMENT=staging but"):
        Settings.for_environment("zzfixture", environ={}, project_dir=added.parent)


def test_an_invalid_environment_name_is_refused_before_any_file_is_read(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("'../zzfixture' is not allowed")):
        Settings.for_environment("../zzfixture", environ={}, project_dir=tmp_path)


BAD_VALUES = [
    ("LAKEHOUSE_EVENTS_PER_DAY", "lots", "whole number"),
    ("LAKEHOUSE_CUSTOMERS", "0", "whole number"),
    ("LAKEHOUSE_DEPLOYED", "yes", "allowed values are true, false"),
    ("LAKEHOUSE_ALERTING_ENABLED", "1", "allowed values are true, false"),
    ("S3_PATH_STYLE", "on", "allowed values are true, false"),
    ("LAKEHOUSE_ACCESS_LEVEL", "root", "allowed values are admin, reader"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES)
def test_a_bad_value_in_the_file_names_the_key_the_file_and_the_line(added, key, value, expected):
    set_key(added, key, value)
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("zzfixture", environ={}, project_dir=added.parent)
    message = str(err.value)
    assert f"{key}={value!r} ({added}:{line_of(added, key)})" in message
    assert expected in message


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES)
def test_a_bad_exported_value_names_the_process_environment(added, key, value, expected):
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("zzfixture", environ={key: value}, project_dir=added.parent)
    assert f"{key}={value!r} ({PROCESS})" in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "key", ["LAKEHOUSE_ACCESS_LEVEL", "LAKEHOUSE_ALERTING_ENABLED", "LAKEHOUSE_DEPLOYED"]
)
def test_keys_the_go_pipeline_requires_are_required_here_too(added, key):
    text = added.read_text().split("\n")
    added.write_text("\n".join(line for line in text if not line.startswith(f"{key}=")))
    with pytest.raises(ConfigError, match=f"{key} is not set in {added} or {PROCESS}"):
        Settings.for_environment("zzfixture", environ={}, project_dir=added.parent)
