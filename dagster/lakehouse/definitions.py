"""Dagster code location: assets, jobs, schedules, sensors and resources.

The environment (``.env.<env>`` passed by compose or exported in the shell) decides the
catalog, access level and alerting; see lakehouse/config.py and lakehouse/build.py.
"""

from lakehouse.build import build_definitions
from lakehouse.config import Settings

defs = build_definitions(Settings.from_env())
