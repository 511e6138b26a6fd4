"""The one place that reads an environment's file and the process environment.

Every other module receives a :class:`Settings` object (or resources built from it);
assets, sensors and the quality gate never touch ``os.environ``. What differs between
environments is read from ``.env.<name>``; no environment name appears in code. This
module only uses the standard library so that the Soda runner (separate virtualenv)
can import it.

Precedence (docker compose's): a variable exported in the process environment
overrides the same key of the env file, except ``LAKEHOUSE_ENVIRONMENT``: the file
names the environment and an exported value that differs is an error.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ACCESS_LEVELS = ("admin", "reader")
CATALOG_TYPES = ("rest", "sql")
# How branches are made (lakehouse.wap): Nessie's catalog-level branches, Iceberg
# table-level refs, or "auto" (asked of the catalog: Nessie says so in /v1/config).
VERSIONING = ("auto", "nessie", "table-refs")

# A branch the lakehouse writes to: valid as a Nessie reference name and as an Iceberg
# ref name (Nessie: a letter first, no trailing "." or "/"; "/" is left out here).
BRANCH_PATTERN = re.compile(r"[A-Za-z](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9_-])?")
BRANCH_RULE = "1-128 characters: a letter, then letters, digits, '.', '_' or '-', not ending in '.'"

# Same rule as the Go pipeline (pipelines/environment namePattern); both run the
# table pipelines/environment/testdata/names.json.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]{1,9}")
NAME_RULE = "2-10 characters, lowercase letters and digits, starting with a letter"

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROCESS = "the process environment"


class ConfigError(ValueError):
    """Raised when the environment does not describe a usable lakehouse."""


def check_environment_name(name: str) -> str:
    """Return ``name`` if it may name an environment, else raise ConfigError."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"environment name {name!r} is not allowed: use {NAME_RULE} "
            "(pattern ^[a-z][a-z0-9]{1,9}$)"
        )
    return name


# --- env files -----------------------------------------------------------------------
# The grammar shared with the Go pipeline (pipelines/environment/dotenv.go) and docker
# compose; the cases all three run are pipelines/environment/testdata/dotenv_cases.json.

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class EnvValue:
    value: str
    line: int


class _Refused(Exception):
    """A value the shared grammar refuses (message without file and line)."""


def _refuse_expansion(key: str, value: str) -> None:
    if "$" in value:
        raise _Refused(
            f"{key}: $ is not allowed outside single quotes: docker compose and shells "
            f"would interpolate it; write {key}='...' for a literal $"
        )
    if "`" in value:
        raise _Refused(f"{key}: backticks are not allowed: shells would run them as a command")


def _refuse_control(key: str, value: str) -> None:
    # Control characters other than a tab (whitespace, which only quotes may hold) are
    # invisible, and readers and editors disagree on them.
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch != "\t":
            raise _Refused(
                f"{key}: control character U+{ord(ch):04X} in the value: "
                "a value is one line of printable text"
            )


def _decode_value(key: str, value: str) -> str:
    if value[:1] in (" ", "\t"):
        raise _Refused(
            f"{key}: space after =: write {key}=value (quote values that contain spaces)"
        )
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        if end < 0:
            raise _Refused(
                f"{key}: unterminated quote: close it on the same line (values are one line)"
            )
        content, rest = value[1:end], value[end + 1 :]
        if rest and (rest[0] not in " \t" or not rest.lstrip(" \t").startswith("#")):
            raise _Refused(
                f"{key}: unexpected text after the closing quote: {rest!r} "
                "(only a comment may follow, after a space)"
            )
        _refuse_control(key, content)
        if "\\" in content:
            raise _Refused(f"{key}: backslashes are not allowed: readers disagree on escapes")
        if quote == '"':
            _refuse_expansion(key, content)
        return content
    value = value.split(" #", 1)[0].rstrip(" \t")
    _refuse_control(key, value)
    if any(ch.isspace() for ch in value):
        raise _Refused(f"{key}: unquoted value contains whitespace: quote it, e.g. {key}='{value}'")
    if "'" in value or '"' in value:
        raise _Refused(f"{key}: quotes are only allowed around the whole value")
    if "\\" in value:
        raise _Refused(f"{key}: backslashes are not allowed: readers disagree on escapes")
    _refuse_expansion(key, value)
    return value


