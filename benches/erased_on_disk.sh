#!/usr/bin/env bash
# What sled keeps on disk after an erasure, and what the store's rewrite costs.
#
#   benches/erased_on_disk.sh [THREADS]     (default 300; uses target/release/guichet if built,
#                                            else target/debug/guichet)
#
# Fills a fresh store through a running `guichet serve`, erases one citizen through the staff
# command, then greps every file of the store for the erased text: while serving, after the
# server stops, after three more openings of a copy whose rewrite marker was removed (sled
# alone), and after the rewrite guichet does at the next opening.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-300}
bin=target/release/guichet
[ -x "$bin" ] || bin=target/debug/guichet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GUICHET__STAFF__TOKEN=measure GUICHET__FLOOD__PER_ADDRESS_BURST=1000000 RUST_LOG=warn
store="$work/store"
port=$((20000 + RANDOM % 20000))
"$bin" --data-dir "$store" serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
for _ in $(seq 50); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 0.2; done
for i in $(seq "$threads"); do
  curl -s -o /dev/null -X POST "localhost:$port/api/messages" -H 'content-type: application/json' \
    -d "{\"sender\":\"filler$i\",\"text\":\"Message ordinaire numero $i sur les collectes\"}"
done
curl -s -o /dev/null -X POST "localhost:$port/api/messages" -H 'content-type: application/json' \
  -d '{"sender":"measured-citizen","text":"ERASED-TEXT-4242 au 5 rue Test"}'
# The store deflates values of 96 bytes or more (a 0x01 byte, then a deflate stream), so a
# plain grep would miss the text: every file is searched as it is and inside each stream.
found() {
  python3 - "$1" <<'PY'
import os, sys, zlib
needle = b"ERASED-TEXT-4242"
def holds(data):
    if needle in data:
        return True
    at = data.find(b"\x01")
    while at != -1:
        try:
            if needle in zlib.decompressobj(-15).decompress(data[at + 1:at + 65537], 1 << 16):
                return True
        except zlib.error:
            pass
        at = data.find(b"\x01", at + 1)
    return False
files = [os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs]
print("present" if any(holds(open(f, "rb").read()) for f in files) else "absent")
PY
}
echo "before the erasure:            $(found "$store")"
"$bin" --data-dir "$store" citizen erase web measured-citizen >/dev/null
echo "erased, server running:        $(found "$store")"
kill -TERM "$server"; wait "$server" || true
echo "erased, server stopped:        $(found "$store")   ($(du -sh "$store" | cut -f1))"
cp -r "$store" "$work/plain"; rm "$work/plain/rewrite-pending"
for _ in 1 2; do "$bin" --data-dir "$work/plain" threads --state all >/dev/null; done
start=$(date +%s%N)
"$bin" --data-dir "$work/plain" threads --state all >/dev/null
plain_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "sled alone, 3 more openings:   $(found "$work/plain")   ($(du -sh "$work/plain" | cut -f1)), an opening took $plain_ms ms"
start=$(date +%s%N)
"$bin" --data-dir "$store" threads --state all >/dev/null
end=$(date +%s%N)
echo "after guichet's rewrite:       $(found "$store")   ($(du -sh "$store" | cut -f1)), opening with the rewrite took $(( (end - start) / 1000000 )) ms"
