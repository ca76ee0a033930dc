#!/usr/bin/env bash
# Relay throughput with and without a `swiftman connect` session attached to
# the flooding process, in the same run (rounds interleaved):
#
#   benchmarks/attach-throughput.sh [BIN] [BYTES] [ROUNDS]
#
# One instance prints BYTES of 56-byte lines (`yes … | head -c BYTES`) after a
# 1 s pause (time for `connect` to attach); swiftman's stdout goes to a pipe
# read by cat. The figure is the flood's own wall time, from its first byte to
# its last byte written: swiftman reads as fast as it relays. Modes:
#   none      no session
#   attached  one `connect` reading everything (its stdout to /dev/null)
#   stalled   one `connect` whose stdout nobody reads (the session drops bytes)
set -euo pipefail
BIN=${1:-$(cd "$(dirname "$0")/.." && pwd)/.build/x86_64-unknown-linux-gnu/release/swiftman}
BYTES=${2:-500000000}
ROUNDS=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > Procfile <<EOF
flood: sleep 1; s=\$(date +%s%N); yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c $BYTES; e=\$(date +%s%N); echo \$(( (e - s) / 1000000 )) > $work/elapsed
EOF

# connect's stdin: a FIFO held open (never at EOF, which would detach it).
mkfifo -m 600 in stall
exec 8<>in 9<>stall

run() {
    local mode=$1
    rm -f elapsed
    "$BIN" start --socket "$work/s.sock" --no-timestamp | cat > /dev/null &
    local formation=$!
    local client=
    if [[ $mode != none ]]; then
        for _ in $(seq 50); do [[ -S $work/s.sock ]] && break; sleep 0.02; done
        if [[ $mode == attached ]]; then
            "$BIN" connect flood --socket "$work/s.sock" < "$work/in" > /dev/null 2>&1 &
        else
            # Its stdout: a FIFO held open here and never read.
            "$BIN" connect flood --socket "$work/s.sock" < "$work/in" > "$work/stall" 2>/dev/null &
        fi
        client=$!
    fi
    wait "$formation"
    if [[ -n $client ]]; then
        kill "$client" 2>/dev/null || true
        wait "$client" 2>/dev/null || true
    fi
    local ms
    ms=$(cat elapsed)
    awk -v b="$BYTES" -v ms="$ms" -v m="$mode" 'BEGIN { printf "%-9s %6d ms  %7.1f MB/s\n", m, ms, b / 1e6 / (ms / 1000) }'
}

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    run none
    run attached
    run stalled
done
