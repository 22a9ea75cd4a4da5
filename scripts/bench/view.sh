#!/usr/bin/env bash
# The interactive view on a capture, driven in a real terminal (tmux), side
# by side with --json on the same file: how long until the whole list is
# loaded (the title says "done"), how long a key (j) pressed while it loads
# takes to move the cursor (key_ms, with tmux's own polling in it), how
# long a filter typed into / takes to be applied, the peak RSS of each, and
# the same for --json.
#
#   scripts/bench/view.sh [-b BINARY] [-f FILTER] FILE...
#
# FILTER (default 'status != OK') is typed after loading; its time is from
# the enter key to the title counting the filtered calls. Builds the binary
# unless -b names one. Needs tmux and GNU time (installs them with apt-get
# when missing and root). Each view runs in a 200x50 terminal.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

BIN= FILTER='status != OK'
while [ $# -gt 0 ]; do
	case $1 in
	-b) BIN=$2; shift 2 ;;
	-f) FILTER=$2; shift 2 ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: $0 [-b BINARY] [-f FILTER] FILE..." >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-b BINARY] [-f FILTER] FILE..." >&2; exit 2; }

need=()
command -v tmux >/dev/null || need+=(tmux)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "view.sh needs ${need[*]}" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
work=$(mktemp -d)
trap 'tmux kill-session -t grpcsniff-view-bench 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "$BIN" ]; then
	BIN=$work/grpcsniff
	(cd "$REPO" && go build -o "$BIN" ./cmd/grpcsniff)
fi

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# waitfor PATTERN: until the terminal shows it (at most 10 minutes).
waitfor() {
	local deadline=$(($(date +%s) + 600))
	until tmux capture-pane -p -t grpcsniff-view-bench | grep -q -- "$1"; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "view.sh: the view never showed $1" >&2; tmux capture-pane -p -t grpcsniff-view-bench >&2; exit 1; }
		sleep 0.05
	done
}

printf '%-28s %10s %8s %10s %10s %8s %8s\n' file json_s json_MB view_load_s filter_s view_MB key_ms
for f in "$@"; do
	js=$(now)
	/usr/bin/time -f %M -o "$work/json.rss" "$BIN" -q -r "$f" --json >/dev/null
	je=$(now)
	tmux kill-session -t grpcsniff-view-bench 2>/dev/null || true
	s=$(now)
	tmux new-session -d -s grpcsniff-view-bench -x 200 -y 50 "/usr/bin/time -f %M -o $work/view.rss $BIN -r '$f' -q; sleep 1"
	# A key while the file loads: from sending j to the cursor (">") on
	# the second row, the third line of the screen.
	waitfor '^> '
	ks=$(now)
	tmux send-keys -t grpcsniff-view-bench j
	until tmux capture-pane -p -t grpcsniff-view-bench | sed -n 4p | grep -q '^> '; do :; done
	ke=$(now)
	waitfor ' · done'
	loaded=$(now)
	tmux send-keys -t grpcsniff-view-bench / "$FILTER"
	sleep 0.5 # the prompt applies the filter as it is typed; enter keeps it
	fs=$(now)
	tmux send-keys -t grpcsniff-view-bench Enter
	waitfor 'filter: '
	fe=$(now)
	tmux send-keys -t grpcsniff-view-bench q q
	while tmux has-session -t grpcsniff-view-bench 2>/dev/null && [ ! -s "$work/view.rss" ]; do sleep 0.1; done
	printf '%-28s %10.2f %8d %10.2f %10.2f %8d %8.0f\n' "$(basename "$f")" "$(secs "$js" "$je")" "$(($(cat "$work/json.rss") / 1024))" \
		"$(secs "$s" "$loaded")" "$(secs "$fs" "$fe")" "$(($(cat "$work/view.rss") / 1024))" "$(echo "($ke - $ks) * 1000" | bc)"
	rm -f "$work/view.rss"
done