def read_env_file(path: Path) -> dict[str, EnvValue]:
    """Parse an env file; every value with its line. Raises ConfigError with file:line."""
    try:
        # Bytes, not read_text: universal newlines would turn a lone \r into a line
        # break, which the other readers do not.
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from None
    values: dict[str, EnvValue] = {}
    for lineno, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        if line.startswith("export") and line[6:7] in (" ", "\t"):
            line = line[6:].lstrip(" \t")
        key, sep, value = line.partition("=")
        if not sep or not _KEY.fullmatch(key):
            raise ConfigError(
                f"{path}:{lineno}: expected KEY=VALUE (KEY: letters, digits and _, "
                f"no spaces around =), got {raw!r}"
            )
        try:
            decoded = _decode_value(key, value)
        except _Refused as exc:
            raise ConfigError(f"{path}:{lineno}: {exc}") from None
        if key in values:
            raise ConfigError(
                f"{path}:{lineno}: {key} is already set on line {values[key].line}: "
                "keep one (readers disagree on which one wins)"
            )
        values[key] = EnvValue(decoded, lineno)
    return values


def parse_env_file(path: Path) -> dict[str, str]:
    """The values of an env file (see :func:`read_env_file`)."""
    return {key: v.value for key, v in read_env_file(path).items()}


# --- typed values ----------------------------------------------------------------------


