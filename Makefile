# Test / infra entry points for the hardened_tls.resumption collection.
# `make test` = unit + lint + sanity + molecule (fast first). CI runs it via .ci/run.

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
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/hardened_tls/resumption
SANITY_PY   ?= 3.11
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
MOLECULE_SCENARIOS := $(MOLECULE_ALL)

.PHONY: test venv build-link images unit integration lint rules-test sanity galaxy-test ee-check molecule clean demo demo-down bench

test: unit integration lint rules-test sanity galaxy-test molecule

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
		PYTHONPATH=$(BUILD) python -m pytest -p no:cacheprovider tests/unit; \
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
# ansible-test refuses symlinked collections: run it on a copy of the tracked
# and untracked-but-not-ignored files. --venv makes ansible-test create one
# virtualenv per sanity test (cached under ~/.ansible/test/venv, keyed by its own
# pinned requirement files) so it never changes the pinned packages in .venv.
sanity: venv
	@echo "==> checking that no sanity ignore file has entries"
	@for f in tests/sanity/ignore-*.txt; do \
		if [ -s "$$f" ]; then echo "ERROR: $$f must be empty (fix the code instead)"; exit 1; fi; \
	done
	@# ansible-test's shellcheck test silently skips without the program.
	@if ! command -v shellcheck >/dev/null 2>&1; then \
		echo "==> installing shellcheck"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck; \
	fi
	@echo "==> copying the collection to $(SANITY_ROOT)"
	@rm -rf $(BUILD)/sanity
	@mkdir -p $(SANITY_ROOT)
	@git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do \
		if [ -e "$$f" ] || [ -L "$$f" ]; then printf '%s\0' "$$f"; fi; \
	done | xargs -0 -r cp --parents -P -t $(SANITY_ROOT)
	@# The copy sits inside this repository's ignored .build/: ansible-test would
	@# ask the outer git for the file list and find nothing. Give the copy its own
	@# git repository so it sees exactly the copied files.
	@cd $(SANITY_ROOT) && git init -q && git add -A
	@# ansible-test bootstraps pip into each of its virtualenvs with a get-pip.py
	@# it downloads from a host we cannot reach: seed its cache with our offline
	@# stand-in (ensurepip + the pinned pip from the package index).
	@pipver=$$(python -c 'import re, ansible_test._internal.python_requirements as r, inspect; print(re.search(r"pip=.([0-9.]+)", inspect.getsource(r.get_venv_packages)).group(1))'); \
	cache=$$HOME/.ansible/test/cache/get_pip_$${pipver//./_}.py; \
	if ! cmp -s scripts/ansible_test_get_pip.py "$$cache"; then \
		mkdir -p "$$(dirname "$$cache")"; cp scripts/ansible_test_get_pip.py "$$cache"; \
		echo "==> seeded $$cache (pip $$pipver)"; \
	fi
	@echo "==> ansible-test sanity --python $(SANITY_PY)"
	cd $(SANITY_ROOT) && ansible-test sanity --venv --requirements --python $(SANITY_PY) --color no $(SANITY_ARGS)

# ---------------------------------------------------------------- molecule
# Two lanes side by side (fleet and hardening in the second): see
# scripts/molecule-lanes.sh. MOLECULE_LANES=1 runs one scenario at a time;
# MOLECULE_SCENARIOS="nginx apache" runs just those.
MOLECULE_LANES ?= 2
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
	rm -rf $(BUILD) $(VENV) tests/output .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
