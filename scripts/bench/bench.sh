#!/usr/bin/env bash
# Throughput of grpcsniff against tshark on the same captures.
#
#   scripts/bench/bench.sh [-n REPS] [-p PORT] [-b BINARY] [--no-tshark] [FILE|DIR ...]
#
# Default input: /tmp/grpcsniff-corpus-small/*.pcap (see scripts/gencorpus.sh).
# Builds the binary, then for each file runs, alternating, REPS times
# (default 3):
#   tshark    tshark -r X -Y grpc -T fields -e tcp.stream -e http2.streamid
#             -e http2.headers.path -e grpc.message_length -d tcp.port==PORT,http2
#   json      grpcsniff -q -r X --json > /dev/null
#   text      grpcsniff -q -r X --text > /dev/null
#   stats     grpcsniff -q -r X --stats > /dev/null
# and prints, per file and tool, the median wall time, MB/s (capture file
# bytes), packets/s, calls/s, the speed ratio to tshark and the peak RSS
# (largest of the runs, /usr/bin/time -f %M), each run from a warm page
# cache. PORT (default 50051) is what tshark is told to decode as HTTP/2.
# -b runs a grpcsniff binary built elsewhere (e.g. from an older commit)
# instead of building this tree.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

REPS=3
PORT=50051
TSHARK=1
BINARY=
INPUTS=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) REPS=$2; shift 2 ;;
	-p) PORT=$2; shift 2 ;;
	-b) BINARY=$(realpath "$2"); shift 2 ;;
	--no-tshark) TSHARK=0; shift ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: $0 [-n REPS] [-p PORT] [-b BINARY] [--no-tshark] [FILE|DIR ...]" >&2; exit 2 ;;
	*) INPUTS+=("$1"); shift ;;
	esac
done
[ ${#INPUTS[@]} -gt 0 ] || INPUTS=(/tmp/grpcsniff-corpus-small)

FILES=()
for i in "${INPUTS[@]}"; do
	if [ -d "$i" ]; then
		for f in "$i"/*.pcap "$i"/*.pcapng; do
			[ -f "$f" ] && FILES+=("$f")
		done
	else
		FILES+=("$i")
	fi
done
[ ${#FILES[@]} -gt 0 ] || { echo "bench: no capture files (run scripts/gencorpus.sh --small first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then
	echo "bench: tshark not found, running without it" >&2
	TSHARK=0
fi

TMP=$(mktemp -d /tmp/grpcsniff-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$BINARY" ]; then
	BINARY=$TMP/grpcsniff
	(cd "$REPO" && go build -o "$BINARY" ./cmd/grpcsniff)
fi

TOOLS=(json text stats)
[ "$TSHARK" = 0 ] || TOOLS=(tshark json text stats)

# measure TOOL FILE: runs once; prints "SECONDS RSS_KB" (RSS from
# /usr/bin/time -f %M).
measure() {
	local tool=$1 f=$2 cmd
	case $tool in
	tshark) cmd=(tshark -r "$f" -Y grpc -T fields -e tcp.stream -e http2.streamid -e http2.headers.path
		-e grpc.message_length -d "tcp.port==$PORT,http2") ;;
	json) cmd=("$BINARY" -q -r "$f" --json) ;;
	text) cmd=("$BINARY" -q -r "$f" --text) ;;
	stats) cmd=("$BINARY" -q -r "$f" --stats) ;;
	esac
	local t0 t1
	# Every run starts with the capture in the page cache, whatever evicted
	# it since the last (a proactive reclaimer pages out files idle for
	# half a minute on the machine these numbers were taken on): the
	# comparison is of decoding, not of the disk.
	cat "$f" >/dev/null
	t0=$(date +%s%N)
	/usr/bin/time -o "$TMP/time" -f '%M' "${cmd[@]}" >/dev/null 2>"$TMP/stderr" || {
		local rc=$?
		# exit 3 (damaged capture) still decodes everything it can
		[ "$tool" != tshark ] && [ $rc = 3 ] || { echo "bench: $tool failed on $f (exit $rc): $(tail -n 3 "$TMP/stderr")" >&2; exit 1; }
	}
	t1=$(date +%s%N)
	# wall time from the shell's clock (ns; /usr/bin/time's %e has only 10 ms)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}') $(tail -n 1 "$TMP/time")"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-10s %-6s %8s %9s %11s %9s %8s %9s\n' file tool "time s" "MB/s" "packets/s" "calls/s" "×tshark" "RSS MB"
for f in "${FILES[@]}"; do
	bytes=$(stat -c %s "$f")
	# packets and calls, from grpcsniff's own summary
	summary=$("$BINARY" -r "$f" --text 2>&1 >/dev/null | grep -m1 ' calls; ' || true)
	calls=$(sed -n 's/^grpcsniff: \([0-9]*\) calls; .*/\1/p' <<<"$summary")
	packets=$(sed -n 's/.* calls; \([0-9]*\) packets.*/\1/p' <<<"$summary")
	: "${calls:=0}" "${packets:=0}"
	for t in "${TOOLS[@]}"; do : >"$TMP/$t.times"; : >"$TMP/$t.rss"; done
	for _ in $(seq 1 "$REPS"); do
		for t in "${TOOLS[@]}"; do
			read -r secs rss < <(measure "$t" "$f")
			echo "$secs" >>"$TMP/$t.times"
			echo "$rss" >>"$TMP/$t.rss"
		done
	done
	tsh=""
	[ "$TSHARK" = 0 ] || tsh=$(median <"$TMP/tshark.times")
	for t in "${TOOLS[@]}"; do
		secs=$(median <"$TMP/$t.times")
		rss=$(sort -n "$TMP/$t.rss" | tail -n 1)
		awk -v f="$(basename "$f")" -v t="$t" -v s="$secs" -v b="$bytes" -v p="$packets" -v c="$calls" -v r="$rss" -v ts="$tsh" 'BEGIN {
			ratio = (ts == "" ? "-" : sprintf("%.1f", ts / s))
			printf "%-10s %-6s %8.3f %9.1f %11.0f %9.0f %8s %9.1f\n", f, t, s, b / 1e6 / s, p / s, c / s, ratio, r / 1024
		}'
	done
	echo "# $(basename "$f"): $((bytes / 1000000)) MB, $packets packets, $calls calls, $REPS runs each (median time, max RSS)"
done
