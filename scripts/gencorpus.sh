#!/usr/bin/env bash
# Generates the throughput benchmark corpus: real gRPC traffic between the
# grpc-go interop server and h2load (nghttp2-client), captured with tcpdump.
#
#   sudo scripts/gencorpus.sh [--small] [--lo-only] [DIR]     # DIR default /tmp/grpcsniff-corpus
#
# Writes into DIR (never into the repository):
#   lo.pcap      over loopback (MTU 65536: few, large packets)
#   veth.pcap    across a veth pair between two network namespaces created
#                for the run (MTU 1500, segmentation offloads off: packet
#                sizes as on a real network)
#   corpus.txt   what was generated (files, sizes, calls, settings)
# Each capture holds EmptyCall and UnaryCall (~1 KB request and response
# payloads) from many connections with many concurrent streams each.
# Full mode makes >= 300 MB in total; --small about 30 MB.
#
# Needs root (tcpdump, ip netns). Installs nghttp2-client and tcpdump with
# apt-get if missing. Every process it starts is killed by PID on exit, the
# namespaces it created are deleted.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export PATH=/usr/local/go/bin:$PATH

SMALL=0
LOONLY=0
OUTDIR=/tmp/grpcsniff-corpus
for a in "$@"; do
	case $a in
	--small) SMALL=1 ;;
	--lo-only) LOONLY=1 ;;
	-h | --help)
		sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "usage: $0 [--small] [--lo-only] [DIR]" >&2
		exit 2
		;;
	*) OUTDIR=$a ;;
	esac
done

