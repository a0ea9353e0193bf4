#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a free loopback port.
#
#   eval "$(bash .ci/postgres.sh start)"   # exports VOYAGER_TEST_PG_URL and VOYAGER_TEST_PG_DIR
#   bash .ci/postgres.sh restart "$VOYAGER_TEST_PG_DIR"  # pg_ctl restart -m fast
#   bash .ci/postgres.sh stop "$VOYAGER_TEST_PG_DIR"
#
# Debian keeps initdb and pg_ctl in the version's own bin folder, off the
# PATH, and PostgreSQL will not run as root: as root, the cluster runs as
# the `postgres` user. The cluster trusts loopback connections (it lives
# only as long as the test run, in a temporary folder) and is removed by
# `stop`.
set -euo pipefail

bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

case "${1:-}" in
start)
  bin=$(bin_dir) || { echo "postgres.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
  dir=$(mktemp -d /tmp/voyager-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(free_port) || { echo "postgres.sh: no free loopback port" >&2; exit 1; }
  as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "export VOYAGER_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export VOYAGER_TEST_PG_DIR=$dir"
  echo "export VOYAGER_TEST_PG_BIN=$bin"
  ;;
restart)
  # Ends every session (as a server restart does) and starts again on
  # the same port, with the options it was started with.
  dir=${2:?usage: postgres.sh restart DIR}
  bin=$(bin_dir) || { echo "postgres.sh: no PostgreSQL server installed" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  ;;
stop)
  dir=${2:?usage: postgres.sh stop DIR}
  bin=$(bin_dir) || exit 0
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: postgres.sh start | restart DIR | stop DIR" >&2
  exit 2
  ;;
esac
