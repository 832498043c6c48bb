# Test / infra entry points for the hardened_tls.resumption collection.
# `make test` = unit + lint + sanity + version matrix + molecule (fast first). CI runs it via .ci/run.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:

ROOT        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON      ?= python3
VENV        := $(ROOT)/.venv
VENV_STAMP  := $(VENV)/.requirements.stamp
BUILD       := $(ROOT)/.build
COLL_LINK   := $(BUILD)/ansible_collections/hardened_tls/resumption
export SANITY_PY ?= 3.11
SANITY_ARGS ?=

# Everything below runs with the pinned toolchain of .venv first on PATH and
# finds this collection through .build (a symlink to the repository root).
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)
export ANSIBLE_PIPELINING := True
export ANSIBLE_FORCE_COLOR := False
export ANSIBLE_NOCOLOR := True
export PY_COLORS := 0
export NO_COLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Scenarios live in molecule/ at the collection root (not extensions/molecule).
export MOLECULE_GLOB := molecule/*/molecule.yml

MOLECULE_ALL       := $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
# Scenarios that also run under the oldest supported ansible-core (SCENARIO@CORE).
MOLECULE_CORE_SCENARIOS ?= nginx@2.16 fleet@2.16
MOLECULE_SCENARIOS := $(MOLECULE_ALL) $(MOLECULE_CORE_SCENARIOS)

.PHONY: test venv build-link images unit integration lint rules-test sanity matrix galaxy-test ee-check molecule clean demo demo-down bench

# The version matrix (CPU: pytest, pylint) runs beside the Molecule lanes (mostly
# waiting for rotation periods), its lines prefixed [matrix].
test: unit integration lint rules-test sanity galaxy-test
	$(MAKE) --no-print-directory -j2 matrix molecule

# ---------------------------------------------------------------- venv
venv: $(VENV_STAMP)

# Rebuilt only when requirements.txt changes (or the venv is gone).
$(VENV_STAMP): requirements.txt
	@echo "==> creating $(VENV) from requirements.txt"
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
		echo "==> installing python3-venv"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	fi
	@if [ ! -x $(VENV)/bin/python ]; then $(PYTHON) -m venv $(VENV); fi
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	@touch $@

# ---------------------------------------------------------------- .build link
build-link: $(COLL_LINK)

$(COLL_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../.. $@
	@echo "==> $@ -> $$(readlink -f $@)"

# ---------------------------------------------------------------- images
images:
	scripts/ensure-docker.sh
	scripts/build-images.sh

# ---------------------------------------------------------------- unit
unit: venv build-link
	@echo "==> unit tests"
	@if [ -z "$$(find tests/unit -name 'test_*.py' 2>/dev/null | head -n1)" ]; then \
		echo "WARNING: no unit tests under tests/unit yet; skipping pytest"; \
	else \
		PYTHONPATH=$(BUILD) python -m pytest -p no:cacheprovider tests/unit $$(test -d tests/bench && echo tests/bench); \
	fi

# The probe against real TLS servers on 127.0.0.1 (openssl s_server and nginx,
# started by the tests as plain processes; nginx-light is installed, never started as a service).
integration: venv build-link
	@echo "==> probe integration tests (real servers on 127.0.0.1)"
	@if ! command -v nginx >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then \
		echo "==> installing nginx-light and openssl for the probe tests"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light openssl; \
	fi
	PYTHONPATH=$(BUILD) python -m pytest -p no:cacheprovider tests/integration

# ---------------------------------------------------------------- lint
lint: venv build-link
	@echo "==> yamllint"
	yamllint --strict .
	@echo "==> ansible-lint (production profile)"
	ansible-lint --profile production
	@echo "==> antsibull-changelog lint"
	antsibull-changelog lint
	python scripts/role-readme.py --check

# ---------------------------------------------------------------- alert rules
# The Prometheus alert rules of extras/prometheus (docs/metrics.md): promtool
# check rules, then their unit tests (tests/prometheus/*.test.yml). promtool is
# Debian's, taken out of the prometheus package into .build/tools without
# installing the package (which would start a Prometheus daemon).
PROMTOOL := $(BUILD)/tools/promtool
rules-test:
	@echo "==> promtool check rules / test rules"
	scripts/ensure-promtool.sh
	$(PROMTOOL) check rules extras/prometheus/*.rules.yml
	$(PROMTOOL) test rules tests/prometheus/*.test.yml

# ---------------------------------------------------------------- sanity
# ansible-test sanity (empty ignore files) with ansible-core 2.19 (.venv), on a
# copy of the collection: see scripts/sanity.sh.
sanity: venv
	scripts/sanity.sh $(VENV) $(BUILD)/sanity $(SANITY_ARGS)

# ---------------------------------------------------------------- version matrix
# Unit tests and ansible-test sanity under each older ansible-core the
# collection supports (meta/runtime.yml: >=2.16), each from its own pinned
# virtualenv (.venv-core<version>, requirements-core-<version>.txt). The nginx
# and fleet scenarios also run under 2.16 (MOLECULE_CORE_SCENARIOS).
MATRIX_CORES ?= 2.16 2.17 2.18
matrix: venv build-link
	scripts/matrix.sh $(MATRIX_CORES) 2>&1 | sed -u 's/^/[matrix] /'

# ---------------------------------------------------------------- molecule
# Three lanes side by side: see scripts/molecule-lanes.sh. MOLECULE_LANES=1
# runs one scenario at a time; MOLECULE_SCENARIOS="nginx apache" runs just
# those, MOLECULE_SCENARIOS=nginx@2.16 nginx under ansible-core 2.16.
MOLECULE_LANES ?= 3
export MOLECULE_LANES
molecule: venv build-link images
	@if [ -z "$(MOLECULE_SCENARIOS)" ]; then echo "ERROR: no molecule scenarios found"; exit 1; fi
	scripts/molecule-lanes.sh $(MOLECULE_SCENARIOS)

# ---------------------------------------------------------------- galaxy
# Build the tarball, check the files it ships, install it into a clean path, run
# a site playbook from outside the repository and ansible-doc every module,
# filter and role entry point. ee-check first.
galaxy-test: venv images ee-check
	scripts/galaxy-test.sh

# ansible-builder create with an execution environment that installs the built
# tarball, and the context's own introspection of it: the collection's
# meta/execution-environment.yml requirements must come out (seconds, offline).
ee-check: venv
	scripts/ee-check.sh

# ---------------------------------------------------------------- demo
# A small site in containers, converged by playbooks/site.yml and audited by
# playbooks/audit.yml; prints the report (also demo/report.{json,md,txt}).
demo: venv build-link images
	scripts/demo.sh up

demo-down:
	scripts/demo.sh down

# ---------------------------------------------------------------- bench
# Figures side by side (bench/results/: JSON, table, PNG chart). matplotlib comes
# from requirements-bench.txt, installed into .venv by this target only.
bench: venv build-link images
	@echo "==> installing requirements-bench.txt"
	python -m pip install -q -r requirements-bench.txt
	python scripts/bench.py $(BENCH_ARGS)

# ---------------------------------------------------------------- clean
# Keeps the docker images (hardened-tls/debian:*); remove them with
# `docker rmi hardened-tls/debian:bookworm hardened-tls/debian:trixie`.
clean:
	-@for s in $(MOLECULE_ALL); do \
		[ -x $(VENV)/bin/molecule ] && docker info >/dev/null 2>&1 && molecule destroy -s "$$s" >/dev/null 2>&1 || true; \
	done
	rm -rf $(BUILD) $(VENV) $(ROOT)/.venv-core* tests/output .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
