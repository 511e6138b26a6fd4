# One entry point for contributors: `make test` runs every test and lint that
# CI runs. It installs what it needs from the repository's own files (Go
# modules from go.sum, Python deps from pinned lock files into venvs).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
TERRAFORM ?= terraform
ACTIONLINT_VERSION := v1.7.12

# A TF_CLI_CONFIG_FILE naming a missing file makes every terraform call warn;
# drop it so real warnings stay visible.
ifneq ($(TF_CLI_CONFIG_FILE),)
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
unexport TF_CLI_CONFIG_FILE
endif
endif

.PHONY: test test-go test-fuzz test-module test-python lint lint-go lint-terraform lint-workflows host-postgres bench bench-gate bench-wap fuzz

# On CI a missing host tool fails the Go host tests instead of skipping them.
export LAKEHOUSE_REQUIRE_HOST_TOOLS := $(if $(CI),1,)

# test-python first: it creates dagster/.venv, which the Go host tests of the
# compose healthchecks run the Dagster services from.
test: lint test-python test-go test-fuzz test-module
	@echo "make test: all suites passed"

lint: lint-go lint-terraform lint-workflows

# gofmt and go vet over the root module; the Dagger module is vetted by its harness.
lint-go:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

lint-terraform:
	@dirs=$$(for d in aws gcp environments ci-identity; do if [ -d $$d ]; then echo $$d; fi; done); \
	  if [ -z "$$dirs" ]; then echo "lint-terraform: no terraform roots yet"; exit 0; fi; \
	  command -v $(TERRAFORM) >/dev/null || { echo "terraform not found: install Terraform >= 1.10 (see README)"; exit 1; }; \
	  for d in $$dirs; do $(TERRAFORM) fmt -check -recursive -diff $$d; done

# Workflow files are named explicitly: without arguments actionlint needs a
# .git directory to find them (a tarball or a container has none).
lint-workflows:
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) -color=false $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)

# Terraform providers come from a local filesystem mirror where one exists
# (providers cannot be downloaded on our machines): the Go tests read
# TF_PLUGIN_MIRROR themselves (internal/hosttest.FindMirror; several
# directories separated by ':'), e.g. /opt/tf-plugins:/path/to/gcp-mirror
# with the google and random providers built as docs/verification.md says.
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
export TF_PLUGIN_MIRROR

# Postgres from Debian's packages, for the compose healthcheck host tests
# (pipelines/compose); installed when missing and we are root.
host-postgres:
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then exit 0; fi; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  else echo "host-postgres: no /usr/lib/postgresql/*/bin/postgres; run: sudo apt-get install -y postgresql (the compose healthcheck tests skip without it)"; fi

# The checklist and the terraform host tests run real tools for minutes on a
# loaded two-core machine (tests/infra applies aws/ to an AWS API emulator
# for every environment: 9.5 minutes on two lightly loaded cores, 18 when
# shared with other jobs); go test's 10-minute default per package is too near.
# The checklist runs every environment suite again on a copy of the repository,
# so it runs alone, after the other packages: beside them it loaded the machine
# enough to time out the compose healthcheck tests.
GO_TEST_TIMEOUT ?= 45m

# go test shows nothing of a package that passed: what the infrastructure
# tests must say anyway (the resource types the emulator apply left out,
# tests skipped for want of the google provider, timings) they write to
# INFRA_REPORT, printed here.
test-go: host-postgres
	@report=$$(mktemp); trap 'rm -f "$$report"' EXIT; status=0; \
	  INFRA_REPORT="$$report" $(GO) test -timeout $(GO_TEST_TIMEOUT) $$($(GO) list ./... | grep -v '/tests/checklist$$') || status=$$?; \
	  if [ "$$status" = 0 ]; then $(GO) test -timeout $(GO_TEST_TIMEOUT) ./tests/checklist || status=$$?; fi; \
	  if [ -s "$$report" ]; then echo "== tests/infra report"; cat "$$report"; fi; \
	  exit $$status

