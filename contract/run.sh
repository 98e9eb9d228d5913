#!/usr/bin/env bash
# `make contract`: does the OpenAPI document hold for the tools that consume it? (issue 14)
#  1. serves orgledger on a fresh data folder and fetches /openapi.json;
#  2. generates clients with openapi-generator (python, typescript-fetch, java) and
#     openapi-python-client, failing on any error or any warning not listed in known-warnings.txt;
#  3. installs the generated python client and runs the organization flow through it;
#  4. runs schemathesis with --checks all, stateful phase included, and fails on any failure or
#     when the stateful phase never got a 200 from member_add, member_update and member_delete.
# Tools go in .venv-contract (openapi-generator-cli from PyPI carries its jar: no Maven needed);
# Java comes from Debian (default-jre-headless) when missing. Output: build/contract/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/contract
TOOLS=$ROOT/.venv-contract
PORT=${CONTRACT_PORT:-4517}
export LITELLM_MASTER_KEY=sk-contract-master
export ORGLEDGER_URL=http://127.0.0.1:$PORT
rm -rf "$OUT" && mkdir -p "$OUT"

step() { printf '\n=== %s\n' "$*"; }

step "tools"
if ! command -v java >/dev/null 2>&1; then
  apt-get install -y -qq default-jre-headless >/dev/null 2>&1 || \
    { apt-get update -qq >/dev/null && apt-get install -y -qq default-jre-headless >/dev/null; }
fi
[ -x "$TOOLS/bin/python" ] || python3 -m venv "$TOOLS"
"$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check \
  openapi-generator-cli openapi-python-client ruff 'schemathesis>=4,<5'
export PATH=$TOOLS/bin:$PATH  # openapi-python-client runs ruff on what it writes
java -version 2>&1 | head -1
echo "openapi-generator $(openapi-generator-cli version)"; openapi-python-client --version; st --version

step "serve orgledger on $ORGLEDGER_URL"
export ORGLEDGER_DATA_DIR=$OUT/data
.venv/bin/orgledger serve --host 127.0.0.1 --port "$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "$ORGLEDGER_URL/health/readiness" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$ORGLEDGER_URL/openapi.json" -o "$OUT/openapi.json"

step "generate clients"
# Warnings that say nothing about this document (see the file); any other warning fails.
allowed=$(grep -v '^#' contract/known-warnings.txt | grep -v '^$')
check_log() {  # name, log
  local bad
  bad=$(grep -E '\] (WARN|ERROR) |^Exception|^Error|[Ww]arning' "$2" | grep -v -F -e "${allowed//$'\n'/$'\n'}" || true)
  if [ -n "$bad" ]; then echo "$1: FAILED"; echo "$bad" | head -20; return 1; fi
  echo "$1: clean"
}
failed=0
for generator in python typescript-fetch java; do
  if openapi-generator-cli generate -i "$OUT/openapi.json" -g "$generator" -o "$OUT/$generator" \
       --package-name orgledger_client >"$OUT/$generator.log" 2>&1; then
    check_log "openapi-generator -g $generator" "$OUT/$generator.log" || failed=1
  else
    echo "openapi-generator -g $generator: FAILED"; grep -v INFO "$OUT/$generator.log" | head -20; failed=1
  fi
done
if (cd "$OUT" && openapi-python-client generate --path openapi.json --output-path opc >"$OUT/opc.log" 2>&1); then
  check_log "openapi-python-client" "$OUT/opc.log" || failed=1
else
  echo "openapi-python-client: FAILED"; cat "$OUT/opc.log"; failed=1
fi
[ $failed = 0 ]

step "the organization flow through the generated python client"
"$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "$OUT/python"
"$TOOLS/bin/python" contract/client_flow.py

step "schemathesis --checks all, stateful phase included"
# Every check, with two replaced (contract/schemathesis.toml says why): positive_data_acceptance
# runs as positive_data_acceptance_as_litellm (contract/st_hooks.py), and allow_header_conformance
# is left out, since the one path served by two routes (/organization/info, GET and POST) answers a
# wrong method with the first route's Allow, as FastAPI and so LiteLLM do.
SCHEMATHESIS_HOOKS=st_hooks PYTHONPATH=contract \
st --config-file contract/schemathesis.toml run "$ORGLEDGER_URL/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance,allow_header_conformance \
  -H "Authorization: Bearer $LITELLM_MASTER_KEY" --seed 14 \
  --report ndjson --report-dir "$OUT/schemathesis" --no-color 2>&1 | tee "$OUT/schemathesis.log"
"$TOOLS/bin/python" contract/stateful_reach.py "$OUT/schemathesis"
echo; echo "make contract: passed"
