# Two commands matter on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What serving needs, and the same plus the test tools: each install is redone when pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench bench-tools soak clean image-check contract

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The data lives where `orgledger` finds it from any folder (ORGLEDGER_DATA_DIR, default the
# user's data folder); `serve` logs where.
run: $(RUN_STAMP)
	@if [ -z "$$LITELLM_MASTER_KEY" ]; then \
	  echo "!!! WARNING: LITELLM_MASTER_KEY is not set; using the DEVELOPMENT key 'sk-1234'. !!!"; \
	  echo "!!! Anyone who can reach this port is a proxy admin. Never use it in production. !!!"; \
	fi
	@echo "orgledger: serving http://$${HOST:-127.0.0.1}:$${PORT:-4000} (API docs at /docs); Ctrl-C stops it."
	@LITELLM_MASTER_KEY=$${LITELLM_MASTER_KEY:-sk-1234} \
	exec $(BIN)/orgledger serve --host $${HOST:-127.0.0.1} --port $${PORT:-4000}

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not postgres"

# Benchmarks against their raw limits (issue 7); never fails. wrk is the load generator.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (load generator)"; \
	  apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; } || \
	  echo "could not install wrk: the HTTP measurements will be skipped"; }
	-$(BIN)/python -m bench $(BENCH_ARGS)

# The profilers used when a benchmark target is missed (py-spy, pyinstrument).
bench-tools: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'

# Builds the container image from Debian packages and checks that it serves (deploy/image-check.sh);
# needs podman, buildah and debootstrap, and takes a few minutes. Not part of `make test`.
image-check:
	deploy/image-check.sh

# Does the OpenAPI document hold for what consumes it (issue 14)? Generates clients with
# openapi-generator (python, typescript-fetch, java) and openapi-python-client, runs the
# organization flow through the generated python client, and schemathesis --checks all with its
# stateful phase (contract/run.sh). Needs Java (installed with apt when missing) and PyPI; takes a
# few minutes. Not part of `make test`, which runs the fast document checks (tests/http/test_contract.py).
contract: $(RUN_STAMP)
	contract/run.sh

clean:
	rm -rf $(VENV) .venv-contract build *.egg-info
