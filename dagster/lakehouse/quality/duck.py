"""The gate's DuckDB: extensions from the pinned wheels only, memory limited, storage keys.

Runs in the Soda virtualenv (DuckDB 1.5 with ``duckdb-extension-{avro,httpfs,iceberg}``
of the same version, requirements-soda.lock). DuckDB would download a missing extension
from the network and load extensions it finds in ``~/.duckdb``; the gate's connections
do neither (``autoinstall_known_extensions`` and ``autoload_known_extensions`` off): each
extension is loaded from the file its wheel ships, and DuckDB checks its signature. A
wheel that is missing is an :class:`ExtensionMissing` naming the package to install.

Object storage is read with a TEMPORARY secret (in memory, never written): ``s3://``
with the keys of the default AWS chain (botocore: variables, profile, ECS task role,
instance profile) and the project's ``S3_ENDPOINT_URL`` / ``S3_PATH_STYLE`` /
``AWS_REGION``; ``gs://`` with an OAuth token of Google's application default
credentials (google-auth: Cloud Run's service account, a key file, gcloud).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lakehouse.config import Settings

# Load order matters: iceberg reads its manifests with avro.
EXTENSIONS = ("avro", "httpfs", "iceberg")
MIB = 2**20
# DuckDB's memory for the checks, unless the gate is told otherwise: enough for its hash
# aggregates to spill instead of failing (Soda's duplicate_count over 4e6 distinct keys),
# small enough that the gate's peak memory stays flat as tables grow.
PER_THREAD_LIMIT = 32 * MIB
MIN_MEMORY_LIMIT = 64 * MIB
# Below this DuckDB 1.5 can abort the whole process (an exception thrown where nothing
# catches it: no report), instead of failing the query (measured with 1 MiB).
FLOOR_MEMORY_LIMIT = 2 * MIB
# Fixed settings of every connection: no network look-ups for extensions, no progress bar.
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class ExtensionMissing(Exception):
    """A DuckDB extension the gate needs is not installed from its wheel."""


def memory_ceiling() -> int:
    """Half of the memory this process may use (the machine's, or its cgroup's)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        total = min(total, int(Path("/sys/fs/cgroup/memory.max").read_text().strip()))
    return total // 2


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_version() -> str:
    from importlib import metadata

    return metadata.version("duckdb")


def extension_file(name: str) -> Path:
    """The extension file the wheel ``duckdb-extension-<name>`` ships for this DuckDB."""
    version = duckdb_version()
    package = f"duckdb-extension-{name}=={version}"
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionMissing(
            f"DuckDB's {name} extension is not installed: the gate loads it only from the "
            f"wheel {package} (requirements-soda.lock), never from the network; install the "
            "lock again (scripts/test.sh, or the gate image)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionMissing(
            f"{path} is missing: the installed wheel of DuckDB's {name} extension is not "
            f"{package}; install the lock again"
        )
    return path


def extension_files() -> dict[str, Path]:
    return {name: extension_file(name) for name in EXTENSIONS}


def connect(
    database: str = ":memory:",
    *,
    memory_limit: int | None = None,
    temp_directory: Path | None = None,
) -> Any:
    """A DuckDB connection with the gate's extensions loaded from their wheels."""
    import duckdb

    files = extension_files()  # before connecting: a missing wheel fails fast
    con = duckdb.connect(database, config=dict(OFFLINE))
    try:
        con.execute("SET enable_progress_bar = false")
        # DuckDB's in-memory cache of file reads gives the gate nothing under its memory
        # limit: the OS caches local files already, and object-store reads are evicted
        # before the next query could use them. Off, at 4e6 rows: 10-20 MiB less peak
        # memory, 3% more GETs to S3, times unchanged (local files: 0.04 s faster).
        con.execute("SET enable_external_file_cache = false")
        if temp_directory is not None:
            con.execute(f"SET temp_directory = {sql_string(str(temp_directory))}")
        for path in files.values():
            con.execute(f"LOAD {sql_string(str(path))}")
        (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
        limit_memory(con, memory_limit or max(MIN_MEMORY_LIMIT, PER_THREAD_LIMIT * threads))
    except BaseException:
        con.close()
        raise
    return con


def limit_memory(con: Any, limit: int) -> int:
    """Let DuckDB use ``limit`` bytes; bigger work spills to its temp directory."""
    limit = max(limit, FLOOR_MEMORY_LIMIT)
    con.execute(f"SET memory_limit = '{limit // MIB}MiB'")
    return limit


def memory_limit_of(con: Any) -> int:
    (value,) = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    ).fetchone()
    number, unit = str(value).split()
    scale = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    return int(float(number) * scale)


def _s3_secret(settings: Settings) -> dict[str, str]:
    """The S3 secret's options: the default AWS chain's keys and the project's endpoint."""
    import botocore.session

    credentials = botocore.session.Session().get_credentials()
    options = {"TYPE": "s3", "REGION": settings.s3_region}
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options["KEY_ID"], options["SECRET"] = frozen.access_key, frozen.secret_key
        if frozen.token:
            options["SESSION_TOKEN"] = frozen.token
    if settings.s3_endpoint:
        endpoint = urlsplit(settings.s3_endpoint)
        options["ENDPOINT"] = endpoint.netloc
        options["USE_SSL"] = "true" if endpoint.scheme == "https" else "false"
    options["URL_STYLE"] = "path" if settings.s3_path_style else "vhost"
    return options


def _gcs_secret() -> dict[str, str]:
    """A GCS secret with an OAuth token of Google's application default credentials."""
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(
        scopes=["https://www.googleapis.com/auth/devstorage.read_only"]
    )
    credentials.refresh(google.auth.transport.requests.Request())
    return {"TYPE": "gcs", "BEARER_TOKEN": credentials.token}


SECRET_VALUES = ("KEY_ID", "SECRET", "SESSION_TOKEN", "BEARER_TOKEN")
PLAIN_VALUES = ("TYPE", "USE_SSL")


def add_storage_secret(con: Any, settings: Settings) -> None:
    """Let ``con`` read the warehouse's object storage (nothing for local files)."""
    scheme = urlsplit(settings.warehouse).scheme
    if scheme in ("s3", "s3a"):
        options = _s3_secret(settings)
    elif scheme == "gs":
        options = _gcs_secret()
    else:
        return
    pairs = ", ".join(
        f"{key} {value}" if key in PLAIN_VALUES else f"{key} {sql_string(value)}"
        for key, value in options.items()
    )
    try:
        con.execute(f"CREATE OR REPLACE TEMPORARY SECRET lakehouse_storage ({pairs})")
    except Exception as exc:  # DuckDB may quote the statement: never show a credential
        message = str(exc)
        for key in SECRET_VALUES:
            if options.get(key):
                message = message.replace(options[key], "***")
        raise RuntimeError(f"DuckDB refused the {scheme} credentials: {message}") from None
