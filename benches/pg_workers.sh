#!/usr/bin/env bash
# Items per second of trivial calls worked by 1, 2 and 4 `voyager worker`
# processes on one PostgreSQL store, beside pgbench's transactions per
# second on the same server in the same run (the limit). Not a test.
#
#   eval "$(bash .ci/postgres.sh start)"
#   cargo build --release
#   bash benches/pg_workers.sh [ITEMS]          # default 20000
#   bash .ci/postgres.sh stop "$VOYAGER_TEST_PG_DIR"
set -euo pipefail

url=${VOYAGER_TEST_PG_URL:?start a server: eval \"\$(bash .ci/postgres.sh start)\"}
bin_dir=${VOYAGER_TEST_PG_BIN:-$(dirname "$(command -v pgbench)")}
items=${1:-20000}
voyager=${VOYAGER_BIN:-target/release/voyager}
base=${url%/*}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'action work(i) { i }\n' >"$work/work.vy"

psql() { "$bin_dir/psql" -q -X -v ON_ERROR_STOP=1 "$@"; }

psql "$url" -c "DROP DATABASE IF EXISTS voyager_bench" -c "CREATE DATABASE voyager_bench"
db="$base/voyager_bench"

"$bin_dir/pgbench" -q -i -s 1 "$db" >/dev/null 2>&1
tps=$("$bin_dir/pgbench" -c 4 -j 2 -T 10 -N "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
printf '%-28s %10s\n' "pgbench -N, 4 clients" "$tps tps"

for workers in 1 2 4; do
  "$voyager" enqueue --store "$db" "$work/work.vy" 'call(work, 0)' >/dev/null
  psql "$db" -c "SELECT count(voyager.enqueue(format('call(work, %s)', g))) FROM generate_series(1, $items) g" >/dev/null
  start=$(date +%s.%N)
  pids=()
  for _ in $(seq "$workers"); do
    "$voyager" worker --until-idle --store "$db" "$work/work.vy" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  rate=$(echo "($items + 1) / ($end - $start)" | bc)
  printf '%-28s %10s\n' "voyager worker x$workers" "$rate items/s"
done
