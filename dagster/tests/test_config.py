"""Settings come from the environment's file, overlaid by exported variables."""

from __future__ import annotations

import re
import shutil

import pytest

from lakehouse.config import PROCESS, ConfigError, Settings
from tests.conftest import PROJECT_DIR, set_key


@pytest.fixture
def qa(tmp_path):
    """A new environment: the committed staging file copied as .env.qa."""
    path = tmp_path / ".env.qa"
    shutil.copyfile(PROJECT_DIR / ".env.staging", path)
    set_key(path, "LAKEHOUSE_ENVIRONMENT", "qa")
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


def test_exported_variables_override_the_file(qa):
    settings = Settings.for_environment(
        "qa",
        environ={"ICEBERG_CATALOG_URI": "sqlite:///x.db", "LAKEHOUSE_ACCESS_LEVEL": "admin"},
        project_dir=qa.parent,
    )
    assert (settings.catalog_type, settings.access_level) == ("sql", "admin")
    assert settings.warehouse == "s3://lakehouse-staging-lakehouse/warehouse"  # from the file


def test_an_exported_environment_must_match_the_file(qa):
    same = Settings.for_environment(
        "qa", environ={"LAKEHOUSE_ENVIRONMENT": "qa"}, project_dir=qa.parent
    )
    assert same.environment == "qa"
    with pytest.raises(ConfigError, match="LAKEHOUSE_ENVIRONMENT='prod' is exported") as err:
        Settings.for_environment(
            "qa", environ={"LAKEHOUSE_ENVIRONMENT": "prod"}, project_dir=qa.parent
        )
    assert str(qa) in str(err.value)


def test_a_missing_env_file_is_an_error_naming_it(tmp_path):
    complete = {
        "LAKEHOUSE_ENVIRONMENT": "qa",
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": "sqlite:///x.db",
        "ICEBERG_WAREHOUSE": "file:///x",
    }
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("qa", environ=complete, project_dir=tmp_path)
    message = str(err.value)
    assert f"{tmp_path / '.env.qa'} does not exist" in message
    assert ".env.example" in message and "LAKEHOUSE_ENVIRONMENT=qa" in message


def test_the_file_must_name_its_environment(qa):
    set_key(qa, "LAKEHOUSE_ENVIRONMENT", "staging")
    line = line_of(qa, "LAKEHOUSE_ENVIRONMENT")
    with pytest.raises(ConfigError, match=f":{line}: LAKEHOUSE_ENVIRONMENT=staging but"):
        Settings.for_environment("qa", environ={}, project_dir=qa.parent)


def test_an_invalid_environment_name_is_refused_before_any_file_is_read(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("'../qa' is not allowed")):
        Settings.for_environment("../qa", environ={}, project_dir=tmp_path)


BAD_VALUES = [
    ("LAKEHOUSE_EVENTS_PER_DAY", "lots", "whole number"),
    ("LAKEHOUSE_CUSTOMERS", "0", "whole number"),
    ("LAKEHOUSE_DEPLOYED", "yes", "allowed values are true, false"),
    ("LAKEHOUSE_ALERTING_ENABLED", "1", "allowed values are true, false"),
    ("S3_PATH_STYLE", "on", "allowed values are true, false"),
    ("LAKEHOUSE_ACCESS_LEVEL", "root", "allowed values are admin, reader"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES)
def test_a_bad_value_in_the_file_names_the_key_the_file_and_the_line(qa, key, value, expected):
    set_key(qa, key, value)
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("qa", environ={}, project_dir=qa.parent)
    message = str(err.value)
    assert f"{key}={value!r} ({qa}:{line_of(qa, key)})" in message
    assert expected in message


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES)
def test_a_bad_exported_value_names_the_process_environment(qa, key, value, expected):
    with pytest.raises(ConfigError) as err:
        Settings.for_environment("qa", environ={key: value}, project_dir=qa.parent)
    assert f"{key}={value!r} ({PROCESS})" in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "key", ["LAKEHOUSE_ACCESS_LEVEL", "LAKEHOUSE_ALERTING_ENABLED", "LAKEHOUSE_DEPLOYED"]
)
def test_keys_the_go_pipeline_requires_are_required_here_too(qa, key):
    text = qa.read_text().split("\n")
    qa.write_text("\n".join(line for line in text if not line.startswith(f"{key}=")))
    with pytest.raises(ConfigError, match=f"{key} is not set in {qa} or {PROCESS}"):
        Settings.for_environment("qa", environ={}, project_dir=qa.parent)
