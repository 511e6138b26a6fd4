"""Dagster resources, all built from one :class:`~lakehouse.config.Settings`."""

from __future__ import annotations

from typing import Any

from lakehouse.config import Settings
from lakehouse.resources.alerting import AlertingResource
from lakehouse.resources.iceberg import IcebergResource

__all__ = ["AlertingResource", "IcebergResource", "build_resources"]


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "iceberg": IcebergResource.from_settings(settings),
        "alerting": AlertingResource.from_settings(settings),
    }
