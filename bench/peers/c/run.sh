#!/usr/bin/env bash
# run.sh - build the one-thread C peers (libdill, neco) from their public
# sources and run goc-bench's yield, pingpong and spawn with each, beside
# goc-bench at --workers 1 and Go at GOMAXPROCS=1, in one run.
#
#   bench/peers/c/run.sh LIBDILL_SRC NECO_SRC [GOC_BENCH]
#
# LIBDILL_SRC and NECO_SRC are checkouts of the two projects (nothing of
# them is kept in this repository); GOC_BENCH defaults to
# build/bench/goc-bench. Each line is goc-bench's JSON with a "peer" field.
# Builds go to ${PEER_BUILD:-/tmp/goc-cpeers}. ROUNDS (default 3) repeats
# the whole table, peers interleaved, so drift on a shared host shows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dill=${1:?usage: run.sh LIBDILL_SRC NECO_SRC [GOC_BENCH]}
neco=${2:?usage: run.sh LIBDILL_SRC NECO_SRC [GOC_BENCH]}
gocb=${3:-$root/build/bench/goc-bench}
out=${PEER_BUILD:-/tmp/goc-cpeers}
rounds=${ROUNDS:-3}
cc=${CC:-cc}
mkdir -p "$out"

# libdill: its own CMake build (static), then our program against it.
if [ ! -f "$out/libdill/libdill.a" ]; then
    cmake -S "$dill" -B "$out/libdill" -DCMAKE_BUILD_TYPE=Release \
          -DBUILD_SHARED_LIBS=OFF -DCMAKE_C_FLAGS="-O2" >/dev/null
    cmake --build "$out/libdill" -j 2 --target dill >/dev/null
fi
"$cc" -O2 -I"$dill" -I"$here" "$here/dill_bench.c" "$out/libdill/libdill.a" \
      -lssl -lcrypto -lpthread -o "$out/dill_bench"
# neco: one C file, compiled in, as its README says to.
"$cc" -O2 -I"$neco" -I"$here" "$here/neco_bench.c" "$neco/neco.c" -lpthread -o "$out/neco_bench"
# Go twin (GOMAXPROCS=1).
(cd "$root/bench/peers/go" && go build -o "$out/go-bench" goc_peer.go)

for r in $(seq "$rounds"); do
    for w in yield pingpong spawn; do
        "$gocb" "$w" --workers 1 | sed 's/^{/{"peer":"goc",/'
        "$out/dill_bench" "$w"
        "$out/neco_bench" "$w"
        GOMAXPROCS=1 "$out/go-bench" "$w" --workers 1 2>/dev/null | sed 's/^{/{"peer":"go",/' || true
    done
done
