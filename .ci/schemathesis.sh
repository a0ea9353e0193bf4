#!/usr/bin/env bash
# Schemathesis (PyPI) against a running `voyager serve`'s /openapi.json:
# no 5xx, every response as the document says. Run by .ci/run after the
# debug binary is built; the checks that a schema-valid body must be
# accepted are left out (a message is valid only if it compiles against
# the script, which a JSON schema cannot say).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
fi
dir=$(mktemp -d)
printf 'action double(n) { n * 2 }\naction boom(why) { fail("boom: {why}") }\naction later() { seq([delay(1h), call(double, 1)]) }\n' >"$dir/api.vy"
target/debug/voyager serve "$dir/api.vy" --listen 127.0.0.1:0 --call-timeout 2s >/dev/null 2>"$dir/serve.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*listening on //p' "$dir/serve.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "voyager serve did not start:" >&2
  cat "$dir/serve.log" >&2
  exit 1
fi
"$venv/bin/schemathesis" run "$addr/openapi.json" --checks all \
  --exclude-checks positive_data_acceptance --max-examples 30 --seed 1 --no-color
