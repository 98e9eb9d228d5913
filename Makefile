# Two commands matter on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	@if [ -z "$$LITELLM_MASTER_KEY" ]; then \
	  echo "!!! WARNING: LITELLM_MASTER_KEY is not set; using the DEVELOPMENT key 'sk-1234'. !!!"; \
	  echo "!!! Anyone who can reach this port is a proxy admin. Never use it in production. !!!"; \
	fi
	@echo "orgledger: serving http://127.0.0.1:$${PORT:-4000} (API docs at /docs); Ctrl-C stops it."
	@LITELLM_MASTER_KEY=$${LITELLM_MASTER_KEY:-sk-1234} \
	ORGLEDGER_DATA_DIR=$${ORGLEDGER_DATA_DIR:-./data} \
	exec $(BIN)/orgledger serve --host 127.0.0.1 --port $${PORT:-4000}

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not postgres"

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data build *.egg-info
