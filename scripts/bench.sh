#!/usr/bin/env bash
# bench.sh: the command every figure in BENCHMARKS.md comes from.
#
#   scripts/bench.sh                      # 1M events, every phase, own server
#   N=10000000 scripts/bench.sh           # the 10M corpus of issue 3
#   scripts/bench.sh --phases tcp,merge,query --json /tmp/bench.json
#
# It builds the binary, writes the gencorpus JSON-lines corpus into /tmp once
# (reused while it is less than a week old, so its timestamps stay well inside
# the default 30-day retention), then runs `logcaster bench`, which starts its
# own server with default settings on free loopback ports and a fresh data
# folder, and prints the table. Extra arguments go to `logcaster bench`.
set -euo pipefail
export PATH=$PATH:/usr/local/go/bin

repo=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-1000000}
corpus=${CORPUS:-/tmp/logcaster-corpus-$n.jsonl}
gencorpus=${GENCORPUS:-$repo/../shared/bench/gencorpus/main.go}
out=${TMPDIR:-/tmp}/logcaster-bench
mkdir -p "$out"

echo "bench.sh: building logcaster" >&2
(cd "$repo" && go build -o "$out/logcaster" ./cmd/logcaster)

if [[ ! -s $corpus ]] || [[ -n $(find "$corpus" -mtime +7 2>/dev/null) ]]; then
	echo "bench.sh: generating $n events into $corpus" >&2
	# Into a temp name first, so an interrupted run leaves no half corpus.
	(cd "$(dirname "$gencorpus")" && go run "$gencorpus" -n "$n" -format jsonl) >"$corpus.tmp"
	mv "$corpus.tmp" "$corpus"
fi

exec "$out/logcaster" bench --corpus "$corpus" --gencorpus "$gencorpus" "$@"
