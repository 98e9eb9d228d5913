#!/usr/bin/env bash
# `make image-check`: build the image and prove that it serves, on a machine that cannot reach an
# image registry (Debian's mirror and PyPI are enough):
#   1. a stand-in for debian:bookworm-slim, built from Debian packages with debootstrap (once);
#   2. `podman build --isolation=chroot` of the Dockerfile on that base;
#   3. the image's settings that only `docker run` would use (user, port, health check, volume);
#   4. the image's own entrypoint and command, run inside it with `buildah run`: it must answer
#      200 on /health/liveliness and on GET /organization/list;
# compose.yaml cannot be run here (no postgres:15 image, no container networking); its structure
# is checked by tests/unit/test_deploy_files.py, in `make test`.
# Needs root (or a rootless podman set up for it). Prints the time each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${ORGLEDGER_CHECK_BASE:-localhost/debian:bookworm-slim}
IMAGE=${ORGLEDGER_CHECK_IMAGE:-localhost/orgledger:check}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEY=sk-image-check-master-key
started=$SECONDS
step() { echo "== $1 ($((SECONDS - started)) s so far)"; }

missing=()
for tool in podman buildah debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! podman image exists "$BASE"; then
  step "building $BASE from Debian packages"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

step "podman build"
cert=()
# pip inside the build trusts this machine's certificate bundle (a proxy may re-sign PyPI's).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cert=(-v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt)
fi
# Docker's image format: the OCI format has no HEALTHCHECK.
podman build --isolation=chroot --format docker --quiet "${cert[@]}" --build-arg "BASE=$BASE" -t "$IMAGE" . >/dev/null

step "the image's run-time settings"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
expect() {  # what, got, wanted
  if [ "$2" != "$3" ]; then echo "FAIL: $1 is '$2', not '$3'" >&2; exit 1; fi
  echo "ok   $1: $2"
}
expect "user" "$(inspect '{{.Config.User}}')" "orgledger"
expect "exposed ports" "$(inspect '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}')" "4000/tcp "
expect "volumes" "$(inspect '{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}')" "/data "
expect "health check" "$(inspect '{{index .Config.Healthcheck.Test 0}} {{index .Config.Healthcheck.Test 1}}')" \
  "CMD python3"
inspect '{{index .Config.Healthcheck.Test 3}}' | grep -q '/health/liveliness' || { echo "FAIL: health check" >&2; exit 1; }
expect "HOST" "$(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^HOST=//p')" "0.0.0.0"
command=$(inspect '{{join .Config.Entrypoint " "}} {{join .Config.Cmd " "}}')
expect "entrypoint and command" "$command" "orgledger serve"
echo "     size: $(inspect '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}')"

step "running '$command' inside the image"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$(buildah from "$IMAGE")
trap 'buildah rm "$container" >/dev/null' EXIT
# The default OCI runtime cannot start containers here; chroot isolation on the host's network can.
# The probe is Python from the image itself (it has no curl).
buildah run --isolation chroot --network host -e "PORT=$port" -e "LITELLM_MASTER_KEY=$KEY" "$container" -- \
  sh -c "$command & server=\$!
python3 - \"\$server\" <<'PROBE'
import os, sys, time, urllib.error, urllib.request
base = 'http://127.0.0.1:%s' % os.environ['PORT']
deadline = time.monotonic() + 60
while True:
    try:
        live = urllib.request.urlopen(base + '/health/liveliness', timeout=2)
        break
    except (urllib.error.URLError, OSError):
        if time.monotonic() > deadline:
            sys.exit('FAIL: no answer from /health/liveliness within 60 s')
        time.sleep(0.2)
listed = urllib.request.urlopen(urllib.request.Request(
    base + '/organization/list', headers={'Authorization': 'Bearer ' + os.environ['LITELLM_MASTER_KEY']}))
print('ok   GET /health/liveliness:', live.status, live.read().decode())
print('ok   GET /organization/list:', listed.status, listed.read().decode())
sys.exit(0 if (live.status, listed.status) == (200, 200) else 1)
PROBE
probed=\$?
kill -TERM \"\$server\"; wait \"\$server\"; stopped=\$?
echo \"     serve exited with \$stopped after SIGTERM\"
exit \$((probed || stopped))"

echo "image-check passed in $((SECONDS - started)) s"
