#!/bin/sh
# Whole-process comparison of W1-W3 and start-up beside lua5.4, luajit and
# python3 (W3 and start-up only): builds release, runs hyperfine, prints a
# table of best-of-runs times and Voyager/Lua 5.4 ratios.
# Needs: hyperfine lua5.4 luajit python3 (see README.md).
# RUNS=5 benches/compare/run.sh to change the number of runs (default 3).
set -eu
cd "$(dirname "$0")/../.."
cargo build --release --quiet
D=benches/compare
RUNS=${RUNS:-3}
OUT=$(mktemp -d)
# A copy, as an installed binary would be: the linker's own output file
# starts slower (more page faults: it sits in the page cache in pieces).
cp target/release/voyager "$OUT/voyager"
V=$OUT/voyager

# bench NAME CMD... : times each command, one JSON file per workload
bench() {
    name=$1; shift
    set -- --runs "$RUNS" --warmup 1 -N --export-json "$OUT/$name.json" "$@"
    hyperfine --style none "$@" >/dev/null
}

# W1 runs with --clock virtual: its delay(1s) costs nothing.
bench w1 -n voyager "$V run --clock virtual $D/w1.vy" \
    -n lua5.4 "lua5.4 $D/w1.lua" -n luajit "luajit $D/w1.lua"
bench w2 -n voyager "$V run $D/w2.vy" -n lua5.4 "lua5.4 $D/w2.lua" \
    -n luajit "luajit $D/w2.lua"
bench w3 -n voyager "$V run $D/w3.vy" -n lua5.4 "lua5.4 $D/w3.lua" \
    -n luajit "luajit $D/w3.lua" -n python3 "python3 $D/w3.py"
bench start -n voyager "$V run $D/hello.vy" -n lua5.4 "lua5.4 $D/hello.lua" \
    -n luajit "luajit $D/hello.lua" -n python3 "python3 $D/hello.py"

python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
print(f"{'workload':<9}{'voyager':>10}{'lua5.4':>10}{'luajit':>10}{'python3':>10}{'voy/lua':>9}")
for w in ["w1", "w2", "w3", "start"]:
    res = {r["command"]: min(r["times"]) for r in json.load(open(os.path.join(out, w + ".json")))["results"]}
    unit, scale = ("ms", 1e3) if w == "start" else ("s", 1)
    cell = lambda k: f"{res[k]*scale:.3f}{unit}" if k in res else "-"
    print(f"{w:<9}{cell('voyager'):>10}{cell('lua5.4'):>10}{cell('luajit'):>10}{cell('python3'):>10}"
          f"{res['voyager']/res['lua5.4']:>8.2f}x")
PY
rm -rf "$OUT"