class _Source:
    """Variables plus where each came from, so errors name the file and line."""

    def __init__(self, values: Mapping[str, str], origins: Mapping[str, str], scope: str):
        self.values, self.origins, self.scope = values, origins, scope

    def _where(self, name: str) -> str:
        return self.origins.get(name, PROCESS)

    def _bad(self, name: str, raw: str, expected: str) -> ConfigError:
        return ConfigError(
            f"{name}={raw!r} ({self._where(name)}): {expected}; fix the value "
            "(every variable is documented in dagster/.env.example)"
        )

    def optional(self, name: str) -> str | None:
        return self.values.get(name, "").strip() or None

    def required(self, name: str, example: str = "...") -> str:
        value = self.optional(name)
        if value is None:
            state = "is empty" if name in self.values else "is not set"
            where = f" ({self._where(name)})" if name in self.values else f" in {self.scope}"
            raise ConfigError(
                f"{name} {state}{where}: add {name}={example} (see dagster/.env.example)"
            )
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, default: str | None = None) -> str:
        value = self.optional(name) or default or self.required(name, "|".join(allowed))
        if value not in allowed:
            raise self._bad(name, value, f"allowed values are {', '.join(allowed)}")
        return value

    def boolean(self, name: str, *, default: bool | None = None) -> bool:
        """Exactly ``true`` or ``false``, as the Go pipeline requires."""
        raw = self.optional(name)
        if raw is None and default is not None:
            return default
        value = raw if raw is not None else self.required(name, "true|false")
        if value not in ("true", "false"):
            raise self._bad(name, value, "allowed values are true, false")
        return value == "true"

    def branch(self, name: str) -> str | None:
        value = self.optional(name)
        if value is not None:
            try:
                check_branch_name(value, name)
            except ConfigError as exc:
                raise ConfigError(f"{exc} ({self._where(name)})") from None
        return value

    def integer(self, name: str, *, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise self._bad(name, raw, f"must be a whole number of at least 1, e.g. {default}")
        return int(raw)


def check_branch_name(name: str, what: str = "branch") -> str:
    """Return ``name`` if the lakehouse may write to a branch of that name."""
    if not BRANCH_PATTERN.fullmatch(name) or name == "main":
        raise ConfigError(
            f"{what} {name!r} is not allowed: use {BRANCH_RULE}, and not main "
            "(the published state), e.g. audit-<release id>"
        )
    return name


def _infer_catalog_type(uri: str) -> str:
    if uri.startswith(("http://", "https://")):
        return "rest"
    if uri.startswith(("sqlite:", "postgresql:", "postgresql+", "mysql")):
        return "sql"
    raise ConfigError(
        f"cannot infer the catalog type from ICEBERG_CATALOG_URI={uri!r}; "
        "set ICEBERG_CATALOG_TYPE=rest|sql"
    )


@dataclass(frozen=True)
class Settings:
    """Validated settings for one environment (see .env.example for every variable)."""

    environment: str
    access_level: str
    alerting_enabled: bool
    deployed: bool
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
    # Write-audit-publish (lakehouse.wap): where writers write (None: the published
    # state), how branches are made, Nessie's API v2 base (None: derived from the
    # catalog URI), and whether every Dagster run writes to its own run-<run id> branch.
    write_branch: str | None = None
    versioning: str = "auto"
    nessie_api_uri: str | None = None
    run_branches: bool = False

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
        # Both ways explicitly: pyarrow addresses a custom endpoint path-style unless told
        # otherwise, so S3_PATH_STYLE=false would otherwise not mean virtual-hosted.
        props["s3.force-virtual-addressing"] = "false" if self.s3_path_style else "true"
        return props

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        origins: Mapping[str, str] | None = None,
        scope: str = PROCESS,
    ) -> Settings:
        """Settings from variables (default: the process environment, as in compose).

        ``origins`` maps a variable to where it was set (``file:line``) for errors.
        """
        src = _Source(os.environ if environ is None else environ, origins or {}, scope)
        src.required("LAKEHOUSE_ENVIRONMENT", "<name>")
        environment = check_environment_name(src.values["LAKEHOUSE_ENVIRONMENT"])  # unstripped
        catalog_uri = src.required("ICEBERG_CATALOG_URI", "http://nessie:19120/iceberg/main")
        catalog_type = src.optional("ICEBERG_CATALOG_TYPE") or _infer_catalog_type(catalog_uri)
        if catalog_type not in CATALOG_TYPES:
            raise ConfigError(f"ICEBERG_CATALOG_TYPE must be one of {CATALOG_TYPES}")
        if catalog_type == "rest" and "/api/v" in catalog_uri:
            raise ConfigError(
                "ICEBERG_CATALOG_URI points at the Nessie native API; use the Iceberg REST "
                "path, e.g. http://nessie:19120/iceberg/main"
            )
        return cls(
            environment=environment,
            access_level=src.choice("LAKEHOUSE_ACCESS_LEVEL", ACCESS_LEVELS),
            alerting_enabled=src.boolean("LAKEHOUSE_ALERTING_ENABLED"),
            deployed=src.boolean("LAKEHOUSE_DEPLOYED"),
            catalog_uri=catalog_uri,
            warehouse=src.required("ICEBERG_WAREHOUSE", "s3://<bucket>/warehouse"),
            catalog_type=catalog_type,
            catalog_name=src.optional("ICEBERG_CATALOG_NAME") or "lakehouse",
            catalog_warehouse=src.optional("ICEBERG_CATALOG_WAREHOUSE"),
            namespace=src.optional("ICEBERG_NAMESPACE") or "lakehouse",
            s3_endpoint=src.optional("S3_ENDPOINT_URL"),
            s3_region=src.optional("AWS_REGION") or "us-east-1",
            s3_path_style=src.boolean("S3_PATH_STYLE", default=False),
            slack_webhook_url=src.optional("ALERT_SLACK_WEBHOOK_URL"),
            sns_topic_arn=src.optional("ALERT_SNS_TOPIC_ARN"),
            events_per_day=src.integer("LAKEHOUSE_EVENTS_PER_DAY", default=400),
            customers=src.integer("LAKEHOUSE_CUSTOMERS", default=60),
            write_branch=src.branch("LAKEHOUSE_WRITE_BRANCH"),
            versioning=src.choice("LAKEHOUSE_VERSIONING", VERSIONING, default="auto"),
            nessie_api_uri=src.optional("NESSIE_API_URI"),
            run_branches=src.boolean(
                "LAKEHOUSE_RUN_BRANCHES", default=src.boolean("LAKEHOUSE_DEPLOYED")
            ),
        )

    @classmethod
    def for_environment(
        cls,
        environment: str,
        environ: Mapping[str, str] | None = None,
        *,
        project_dir: Path = PROJECT_DIR,
    ) -> Settings:
        """Settings of ``environment``: ``<project_dir>/.env.<environment>``, overlaid by
        the process environment (``environ``, default ``os.environ``).

        The file must exist and name the environment (LAKEHOUSE_ENVIRONMENT); exported
        variables override its values, except an exported LAKEHOUSE_ENVIRONMENT that
        differs, which is an error.
        """
        check_environment_name(environment)
        env_file = Path(project_dir) / f".env.{environment}"
        if not env_file.is_file():
            raise ConfigError(
                f"{env_file} does not exist: every environment is its file; copy "
                f".env.example (or another environment's .env.<name>) to .env.{environment} "
                f"and set LAKEHOUSE_ENVIRONMENT={environment}"
            )
        in_file = read_env_file(env_file)
        declared = in_file.get("LAKEHOUSE_ENVIRONMENT")
        if declared is None:
            raise ConfigError(
                f"{env_file}: missing LAKEHOUSE_ENVIRONMENT: add "
                f"LAKEHOUSE_ENVIRONMENT={environment}"
            )
        if declared.value != environment:
            raise ConfigError(
                f"{env_file}:{declared.line}: LAKEHOUSE_ENVIRONMENT={declared.value} but this "
                f"is the file of environment {environment}: set "
                f"LAKEHOUSE_ENVIRONMENT={environment}"
            )
        process = os.environ if environ is None else environ
        exported = process.get("LAKEHOUSE_ENVIRONMENT")
        if exported is not None and exported != environment:
            raise ConfigError(
                f"LAKEHOUSE_ENVIRONMENT={exported!r} is exported in {PROCESS} but the "
                f"environment is {environment!r} ({env_file}): unset it, or choose "
                f"environment {exported!r}"
            )
        merged = {key: v.value for key, v in in_file.items()}
        origins = {key: f"{env_file}:{v.line}" for key, v in in_file.items()}
        for key, value in process.items():
            merged[key] = value
            origins[key] = PROCESS
        return cls.from_env(merged, origins=origins, scope=f"{env_file} or {PROCESS}")
