"""Static checks of the compose files, dagster.yaml and .env files."""

from __future__ import annotations

import re

import pytest
import yaml

from lakehouse.config import Settings, parse_env_file
from tests.conftest import PROJECT_DIR


class Tagged:
    def __init__(self, tag: str, value: object) -> None:
        self.tag, self.value = tag, value


class ComposeLoader(yaml.SafeLoader):
    """PyYAML loader that keeps compose's !reset / !override tags visible."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.SequenceNode):
        value: object = loader.construct_sequence(node)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node)
    else:
        value = loader.construct_scalar(node)
    return Tagged(node.tag, value)


ComposeLoader.add_constructor("!reset", _tagged)
ComposeLoader.add_constructor("!override", _tagged)


def load(name: str) -> dict:
    return yaml.load((PROJECT_DIR / name).read_text(), Loader=ComposeLoader)  # noqa: S506


BASE = load("docker-compose.yaml")
PROD = load("docker-compose.prod.yaml")
DAGSTER_SERVICES = ("dagster-code", "dagster-webserver", "dagster-daemon")
ENVS = sorted(p.name.removeprefix(".env.") for p in PROJECT_DIR.glob(".env.?*"))
ENVS.remove("example")


def test_every_long_running_service_has_a_healthcheck():
    services = BASE["services"]
    assert set(services) >= {"postgres", "seaweedfs", "s3-bootstrap", "nessie", *DAGSTER_SERVICES}
    for name, svc in services.items():
        if name == "s3-bootstrap":
            assert svc["restart"] == "no"
            continue
        assert svc["healthcheck"]["test"], name


def test_nessie_health_on_management_port_and_iceberg_rest_uri():
    nessie = BASE["services"]["nessie"]
    probe = " ".join(nessie["healthcheck"]["test"])
    assert "/dev/tcp/127.0.0.1/9000" in probe and "/q/health/ready" in probe
    # The Nessie image has neither curl nor wget.
    assert "curl" not in probe and "wget" not in probe
    assert BASE["x-lakehouse-env"]["ICEBERG_CATALOG_URI"].endswith("/iceberg/main}")
    assert "/api/v2" not in (PROJECT_DIR / "docker-compose.yaml").read_text()


def test_depends_on_uses_conditions():
    services = BASE["services"]
    for name, svc in services.items():
        for dep, spec in svc.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec["condition"] in {
                "service_healthy",
                "service_completed_successfully",
            }, f"{name} -> {dep}"
    assert services["nessie"]["depends_on"]["s3-bootstrap"]["condition"] == (
        "service_completed_successfully"
    )
    for name in ("dagster-webserver", "dagster-daemon"):
        assert services[name]["depends_on"]["dagster-code"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_no_service_requires_a_dotenv_file():
    for compose in (BASE, PROD):
        for name, svc in compose["services"].items():
            env_file = svc.get("env_file")
            assert env_file is None, f"{name} has env_file {env_file!r}"


def test_object_store_is_not_minio():
    text = (PROJECT_DIR / "docker-compose.yaml").read_text().lower()
    assert "seaweedfs" in text and "minio/minio" not in text


def test_dagster_services_share_image_env_and_mount_source_in_dev():
    for name in DAGSTER_SERVICES:
        svc = BASE["services"][name]
        assert svc["environment"]["LAKEHOUSE_ENVIRONMENT"] == "${LAKEHOUSE_ENVIRONMENT:-dev}"
        assert any(v.startswith("./lakehouse:") for v in svc["volumes"])
    assert BASE["services"]["dagster-webserver"]["ports"] == [
        "${DAGSTER_WEBSERVER_PORT:-3000}:3000"
    ]


def test_prod_overlay_really_removes_mounts_and_ports():
    services = PROD["services"]
    for name in DAGSTER_SERVICES:
        volumes = services[name]["volumes"]
        assert isinstance(volumes, Tagged) and volumes.tag in {"!reset", "!override"}
        assert not [v for v in volumes.value if v.startswith((".", "/", "~"))], "bind mount"
        assert services[name]["restart"] == "always"
    for name, svc in services.items():
        if "ports" in BASE["services"].get(name, {}):
            assert isinstance(svc.get("ports"), Tagged), f"{name} keeps published ports"
            assert svc["ports"].value == []
    limits = services["dagster-webserver"]["deploy"]["resources"]["limits"]
    assert (limits["cpus"], limits["memory"]) == ("4", "4g")
    assert ":?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_dagster_instance_config():
    instance = yaml.safe_load((PROJECT_DIR / "dagster.yaml").read_text())
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        assert instance[key]["module"].startswith("dagster_postgres")
    assert instance["run_launcher"]["class"] == "DefaultRunLauncher"
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    workspace = yaml.safe_load((PROJECT_DIR / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert (grpc["host"], grpc["port"]) == ("dagster-code", 4000)


def test_dagster_instance_config_is_valid_for_the_pinned_dagster(monkeypatch, tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    for var in ("HOST", "USER", "PASSWORD", "DB"):
        monkeypatch.setenv(f"DAGSTER_POSTGRES_{var}", "x")
    (tmp_path / "dagster.yaml").write_text((PROJECT_DIR / "dagster.yaml").read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_images_have_one_definition_the_pipelines():
    # The module (.dagger/build.go) builds the images; a Dockerfile or a compose build:
    # section would be a second definition that drifts from it.
    assert not list(PROJECT_DIR.glob("*Dockerfile*")), "build images with `dagger call build`"
    assert not list(PROJECT_DIR.glob("Containerfile*"))
    for name in ("docker-compose.yaml", "docker-compose.prod.yaml"):
        text = (PROJECT_DIR / name).read_text()
        assert not re.search(r"^\s+build:", text, re.M), f"{name} has a build: section"


@pytest.mark.parametrize("env", ENVS)
def test_env_files_are_complete_and_consistent(env):
    example = parse_env_file(PROJECT_DIR / ".env.example")
    values = parse_env_file(PROJECT_DIR / f".env.{env}")
    assert set(values) == set(example), "every .env.<env> sets exactly the documented keys"
    assert values["LAKEHOUSE_ENVIRONMENT"] == env
    assert values["LAKEHOUSE_ACCESS_LEVEL"] in {"admin", "reader"}
    assert values["LAKEHOUSE_ALERTING_ENABLED"] in {"true", "false"}
    assert values["ICEBERG_CATALOG_URI"].endswith("/iceberg/main")
    assert re.match(r"^(s3|gs)://", values["ICEBERG_WAREHOUSE"])
    assert values["ICEBERG_WAREHOUSE"].startswith(f"s3://{values['LAKEHOUSE_S3_BUCKET']}/")
    assert values["LAKEHOUSE_DEPLOYED"] in {"true", "false"}
    for compose_file in values["COMPOSE_FILE"].split(":"):
        assert (PROJECT_DIR / compose_file).is_file(), f"COMPOSE_FILE names {compose_file}"
    settings = Settings.from_env(values)
    assert settings.catalog_type == "rest"


@pytest.mark.parametrize(
    ("env", "access", "alerting", "deployed", "compose_files"),
    [
        ("dev", "admin", False, False, "docker-compose.yaml"),
        ("staging", "reader", True, True, "docker-compose.yaml"),
        ("prod", "reader", True, True, "docker-compose.yaml:docker-compose.prod.yaml"),
    ],
)
def test_committed_environments_differ_only_by_their_files(
    env, access, alerting, deployed, compose_files
):
    values = parse_env_file(PROJECT_DIR / f".env.{env}")
    settings = Settings.from_env(values)
    assert (settings.access_level, settings.alerting_enabled, settings.deployed) == (
        access,
        alerting,
        deployed,
    )
    assert values["COMPOSE_FILE"] == compose_files


def test_no_secret_values_are_committed():
    secret_names = (
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "ALERT_SLACK_WEBHOOK_URL",
        "DAGSTER_POSTGRES_PASSWORD",
    )
    for env in (*ENVS, "example"):
        values = parse_env_file(PROJECT_DIR / f".env.{env}")
        for name in secret_names:
            assert not values.get(name), f"{name} has a value in .env.{env}"
        text = (PROJECT_DIR / f".env.{env}").read_text()
        assert "hooks.slack.com/services/" not in text


def test_every_variable_the_code_reads_is_documented():
    """Every project variable named anywhere in the package (settings, the gate's release
    identity, the runtime's) is documented in .env.example, set or as a comment."""
    names: set[str] = set()
    for path in (PROJECT_DIR / "lakehouse").rglob("*.py"):
        names |= set(
            re.findall(
                r'"((?:LAKEHOUSE|ICEBERG|S3|DAGSTER|ALERT|AWS|GOOGLE|SODA|DUCKDB)_[A-Z0-9_]+)"',
                path.read_text(),
            )
        )
    documented = (PROJECT_DIR / ".env.example").read_text()
    assert {"LAKEHOUSE_ACCESS_LEVEL", "LAKEHOUSE_RELEASE_COMMIT"} <= names, (
        "the pattern finds reads"
    )
    missing = sorted(name for name in names if not re.search(rf"\b{name}\b", documented))
    assert not missing, f"read by dagster/lakehouse, not documented in .env.example: {missing}"


def test_postgres_driver_for_dagster_storage_is_installed():
    """dagster-postgres builds postgresql:// URLs; SQLAlchemy must resolve them to an
    installed driver (SQLAlchemy 2.1 would pick psycopg 3, which is not installed)."""
    import sqlalchemy
    from dagster_postgres.utils import get_conn_string

    engine = sqlalchemy.create_engine(get_conn_string("u", "p", "127.0.0.1", "dagster", "5432"))
    assert engine.dialect.driver == "psycopg2"
