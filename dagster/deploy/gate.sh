# The quality gate as a one-off task of a deployed environment (aws/quality_gate.tf,
# gcp/quality_gate.tf): `/bin/sh -c "<this file>" quality-gate` in the gate image.
# Scans the environment's catalog with `python -m lakehouse.quality.gate` (settings from
# the task's environment: the gate reads .env.<env>, so a file naming only the
# environment is written first and the task's variables override the rest), then copies
# gate.json and gate.md to $GATE_REPORT_URI/$GATE_RUN_ID/ in the environment's bucket.
# The pipeline sets GATE_RUN_ID (e.g. the release id) when it starts the task; without
# it the start time is used. Arguments given to the task (ECS command override, Cloud
# Run job args) are passed on to the gate, e.g. --commit/--runtime-image/--gate-image.
# The gate keeps nothing (--duckdb-path :memory:): the task's filesystem goes with it, so
# a snapshot for `soda scan` would never be read, and publishing one installs DuckDB's
# three extensions (80 MB) into it first: about 0.4 s of every run.
# Exit code: the gate's (0 pass, 1 fail, 2 warn, 3 error), and 3 when the report cannot
# be uploaded.
set -u
: "${LAKEHOUSE_ENVIRONMENT:?}" "${GATE_REPORT_URI:?}"
run_id="${GATE_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}"
work="$(mktemp -d)"
printf 'LAKEHOUSE_ENVIRONMENT=%s\n' "$LAKEHOUSE_ENVIRONMENT" > "$work/.env.$LAKEHOUSE_ENVIRONMENT"
python -m lakehouse.quality.gate --env "$LAKEHOUSE_ENVIRONMENT" --project-dir "$work" \
  --out "$work/gate.json" --markdown "$work/gate.md" --duckdb-path :memory: "$@"
status=$?
python - "$work" "$GATE_REPORT_URI/$run_id" <<'PY' || { echo "quality gate: cannot upload the report to $GATE_REPORT_URI/$run_id" >&2; exit 3; }
import os
import sys

from pyarrow import fs

src, dest = sys.argv[1], sys.argv[2]
filesystem, root = fs.FileSystem.from_uri(dest)
if isinstance(filesystem, fs.LocalFileSystem):  # object stores need no directories
    filesystem.create_dir(root, recursive=True)
for name in ("gate.json", "gate.md"):
    path = os.path.join(src, name)
    if os.path.exists(path):
        with open(path, "rb") as f, filesystem.open_output_stream(f"{root}/{name}") as out:
            out.write(f.read())
        print(f"quality gate: {name} -> {dest}/{name}")
if not os.path.exists(os.path.join(src, "gate.json")):
    sys.exit("quality gate: no gate.json was written")
PY
exit "$status"