# Every parser of user input has a fuzz target (package:target). `make test`
# runs each for FUZZTIME_TEST; `make fuzz` for FUZZTIME. Crashers go to the
# package's testdata/fuzz, where `go test` replays them from then on.
FUZZ_TARGETS := \
	pipelines/environment:FuzzParseDotenv \
	pipelines/environment:FuzzParseRuntime \
	pipelines/environment:FuzzCatalog \
	pipelines/terraform:FuzzReadPlanBinding \
	pipelines/terraform:FuzzKeepsDenies \
	pipelines/compose:FuzzLoadAndTranslate \
	pipelines/quality:FuzzParse \
	pipelines/quality:FuzzDecideNeverPassesWhatIsNotAValidPassingReport \
	pipelines/promotion:FuzzEvidenceNeverAdmitsWhatIsNotAPass \
	pipelines/promotion:FuzzNextAllowedIsTheFirstOpenMinute \
	pipelines/wap:FuzzParse
FUZZTIME ?= 60s
FUZZTIME_TEST ?= 3s

# go test -fuzz takes one package and one target at a time. Minimizing a new
# input is bounded too, so the time goes to fuzzing. A Fuzz function missing
# from FUZZ_TARGETS fails the run instead of never being fuzzed.
# Go 1.26's fuzz coordinator can fail a target when -fuzztime runs out with a
# bare "context deadline exceeded" and no input (golang/go#75804, fixed in Go
# 1.27; seen here on a clean-clone CI run). A real finding always writes its
# input under testdata/fuzz; without one, the target's corpus is replayed
# instead, and that replay decides.
define run-fuzz
	@found=$$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' pipelines | sed 's/^func //' | sort); \
	  listed=$$(for t in $(FUZZ_TARGETS); do echo "$${t##*:}"; done | sort); \
	  if [ "$$found" != "$$listed" ]; then echo "FUZZ_TARGETS lists: "$$listed; echo "the code has: "$$found; exit 1; fi
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	  pkg=./$${t%%:*} target=$${t##*:}; \
	  echo "== fuzz $$target ($${t%%:*}) for $(1)"; \
	  if $(GO) test $$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $(1) -fuzzminimizetime $(2) 2>&1 | tee "$$log"; then continue; fi; \
	  if grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
	    echo "== $$target: stopped by Go's fuzz deadline race (golang/go#75804) with no failing input; replaying its corpus"; \
	    $(GO) test $$pkg -run "^$$target\$$" -count=1 || exit 1; \
	  else exit 1; fi; \
	done
endef

test-fuzz:
	$(call run-fuzz,$(FUZZTIME_TEST),1s)

fuzz:
	$(call run-fuzz,$(FUZZTIME),10s)

# Resolves .dagger/go.mod as the engine does when it loads the module
# (generated imports, go get of the SDK, go mod tidy against the proxy) and
# refuses any version the committed go.mod leaves to the day; then compiles,
# vets and tests .dagger against the published Dagger Go SDK with a fake
# engine; see tools/modharness.
test-module:
	$(GO) run ./tools/modharness resolve
	$(GO) run ./tools/modharness test

# The Python project owns its own install + test script (venv from pinned deps).
test-python:
	@if [ -x dagster/scripts/test.sh ]; then dagster/scripts/test.sh; \
	  else echo "test-python: no dagster/ project yet"; fi

# Opt-in benchmarks (not part of make test): deploy's and ci's wall time
# over their critical path under a fake engine with a fixed latency per call.
bench:
	$(GO) run ./tools/modharness test -count=1 -run '^$$' -bench Orchestration -benchtime 3x

# Opt-in: the quality gate's wall time, CPU time and peak memory at 1e5, 1e6 and 4e6
# rows next to a bare DuckDB scan of the same table (BENCH_ARGS=--large adds 2e7;
# needs dagster/.venv-soda from make test-python).
bench-gate:
	cd dagster && .venv-soda/bin/python -m benchmarks.gate_bench $(BENCH_ARGS)

# Opt-in: what write-audit-publish adds to a release's verification (branch create, audit
# read, publish) and what a rollback costs, on a 1e6-row table, SQL and REST catalogs
# (needs dagster/.venv and, for REST, the server's jars: make test-python makes both).
bench-wap:
	cd dagster && .venv/bin/python -m benchmarks.wap_bench $(BENCH_ARGS)
