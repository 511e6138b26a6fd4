import hashlib
import json

from dagster import (
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.schema import Schema

from lakehouse.resources.alerting import AlertingResource
from lakehouse.resources.iceberg import IcebergResource
from lakehouse.tables import CONTRACTS


def schema_drift(expected: Schema, actual: Schema) -> dict[str, list[str]]:
    """Differences by column name: missing, unexpected, type or nullability changes."""
    exp = {f.name: f for f in expected.fields}
    act = {f.name: f for f in actual.fields}
    drift = {
        "missing_columns": sorted(set(exp) - set(act)),
        "extra_columns": sorted(set(act) - set(exp)),
        "type_changes": sorted(
            f"{n}: {exp[n].field_type} -> {act[n].field_type}"
            for n in set(exp) & set(act)
            if exp[n].field_type != act[n].field_type
        ),
        "nullability_changes": sorted(
            f"{n}: required={exp[n].required} -> {act[n].required}"
            for n in set(exp) & set(act)
            if exp[n].required != act[n].required
        ),
    }
    return {k: v for k, v in drift.items() if v}


def build_schema_drift_sensor(running: bool) -> SensorDefinition:
    @sensor(
        name="schema_drift",
        description="Compares live Iceberg schemas with the table contracts; alerts once per "
        "distinct drift (the cursor holds the fingerprint of the last alerted drift).",
        minimum_interval_seconds=3600,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
    )
    def schema_drift_sensor(
        context: SensorEvaluationContext, iceberg: IcebergResource, alerting: AlertingResource
    ):
        catalog = iceberg.catalog()
        report: dict[str, dict[str, list[str]]] = {}
        for name, contract in CONTRACTS.items():
            try:
                table = catalog.load_table(contract.identifier(iceberg.namespace))
            except NoSuchTableError:
                continue  # not created yet: the asset creates it on first materialization
            drift = schema_drift(contract.schema, table.schema())
            if drift:
                report[name] = drift
        if not report:
            context.update_cursor("")
            return SkipReason("no schema drift")
        payload = json.dumps(report, sort_keys=True)
        fingerprint = hashlib.sha256(payload.encode()).hexdigest()
        if context.cursor == fingerprint:
            return SkipReason("schema drift unchanged since last alert")
        context.log.warning(f"schema drift: {payload}")
        alerting.send("Schema drift detected", payload)
        context.update_cursor(fingerprint)
        return SkipReason(f"schema drift in {', '.join(sorted(report))}")

    return schema_drift_sensor
