#!/usr/bin/env bash
# How fast a live capture can go: replays a recorded capture of real gRPC
# traffic (scripts/gencorpus.sh's veth.pcap: h2load against grpc-go, MTU
# 1500) with tcpreplay onto one end of a veth pair, at increasing packet
# rates, while grpcsniff captures the other end live with --json > /dev/null.
# Unlike scripts/bench/live.sh, no server and no client share the cores:
# this measures what grpcsniff itself keeps up with.
#
#   sudo scripts/bench/replay.sh [-f FILE] [RATE ...]
#
# RATE is packets per second for tcpreplay --pps, or "top" for as fast as
# tcpreplay goes (default: 50000 100000 200000 top). Per rate it prints the
# calls grpcsniff decoded out of those in the file, the kernel's drops, the
# calls/s and MB/s of the replay, and grpcsniff's CPU and peak RSS. Needs
# root; installs tcpreplay and time with apt-get if missing; the veth pair it
# creates is deleted on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

FILE=/tmp/grpcsniff-corpus/veth.pcap
RATES=()
while [ $# -gt 0 ]; do
	case $1 in
	-f) FILE=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) RATES+=("$1"); shift ;;
	esac
done
[ ${#RATES[@]} -gt 0 ] || RATES=(50000 100000 200000 top)

log() { printf '[replay] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (veth, live capture)"
[ -f "$FILE" ] || die "no $FILE: run scripts/gencorpus.sh first (or give -f FILE)"

need=()
command -v tcpreplay >/dev/null || need+=(tcpreplay)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "${need[@]}" >/dev/null 2>&1; } ||
		die "apt-get install ${need[*]} failed"
fi

TMP=$(mktemp -d /tmp/grpcsniff-replay.XXXXXX)
A=gsreplay0 B=gsreplay1
cleanup() {
	ip link del "$A" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip link del "$A" 2>/dev/null || true
ip link add "$A" mtu 1500 type veth peer name "$B" mtu 1500
ip link set "$A" up
ip link set "$B" up

(cd "$REPO" && CGO_ENABLED=0 go build -o "$TMP/grpcsniff" ./cmd/grpcsniff)
log "calls in $FILE (read from the file)"
total=$("$TMP/grpcsniff" -r "$FILE" --json 2>&1 >/dev/null | sed -n 's/^grpcsniff: \([0-9]*\) calls.*/\1/p')
size=$(stat -c %s "$FILE")
log "$total calls, $((size / 1000000)) MB"

printf '%-8s %10s %9s %12s %10s %9s %8s %8s\n' rate calls of-file kernel-drops calls/s MB/s CPU RSS-MB
for rate in "${RATES[@]}"; do
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$TMP/grpcsniff" -i "$B" --json >/dev/null 2>"$TMP/sniff.log" &
	sniff=$!
	for _ in $(seq 1 100); do
		grep -q 'capturing on' "$TMP/sniff.log" 2>/dev/null && break
		sleep 0.1
	done
	if [ "$rate" = top ]; then
		opt=(--topspeed)
	else
		opt=(--pps="$rate")
	fi
	tcpreplay -q -i "$A" "${opt[@]}" "$FILE" >"$TMP/replay.log" 2>&1 || die "tcpreplay failed: $(tail -n 3 "$TMP/replay.log")"
	secs=$(sed -n 's/.*Actual: [0-9]* packets ([0-9]* bytes) sent in \([0-9.]*\) seconds.*/\1/p' "$TMP/replay.log")
	sleep 1
	pkill -INT -P "$sniff" || true
	wait "$sniff" || true
	read -r _ user sys rss <"$TMP/time"
	calls=$(sed -n 's/^grpcsniff: \([0-9]*\) calls.*/\1/p' "$TMP/sniff.log")
	drops=$(sed -n 's/.* \([0-9]*\) dropped by the kernel.*/\1/p; s/.*0 packets dropped by the kernel.*/0/p' "$TMP/sniff.log" | head -n 1)
	printf '%-8s %10s %9s %12s %10.0f %9.1f %7.1fs %8d\n' "$rate" "$calls" "$total" "${drops:-?}" \
		"$(echo "$calls / $secs" | bc -l)" "$(echo "$size / $secs / 1000000" | bc -l)" "$(echo "$user + $sys" | bc -l)" $((rss / 1024))
done
