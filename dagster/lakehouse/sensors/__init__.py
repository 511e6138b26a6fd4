from lakehouse.sensors.alerts import build_run_failure_alert_sensor
from lakehouse.sensors.schema_drift import build_schema_drift_sensor, schema_drift

__all__ = ["build_run_failure_alert_sensor", "build_schema_drift_sensor", "schema_drift"]
