#!/usr/bin/env bash
# Runs one `dagger call … deploy` (the arguments) and keeps its run report
# for the job summary and the artifact: deploy-report.md is the function's
# output, or on failure the report its error carries; deploy.log is
# everything dagger printed. The CLI prints a failed call's error twice
# (under the call and after "Error:"), so the last copy is kept, without
# the engine's trace id. The exit status is dagger's.
set -uo pipefail
"$@" >deploy-report.md 2>deploy.log
status=$?
if [ "$status" -ne 0 ]; then
  awk '{ line[NR] = $0 } /## deploy / { start = NR }
    END {
      if (!start) exit
      for (i = start; i <= NR; i++) {
        l = line[i]
        if (i == start) sub(/^.*## deploy /, "## deploy ", l)
        sub(/ \[traceparent:[0-9a-f-]+\]$/, "", l)
        print l
      }
    }' deploy.log >deploy-report.md
  tail -n 50 deploy.log
fi
exit "$status"
