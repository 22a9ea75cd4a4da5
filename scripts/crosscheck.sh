#!/bin/sh
# Cross-checks grpcsniff's calls (gRPC and gRPC-Web over HTTP/2 and HTTP/1.1,
# and plain HTTP calls) against tshark's on the test captures.
#
#   scripts/crosscheck.sh [-q] [-no-fake-headers] [FILE...]
#
# Installs tshark when it is missing (apt-get; "apt-get update" only when the
# install fails without it), builds grpcsniff and the cross-check tool, and
# runs the tool on FILE... (default: testdata/pcaps/*.pcap* and the TLS
# captures testdata/pcaps/tls/*.pcap, *.pcapng; a capture with a NAME.keys key
# log next to it is decrypted with it by both tools). The last line
# of output is "crosscheck: N passed, M failed"; the exit status is non-zero
# when a file failed. See scripts/crosscheck/main.go for what is compared.
set -eu

cd "$(dirname "$0")/.."

if ! command -v tshark >/dev/null 2>&1; then
	SUDO=
	if [ "$(id -u)" != 0 ]; then
		SUDO=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "crosscheck.sh: installing tshark" >&2
	if ! $SUDO apt-get install -y -q tshark >&2; then
		$SUDO apt-get update -q >&2
		$SUDO apt-get install -y -q tshark >&2
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

go build -o "$tmp/grpcsniff" ./cmd/grpcsniff
go build -o "$tmp/crosscheck" ./scripts/crosscheck

opts=
files=
for a in "$@"; do
	case $a in
	-*) opts="$opts $a" ;;
	*) files=yes ;;
	esac
done

status=0
if [ -n "$files" ]; then
	# shellcheck disable=SC2086
	"$tmp/crosscheck" -grpcsniff "$tmp/grpcsniff" "$@" || status=$?
else
	# shellcheck disable=SC2086
	"$tmp/crosscheck" -grpcsniff "$tmp/grpcsniff" $opts testdata/pcaps/*.pcap* \
		testdata/pcaps/tls/*.pcap testdata/pcaps/tls/*.pcapng || status=$?
fi
exit $status
