# Entrypoint of every deployed Dagster container (code server, daemon, webserver and,
# on AWS, each run task): `/bin/sh -c "<this file>" dagster-entrypoint <command...>`.
# Writes the deployment's instance and workspace files (dagster/deploy/<cloud>/, passed
# by Terraform as variables) into DAGSTER_HOME, then becomes the command. Any missing
# variable or failed write stops the container: a deployed Dagster never falls back to
# the image's local-stack dagster.yaml.
set -eu
: "${DAGSTER_HOME:?}" "${DAGSTER_INSTANCE_YAML:?}" "${DAGSTER_WORKSPACE_YAML:?}"
mkdir -p "$DAGSTER_HOME"
printf '%s\n' "$DAGSTER_INSTANCE_YAML" > "$DAGSTER_HOME/dagster.yaml"
printf '%s\n' "$DAGSTER_WORKSPACE_YAML" > "$DAGSTER_HOME/workspace.yaml"
exec "$@"
