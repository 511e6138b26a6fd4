#!/usr/bin/env bash
# Resolve Apache Iceberg's REST catalog server (tests/iceberg-rest/pom.xml) into
# tests/iceberg-rest/lib with Maven: the jars the REST catalog tests run with `java -cp`.
#
# Skips the download when lib/.stamp matches the pom and this script. Needs `java` (17 or
# newer) and `mvn` on PATH and Maven Central. Without them the REST tests are skipped with
# the reason, unless CI or LAKEHOUSE_REQUIRE_HOST_TOOLS=1 is set: then this fails, so CI
# cannot pass by skipping.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(cd "$here/.." && pwd)/tests/iceberg-rest"
script="$here/scripts/iceberg-rest.sh"
require=0
if [[ -n "${CI:-}" || "${LAKEHOUSE_REQUIRE_HOST_TOOLS:-}" == "1" ]]; then require=1; fi

if [[ ! -f "$dir/pom.xml" ]]; then
  # The dagster project copied without the repository (e.g. into an image).
  echo "== $dir/pom.xml not found: the REST catalog tests will be skipped"
  exit 0
fi

missing() {
  if [[ $require == 1 ]]; then
    echo "scripts/iceberg-rest.sh: $1; the REST catalog tests need it (CI or LAKEHOUSE_REQUIRE_HOST_TOOLS=1 is set, so this is an error). Install a JDK 17 and Maven, e.g. apt-get install openjdk-17-jdk-headless maven" >&2
    exit 1
  fi
  echo "== $1: the REST catalog tests will be skipped (install a JDK 17 and Maven to run them)"
  exit 0
}

command -v java >/dev/null || missing "java is not on PATH"
command -v mvn >/dev/null || missing "mvn (Maven) is not on PATH"
# `java -version` prints e.g. openjdk version "17.0.15" (or "1.8.0_402" before Java 9).
java_version="$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n1)"
java_major="${java_version%%.*}"
if [[ ! "$java_major" =~ ^[0-9]+$ || "$java_major" -lt 17 ]]; then
  missing "java is version '${java_version:-unknown}', 17 or newer is needed"
fi

want="$(cat "$dir/pom.xml" "$script" | sha256sum | cut -d' ' -f1)"
if [[ -f "$dir/lib/.stamp" && "$(cat "$dir/lib/.stamp")" == "$want" ]]; then
  echo "== $dir/lib up to date with pom.xml"
  exit 0
fi
echo "== resolving Apache Iceberg's REST catalog server (tests/iceberg-rest/pom.xml) with Maven"
rm -rf "$dir/lib"
if ! log="$(mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies 2>&1)"; then
  echo "$log" | tail -n 30 >&2
  echo "scripts/iceberg-rest.sh: Maven could not resolve tests/iceberg-rest/pom.xml (its reason above); check the network access to Maven Central" >&2
  exit 1
fi
echo "$want" > "$dir/lib/.stamp"
