from dagster import DailyPartitionsDefinition

# One Dagster partition per UTC day of events; the Iceberg spec partitions by day too.
daily_partitions = DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