log() { printf '[gencorpus] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump, ip netns)"
# Thousands of connections need as many descriptors in h2load and the server.
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
OUTDIR=$(realpath -m "$OUTDIR")
case "$OUTDIR/" in "$REPO"/*) die "the corpus must not be written inside the repository ($REPO)" ;; esac
mkdir -p "$OUTDIR"
WORK=$OUTDIR/.work
BIN=$WORK/bin
LOGS=$WORK/logs
mkdir -p "$BIN" "$LOGS"

# Per capture: connections x concurrent streams, and calls of each kind.
# A UnaryCall is ~2.3 KB of TCP payload (1 KB each way plus headers), an
# EmptyCall ~150 B.
# UNARY and EMPTY in the environment override the counts (0 leaves that
# kind out), e.g. UNARY=0 EMPTY=400000 for a capture of many small calls;
# CONNS and STREAMS the connections and concurrent streams of each;
# --lo-only skips the veth capture.
if [ "$SMALL" = 1 ]; then
	UNARY=${UNARY:-6000} EMPTY=${EMPTY:-4000}
else
	UNARY=${UNARY:-72000} EMPTY=${EMPTY:-40000}
fi
CONNS=${CONNS:-50} STREAMS=${STREAMS:-20} THREADS=2
PORT=50051
NS_SRV=gsbench-srv NS_CLI=gsbench-cli
VETH_SRV=gsb-srv0 VETH_CLI=gsb-cli0
ADDR_SRV=10.231.0.1 ADDR_CLI=10.231.0.2

# ---------------------------------------------------------------- processes
PIDS=()
NETNS_MADE=0
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	PIDS=()
	if [ "$NETNS_MADE" = 1 ]; then
		ip netns del "$NS_SRV" 2>/dev/null || true
		ip netns del "$NS_CLI" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_port PORT [NETNS]
wait_port() {
	local i pre=()
	[ -z "${2:-}" ] || pre=(ip netns exec "$2")
	for i in $(seq 1 200); do
		if [ -n "$("${pre[@]}" ss -Hltn "sport = :$1")" ]; then
			return 0
		fi
		sleep 0.1
	done
	die "nothing listening on port $1 (see $LOGS)"
}

# ---------------------------------------------------------------- installs
need=()
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v capinfos >/dev/null || need+=(wireshark-common)
if [ "${#need[@]}" -gt 0 ]; then
	log "apt-get install ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" >"$LOGS/apt.log" 2>&1 || {
		apt-get update >>"$LOGS/apt.log" 2>&1
		apt-get install -y "${need[@]}" >>"$LOGS/apt.log" 2>&1
	} || die "apt-get failed, see $LOGS/apt.log"
fi

log "building the grpc-go interop server (nested module testdata/gen/go)"
(cd "$REPO/testdata/gen/go" && go build -o "$BIN/interop_server" google.golang.org/grpc/interop/server) ||
	die "go build interop_server failed"

# ---------------------------------------------------------------- bodies
# gRPC-framed request bodies: flag 0, 4-byte big-endian length, message.
#   EmptyCall:  grpc.testing.Empty {}
#   UnaryCall:  grpc.testing.SimpleRequest{response_size: 1024 (field 2),
#               payload (field 3): Payload{body (field 2): 1024 bytes}}
printf '\x00\x00\x00\x00\x00' >"$WORK/empty.bin"
{
	printf '\x00\x00\x00\x04\x09'           # frame: 1033 bytes
	printf '\x10\x80\x08'                   # response_size = 1024
	printf '\x1a\x83\x08'                   # payload, 1027 bytes
	printf '\x12\x80\x08'                   # body, 1024 bytes
	head -c 1024 /dev/zero | tr '\0' 'a'    # the body
} >"$WORK/unary.bin"
[ "$(stat -c %s "$WORK/unary.bin")" = 1038 ] || die "unary body has the wrong size"

# run_load PREFIX HOST: EmptyCall then UnaryCall with h2load; PREFIX is a
# command prefix (e.g. ip netns exec NS) or empty.
run_load() {
	local host=$1
	shift
	local m
	for m in "EmptyCall $EMPTY $WORK/empty.bin" "UnaryCall $UNARY $WORK/unary.bin"; do
		local name n body
		read -r name n body <<<"$m"
		[ "$n" -gt 0 ] || continue
		log "  h2load $name: $n calls, $CONNS connections x $STREAMS streams"
		"$@" h2load -n "$n" -c "$CONNS" -m "$STREAMS" -t "$THREADS" -d "$body" \
			-H 'content-type: application/grpc' -H 'te: trailers' \
			"http://$host:$PORT/grpc.testing.TestService/$name" >>"$LOGS/h2load.log" 2>&1 ||
			die "h2load $name failed (see $LOGS/h2load.log)"
		grep -q " 0 failed, 0 errored" <(tail -n 20 "$LOGS/h2load.log") ||
			log "  warning: h2load reported failures: $(grep 'requests:' "$LOGS/h2load.log" | tail -n 1)"
	done
}

# tcpdump_start FILE PREFIX... -- ARGS: starts tcpdump; PID in $CAPPID.
cap_start() {
	local file=$1 iface=$2
	shift 2
	rm -f "$file"
	"$@" tcpdump -i "$iface" -Z root -n -s 262144 -B 65536 -w "$file" "tcp port $PORT" >"$LOGS/tcpdump-$(basename "$file").log" 2>&1 &
	CAPPID=$!
	PIDS+=("$CAPPID")
	sleep 1
	kill -0 "$CAPPID" 2>/dev/null || die "tcpdump failed: $(cat "$LOGS/tcpdump-$(basename "$file").log")"
}
cap_stop() {
	sleep 1
	kill -INT "$CAPPID" 2>/dev/null || true
	wait "$CAPPID" 2>/dev/null || true
	grep -h "dropped by kernel" "$LOGS/tcpdump-$(basename "$1").log" | sed 's/^/[gencorpus]   tcpdump: /' >&2 || true
}

# ---------------------------------------------------------------- (a) lo
gen_lo() {
	local f=$OUTDIR/lo.pcap srv
	log "lo.pcap: interop server on 127.0.0.1:$PORT"
	"$BIN/interop_server" --port=$PORT --use_tls=false >"$LOGS/server-lo.log" 2>&1 &
	srv=$!
	PIDS+=("$srv")
	wait_port $PORT
	cap_start "$f" lo
	run_load 127.0.0.1
	cap_stop "$f"
	stop "$srv"
}

# ---------------------------------------------------------------- (b) veth
gen_veth() {
	local f=$OUTDIR/veth.pcap srv
	log "veth.pcap: namespaces $NS_SRV ($ADDR_SRV) and $NS_CLI ($ADDR_CLI), veth MTU 1500"
	ip netns del "$NS_SRV" 2>/dev/null || true
	ip netns del "$NS_CLI" 2>/dev/null || true
	NETNS_MADE=1
	ip netns add "$NS_SRV"
	ip netns add "$NS_CLI"
	ip link add "$VETH_SRV" netns "$NS_SRV" mtu 1500 type veth peer name "$VETH_CLI" netns "$NS_CLI" mtu 1500
	local ns dev addr
	for ns in "$NS_SRV:$VETH_SRV:$ADDR_SRV" "$NS_CLI:$VETH_CLI:$ADDR_CLI"; do
		IFS=: read -r ns dev addr <<<"$ns"
		ip -n "$ns" addr add "$addr/24" dev "$dev"
		# No segmentation offload: the capture sees MTU-sized segments,
		# not 64 KB super-packets.
		ip -n "$ns" link set dev "$dev" gso_max_size 1500 gso_max_segs 1 2>/dev/null ||
			log "  (could not lower gso_max_size on $dev; packets may exceed the MTU in the capture)"
		ip -n "$ns" link set dev "$dev" up
		ip -n "$ns" link set dev lo up
	done
	ip netns exec "$NS_SRV" "$BIN/interop_server" --port=$PORT --use_tls=false >"$LOGS/server-veth.log" 2>&1 &
	srv=$!
	PIDS+=("$srv")
	wait_port $PORT "$NS_SRV"
	cap_start "$f" "$VETH_SRV" ip netns exec "$NS_SRV"
	run_load "$ADDR_SRV" ip netns exec "$NS_CLI"
	cap_stop "$f"
	stop "$srv"
	ip netns del "$NS_SRV"
	ip netns del "$NS_CLI"
	NETNS_MADE=0
}

: >"$LOGS/h2load.log"
gen_lo
[ "$LOONLY" = 1 ] || gen_veth

{
	echo "# grpcsniff benchmark corpus ($(date -u +%FT%TZ)), mode: $([ "$SMALL" = 1 ] && echo small || echo full)"
	echo "# per capture: $EMPTY EmptyCall + $UNARY UnaryCall (1 KB payloads), $CONNS connections x $STREAMS streams, port $PORT"
	echo "# tshark needs: -d tcp.port==$PORT,http2"
	for f in lo.pcap veth.pcap; do
		[ -f "$OUTDIR/$f" ] || continue
		printf '%s\t%s bytes\t%s packets\n' "$f" "$(stat -c %s "$OUTDIR/$f")" \
			"$(capinfos -c -M "$OUTDIR/$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')"
	done
} >"$OUTDIR/corpus.txt"
cat "$OUTDIR/corpus.txt" >&2
log "done: $OUTDIR"
