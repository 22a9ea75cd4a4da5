#!/usr/bin/env bash
# Live capture under load: h2load drives unary gRPC calls at the grpc-go
# interop server on loopback while grpcsniff captures them live with
# --json > /dev/null. Prints, per run, the calls/s h2load sustained, the calls
# grpcsniff decoded, the packets it captured and the kernel's drops, its CPU
# time and peak RSS.
#
#   sudo scripts/bench/live.sh [-n CALLS] [-c CONNS] [-m STREAMS] [--rps R] [--empty]
#
# Default: 400000 UnaryCall (1 KB each way), 50 connections x 20 streams,
# as fast as h2load goes; --rps caps the rate per connection (h2load --rps),
# --empty sends EmptyCall instead. Needs root (AF_PACKET); installs
# nghttp2-client and time with apt-get if missing. The load generator, the
# server and grpcsniff share this machine's cores: the numbers are for all
# three on one host.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

N=400000 CONNS=50 STREAMS=20 RPS= KIND=UnaryCall PORT=50061
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-c) CONNS=$2; shift 2 ;;
	-m) STREAMS=$2; shift 2 ;;
	--rps) RPS=$2; shift 2 ;;
	--empty) KIND=EmptyCall; shift ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-n CALLS] [-c CONNS] [-m STREAMS] [--rps R] [--empty]" >&2; exit 2 ;;
	esac
done

log() { printf '[live-bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (live capture)"

need=()
command -v h2load >/dev/null || need+=(nghttp2-client)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "${need[@]}" >/dev/null 2>&1; } ||
		die "apt-get install ${need[*]} failed"
fi

TMP=$(mktemp -d /tmp/grpcsniff-live.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

log "building grpcsniff and the grpc-go interop server"
(cd "$REPO" && CGO_ENABLED=0 go build -o "$TMP/grpcsniff" ./cmd/grpcsniff)
(cd "$REPO/testdata/gen/go" && go build -o "$TMP/interop_server" google.golang.org/grpc/interop/server)

# Request bodies, as in scripts/gencorpus.sh.
if [ "$KIND" = EmptyCall ]; then
	printf '\x00\x00\x00\x00\x00' >"$TMP/body.bin"
else
	{
		printf '\x00\x00\x00\x04\x09\x10\x80\x08\x1a\x83\x08\x12\x80\x08'
		head -c 1024 /dev/zero | tr '\0' 'a'
	} >"$TMP/body.bin"
fi

"$TMP/interop_server" --port=$PORT --use_tls=false >"$TMP/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ -n "$(ss -Hltn "sport = :$PORT")" ] && break
	sleep 0.1
done

/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$TMP/grpcsniff" -i lo -f "tcp port $PORT" --json >/dev/null 2>"$TMP/sniff.log" &
SNIFF=$!
PIDS+=($SNIFF)
for _ in $(seq 1 100); do
	grep -q 'capturing on' "$TMP/sniff.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'capturing on' "$TMP/sniff.log" || die "grpcsniff did not start: $(cat "$TMP/sniff.log")"

rate=()
[ -z "$RPS" ] || rate=(--rps "$RPS")
log "h2load: $N $KIND, $CONNS connections x $STREAMS streams ${RPS:+at $RPS calls/s per connection}"
h2load -n "$N" -c "$CONNS" -m "$STREAMS" -t 1 "${rate[@]}" -d "$TMP/body.bin" \
	-H 'content-type: application/grpc' -H 'te: trailers' \
	"http://127.0.0.1:$PORT/grpc.testing.TestService/$KIND" >"$TMP/h2load.log" 2>&1 || die "h2load failed: $(tail -n 5 "$TMP/h2load.log")"
sleep 1
# grpcsniff is the child of time: signal it, not time.
pkill -INT -P "$SNIFF" || true
wait "$SNIFF" || true

read -r wall user sys rss <"$TMP/time"
req=$(awk '/^finished in/ {print $0}' "$TMP/h2load.log")
calls=$(sed -n 's/^grpcsniff: \([0-9]*\) calls.*/\1/p' "$TMP/sniff.log")
echo "load:      $req"
grep '^requests:' "$TMP/h2load.log" | sed 's/^/           /'
echo "grpcsniff: $calls calls decoded; $(grep -E 'packets captured|dropped' "$TMP/sniff.log" | sed 's/^grpcsniff: //' | paste -sd ';' -)"
echo "grpcsniff: CPU ${user}s user + ${sys}s system over ${wall}s wall ($(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN {printf "%.0f", 100*(u+s)/w}')% of one core), peak RSS $((rss / 1024)) MB"
