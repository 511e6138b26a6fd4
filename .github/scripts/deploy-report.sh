#!/usr/bin/env bash
# Runs one `dagger call … deploy` (the arguments) and keeps its run report
# for the job summary and the artifact: deploy-report.md is the function's
# output, or on failure the report its error carries (from the heading on);
# deploy.log is everything dagger printed. The exit status is dagger's.
set -uo pipefail
"$@" >deploy-report.md 2>deploy.log
status=$?
if [ "$status" -ne 0 ]; then
  sed -n 's/^.*\(## deploy \)/\1/; /^## deploy /,$p' deploy.log >deploy-report.md
  tail -n 50 deploy.log
fi
exit "$status"
