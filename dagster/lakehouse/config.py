"""The one place that reads the process environment.

Every other module receives a :class:`Settings` object (or resources built from it);
assets, sensors and the quality gate never touch ``os.environ``. This module only uses
the standard library so that the Soda runner (separate virtualenv) can import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("dev", "staging", "prod", "test", "local")
ACCESS_LEVELS = ("admin", "reader")
CATALOG_TYPES = ("rest", "sql")

PROJECT_DIR = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """Raised when the environment does not describe a usable lakehouse."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _infer_catalog_type(uri: str) -> str:
    if uri.startswith(("http://", "https://")):
        return "rest"
    if uri.startswith(("sqlite:", "postgresql:", "postgresql+", "mysql")):
        return "sql"
    raise ConfigError(
        f"cannot infer the catalog type from ICEBERG_CATALOG_URI={uri!r}; "
        "set ICEBERG_CATALOG_TYPE=rest|sql"
    )


def parse_env_file(path: Path) -> dict[str, str]:
    """Parse a dotenv file (KEY=VALUE, '#' comments, optional quotes, no interpolation)."""
    values: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{lineno}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Settings:
    """Validated settings for one environment (see .env.example for every variable)."""

    environment: str
    access_level: str
    alerting_enabled: bool
    catalog_uri: str
    warehouse: str
    catalog_type: str
    catalog_name: str = "lakehouse"
    catalog_warehouse: str | None = None
    namespace: str = "lakehouse"
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_path_style: bool = False
    slack_webhook_url: str | None = None
    sns_topic_arn: str | None = None
    events_per_day: int = 400
    customers: int = 60

    @property
    def masks_pii(self) -> bool:
        return self.access_level != "admin"

    def catalog_properties(self) -> dict[str, str]:
        """pyiceberg catalog properties; credentials come from the default AWS chain."""
        props: dict[str, str] = {"uri": self.catalog_uri}
        if self.catalog_type == "rest":
            # A REST catalog (Nessie) owns the location: clients name its warehouse, or
            # get the server default; ICEBERG_WAREHOUSE documents where that lives.
            props["type"] = "rest"
            if self.catalog_warehouse:
                props["warehouse"] = self.catalog_warehouse
        else:
            props["warehouse"] = self.warehouse
            props["type"] = "sql"
            props["init_catalog_tables"] = "true"
        if self.s3_endpoint:
            props["s3.endpoint"] = self.s3_endpoint
        if self.s3_region:
            props["s3.region"] = self.s3_region
        if self.s3_path_style:
            props["s3.force-virtual-addressing"] = "false"
        return props

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"{name} is not set (see dagster/.env.example)")
            return value

        def optional(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        environment = required("LAKEHOUSE_ENVIRONMENT")
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"LAKEHOUSE_ENVIRONMENT must be one of {ENVIRONMENTS}")
        access_level = env.get("LAKEHOUSE_ACCESS_LEVEL", "reader").strip() or "reader"
        if access_level not in ACCESS_LEVELS:
            raise ConfigError(f"LAKEHOUSE_ACCESS_LEVEL must be one of {ACCESS_LEVELS}")
        catalog_uri = required("ICEBERG_CATALOG_URI")
        catalog_type = optional("ICEBERG_CATALOG_TYPE") or _infer_catalog_type(catalog_uri)
        if catalog_type not in CATALOG_TYPES:
            raise ConfigError(f"ICEBERG_CATALOG_TYPE must be one of {CATALOG_TYPES}")
        if catalog_type == "rest" and "/api/v" in catalog_uri:
            raise ConfigError(
                "ICEBERG_CATALOG_URI points at the Nessie native API; use the Iceberg REST "
                "path, e.g. http://nessie:19120/iceberg/main"
            )
        return cls(
            environment=environment,
            access_level=access_level,
            alerting_enabled=_parse_bool(
                "LAKEHOUSE_ALERTING_ENABLED", env.get("LAKEHOUSE_ALERTING_ENABLED", "false")
            ),
            catalog_uri=catalog_uri,
            warehouse=required("ICEBERG_WAREHOUSE"),
            catalog_type=catalog_type,
            catalog_name=optional("ICEBERG_CATALOG_NAME") or "lakehouse",
            catalog_warehouse=optional("ICEBERG_CATALOG_WAREHOUSE"),
            namespace=optional("ICEBERG_NAMESPACE") or "lakehouse",
            s3_endpoint=optional("S3_ENDPOINT_URL"),
            s3_region=optional("AWS_REGION") or "us-east-1",
            s3_path_style=_parse_bool("S3_PATH_STYLE", env.get("S3_PATH_STYLE", "false")),
            slack_webhook_url=optional("ALERT_SLACK_WEBHOOK_URL"),
            sns_topic_arn=optional("ALERT_SNS_TOPIC_ARN"),
            events_per_day=int(env.get("LAKEHOUSE_EVENTS_PER_DAY", "400") or 400),
            customers=int(env.get("LAKEHOUSE_CUSTOMERS", "60") or 60),
        )

    @classmethod
    def for_environment(
        cls, environment: str, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings for ``environment``: ``.env.<environment>`` overlaid by the process env.

        Process variables win so that CI and containers can override file values; the
        resolved LAKEHOUSE_ENVIRONMENT must equal the requested one.
        """
        env_file = PROJECT_DIR / f".env.{environment}"
        merged: dict[str, str] = parse_env_file(env_file) if env_file.exists() else {}
        merged.update(os.environ if environ is None else environ)
        settings = cls.from_env(merged)
        if settings.environment != environment:
            raise ConfigError(
                f"LAKEHOUSE_ENVIRONMENT={settings.environment!r} does not match --env "
                f"{environment!r}"
            )
        return settings
