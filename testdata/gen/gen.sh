#!/usr/bin/env bash
# Regenerates the gRPC test captures in testdata/pcaps/ from real peers
# talking over loopback, captured with tcpdump.
#
#   sudo testdata/gen/gen.sh              # all captures
#   sudo testdata/gen/gen.sh py_helloworld h2c_upgrade   # only these
#
# Needs root (tcpdump, apt-get). Idempotent: installs what is missing (Debian
# packages with apt-get, Go modules through the nested module testdata/gen/go,
# npm packages in testdata/gen/node), rebuilds helpers into $GEN_WORK
# (default /tmp/grpcsniff-gen) and overwrites the files in testdata/pcaps/.
# Every server/client/tcpdump it starts runs in the background and is killed
# (by PID) before the script exits, also on error.
#
# Captures (port -> file):
#   50101 grpcgo_interop.pcap        grpc-go interop server + client, 11 test
#                                    cases, one client process (= connection)
#                                    per case; nanosecond pcap
#   50102 grpcgo_interop_gzip.pcapng same cases with gzip message compression
#                                    (go/cmd/gzipinterop); pcapng via editcap
#   50103 py_helloworld.pcap         grpcio: helloworld.Greeter + muxs.FileController
#                                    on one server, one client channel
#   23333 py_grpcdemo.pcap           grpcio: demo.GRPCDemo (4 call kinds)
#   23333 py_grpcdemo_gzip.pcap      same with gzip on client and server
#   50105 py_routeguide.pcap         grpcio: routeguide.RouteGuide
#   50106 node_grpcjs.pcap           @grpc/grpc-js server + client
#   50107 h2c_upgrade.pcap           curl --http2 (HTTP/1.1 Upgrade: h2c) against
#                                    grpc-go behind x/net/http2/h2c
#   50108 grpcgo_midstream.pcap      capture starts mid-connection (no SYN, no
#                                    preface, HPACK dynamic table pre-filled)
#   50109 any_sll2.pcap              tcpdump -i any (LINUX_SLL2 link type)
#   50110 ipv6_helloworld.pcap       grpc-go over [::1]
#   50120 tls/tls13.pcap             TLS 1.3 (key log tls/tls13.keys): curl
#                                    --http2 with each 1.3 suite forced
#                                    (--tls13-ciphers), then a grpc-go client,
#                                    against go/cmd/tlsgreet
#   50121 tls/tls12.pcap             TLS 1.2 (tls/tls12.keys): grpc-go client
#                                    with each ECDHE-ECDSA AEAD suite forced
#                                    (AES-128-GCM, AES-256-GCM, ChaCha20)
#   50122 tls/tls13_hrr.pcap         TLS 1.3 with a HelloRetryRequest (the
#                                    server takes only P-384 key shares)
#         tls/tls13_secrets.pcapng   tls13.pcap with tls13.keys injected as a
#                                    Decryption Secrets Block (editcap)
#   50123 tls/tls13_keyupdate.pcap   openssl s_client/s_server, TLS 1.3, lines
#                                    of text both ways around a KeyUpdate from
#                                    each side (not gRPC)
#   50124 tls/node_grpcjs_tls.pcap   @grpc/grpc-js server + client over TLS 1.3
#                                    (tls/node_grpcjs_tls.keys from the client's
#                                    node --tls-keylog)
#   50125 tls/tls12_cbc.pcap         TLS 1.2 AES-CBC + HMAC (tls/tls12_cbc.keys):
#                                    grpc-go client -> tlsgreet -cbc, one
#                                    connection per ECDHE-ECDSA CBC suite
#                                    (SHA1 x2, SHA256); MAC-then-encrypt
#   50126 tls/tls12_cbc_etm.pcap     TLS 1.2 AES-CBC with encrypt_then_mac
#                                    (RFC 7366): curl -> openssl s_server -HTTP,
#                                    one GET per suite (ECDHE-ECDSA SHA1 and
#                                    SHA384, RSA key exchange SHA256)
#   50180 grpcgo_traced.pcap         grpc-go SayHello with each trace context form
#                                    (go/cmd/tracedclient; ids in grpcgo_traced.json)
#   50140 grpcgo_reflection.pcap     a grpcurl-like session (go/cmd/reflectclient):
#                                    server reflection v1 (list services, file
#                                    descriptors) then SayHello, one connection
#   50150 grpcweb_h1.pcap            gRPC-Web over HTTP/1.1: curl (one keep-alive
#                                    connection) -> grpc-go wrapped with
#                                    improbable-eng grpcweb (go/cmd/grpcweb):
#                                    CORS preflight, binary and text, unary and
#                                    server streaming, errors, chunked request
#   50151 grpcweb_h2c.pcap           the same server over h2c (curl
#                                    --http2-prior-knowledge), one connection
#                                    per call (curl 7.88.1 cannot reuse them),
#                                    then 6 calls on one connection from a Go
#                                    x/net/http2 client (go/cmd/webclient)
#   50152 grpcweb_json.pcap          gRPC-Web with JSON messages
#                                    (application/grpc-web+json, -text+json)
#   50160 grpcgateway.pcap           grpc-gateway v2 REST/JSON (curl, HTTP/1.1)
#   50161                            and the gRPC calls it makes (h2c) to the
#                                    grpc-go server behind it (go/cmd/gateway)
#   50170 grpcgo_json.pcap           application/grpc+json: grpc-go client and
#                                    server with a JSON codec (go/cmd/jsongreet)
#   50180 connect_h1.pcap            Connect protocol, HTTP/1.1: connect-go
#                                    client + server (go/cmd/connectdemo)
#   50181 connect_h2c.pcap           the same calls over h2c, plus bidi
#   50182 connect_mixed.pcap         one connect-go server port answering
#                                    Connect, gRPC and gRPC-Web clients (h2c)
#   50183 connect_node.pcap          connect-node client + server
#   50185                            (node/connectgreet.js): h2c on 50183,
#                                    HTTP/1.1 on 50185
#   50184 twirp.pcap                 Twirp (protoc-gen-twirp) client + server,
#                                    HTTP/1.1 (go/cmd/twirpdemo)
#   50190 grpcgo_packed.pcap         grpc-go packed.Samples client and server
#                                    (go/cmd/packedsamples): four unary calls
#                                    whose repeated scalars are packed
#   50191 node_packed.pcap           the same four samples from @grpc/grpc-js
#                                    (node/packed.js), client and server
#   50192 grpcgo_interop_oneconn_midstream.pcap
#                                    all 14 interop cases twice on ONE
#                                    connection (go/cmd/gzipinterop -one_conn,
#                                    10 s deadlines, server HPACK table 1536),
#                                    cut so that it starts at stream 11: the
#                                    first :path entries were inserted before
#                                    it; .methods.ndjson holds every stream's
#                                    method as the client logged it
# Each Connect/Twirp capture NAME.pcap has NAME.truth.ndjson beside it: one
# JSON line per call as the client logged it (protocol, HTTP method,
# procedure, message counts and serialized sizes, code, message).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/pcaps
WORK=${GEN_WORK:-/tmp/grpcsniff-gen}
BIN=$WORK/bin
PYGEN=$WORK/pygen
LOGS=$WORK/logs
PY=/usr/bin/python3 # Debian's python (sees python3-grpcio), not a pyenv one
export PATH=/usr/local/go/bin:$PATH

log() { printf '[gen] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump on lo, apt-get)"
mkdir -p "$OUT" "$BIN" "$PYGEN" "$LOGS"

# ---------------------------------------------------------------- processes
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg NAME CMD... : run CMD in the background, logging to $LOGS/NAME.log;
# the PID is left in $BGPID.
bg() {
	local name=$1
	shift
	"$@" >"$LOGS/$name.log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}

# stop PID: SIGTERM a background process we started and reap it.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_port PORT: until something listens on TCP port PORT (v4 or v6).
wait_port() {
	local i
	for i in $(seq 1 200); do
		if [ -n "$(ss -Hltn "sport = :$1")" ]; then
			return 0
		fi
		sleep 0.1
	done
	die "nothing listening on port $1 (see $LOGS)"
}

# cap_start FILE PORT [tcpdump args...]: start tcpdump (default -i lo) for
# "tcp port PORT" writing FILE; PID in $CAPPID. cap_stop flushes and ends it.
cap_start() {
	local file=$1 port=$2
	shift 2
	local args=("$@")
	[ ${#args[@]} -gt 0 ] || args=(-i lo)
	rm -f "$file"
	# -Z root: keep root as the file owner (tcpdump otherwise drops to the
	# tcpdump user and the pcap ends up owned by it); -U: packet-buffered.
	tcpdump "${args[@]}" -Z root -U -n -s 262144 -w "$file" "tcp port $port" >"$LOGS/tcpdump-$port.log" 2>&1 &
	CAPPID=$!
	PIDS+=("$CAPPID")
	sleep 1
	kill -0 "$CAPPID" 2>/dev/null || die "tcpdump failed: $(cat "$LOGS/tcpdump-$port.log")"
}
cap_stop() {
	sleep 1
	kill -INT "$CAPPID" 2>/dev/null || true
	wait "$CAPPID" 2>/dev/null || true
}

# ---------------------------------------------------------------- installs
ensure_deps() {
	local pkgs=(tcpdump tshark wireshark-common curl openssl iproute2 protobuf-compiler
		python3-grpcio python3-grpc-tools python3-protobuf nodejs)
	local missing=() p
	for p in "${pkgs[@]}"; do
		# nodejs/npm may come from elsewhere (e.g. a preinstalled node 20)
		if [ "$p" = nodejs ] && command -v node >/dev/null && command -v npm >/dev/null; then
			continue
		fi
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		log "apt-get install ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
		apt-get install -y "${missing[@]}" >"$LOGS/apt.log" 2>&1 || {
			apt-get update >>"$LOGS/apt.log" 2>&1
			apt-get install -y "${missing[@]}" >>"$LOGS/apt.log" 2>&1
		} || die "apt-get install failed, see $LOGS/apt.log"
		if [[ " ${missing[*]} " == *" nodejs "* ]] && ! command -v npm >/dev/null; then
			apt-get install -y npm >>"$LOGS/apt.log" 2>&1 || die "npm install failed"
		fi
	fi
	command -v go >/dev/null || die "go not found (expected in /usr/local/go/bin)"
}

build_go() {
	log "building Go helpers (nested module testdata/gen/go)"
	(
		cd "$HERE/go"
		go build -o "$BIN/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
		go build -o "$BIN/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
		go build -o "$BIN/protoc-gen-grpc-gateway" github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
		go build -o "$BIN/protoc-gen-twirp" github.com/twitchtv/twirp/protoc-gen-twirp
		# Regenerate the committed Go stubs (no-op unless the .proto changed).
		protoc -I "$HERE/proto" \
			--plugin=protoc-gen-go="$BIN/protoc-gen-go" --plugin=protoc-gen-go-grpc="$BIN/protoc-gen-go-grpc" \
			--go_out=. --go_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			--go-grpc_out=. --go-grpc_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			helloworld.proto muxs.proto packed.proto
		# echo.proto + its REST gateway; the HTTP rules come from
		# echo_gateway.yaml (no google/api/annotations.proto needed).
		protoc -I "$HERE/proto" \
			--plugin=protoc-gen-go="$BIN/protoc-gen-go" --plugin=protoc-gen-go-grpc="$BIN/protoc-gen-go-grpc" \
			--plugin=protoc-gen-grpc-gateway="$BIN/protoc-gen-grpc-gateway" \
			--go_out=. --go_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			--go-grpc_out=. --go-grpc_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			--grpc-gateway_out=. --grpc-gateway_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			--grpc-gateway_opt=grpc_api_configuration="$HERE/proto/echo_gateway.yaml" \
			echo.proto
		# notes.proto: Twirp server and clients (protoc-gen-twirp)
		protoc -I "$HERE/proto" \
			--plugin=protoc-gen-go="$BIN/protoc-gen-go" --plugin=protoc-gen-twirp="$BIN/protoc-gen-twirp" \
			--go_out=. --go_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			--twirp_out=. --twirp_opt=module=github.com/grpcsniff/grpcsniff/testdata/gen/go \
			notes.proto
		go build -o "$BIN/interop_server" google.golang.org/grpc/interop/server
		go build -o "$BIN/interop_client" google.golang.org/grpc/interop/client
		go build -o "$BIN/gzipinterop" ./cmd/gzipinterop
		go build -o "$BIN/greeter" ./cmd/greeter
		go build -o "$BIN/greetclient" ./cmd/greetclient
		go build -o "$BIN/tlsgreet" ./cmd/tlsgreet
		go build -o "$BIN/reflectclient" ./cmd/reflectclient
		go build -o "$BIN/grpcweb" ./cmd/grpcweb
		go build -o "$BIN/webclient" ./cmd/webclient
		go build -o "$BIN/gateway" ./cmd/gateway
		go build -o "$BIN/jsongreet" ./cmd/jsongreet
		go build -o "$BIN/connectdemo" ./cmd/connectdemo
		go build -o "$BIN/twirpdemo" ./cmd/twirpdemo
		go build -o "$BIN/packedsamples" ./cmd/packedsamples
		go build -o "$BIN/protoset" ./cmd/protoset
		go build -o "$BIN/tracedclient" ./cmd/tracedclient
	)
}

build_py() {
	log "generating Python stubs with grpc_tools.protoc"
	(cd "$HERE/proto" && "$PY" -m grpc_tools.protoc -I. --python_out="$PYGEN" --grpc_python_out="$PYGEN" \
		helloworld.proto muxs.proto demo.proto route_guide.proto)
}

build_node() {
	log "installing npm packages in testdata/gen/node"
	(
		cd "$HERE/node"
		if [ -f package-lock.json ]; then
			npm ci --no-audit --no-fund >"$LOGS/npm.log" 2>&1
		else
			npm install --no-audit --no-fund >"$LOGS/npm.log" 2>&1
		fi
		# Regenerate the committed connect-node code (no-op unless the .proto
		# changed).
		protoc -I "$HERE/proto" --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
			--es_out=gen --es_opt=target=js,js_import_style=legacy_commonjs greet.proto >>"$LOGS/npm.log" 2>&1
	) || die "npm or protoc-gen-es failed, see $LOGS/npm.log"
}

# env execs python, so the PID of a background "${PYRUN[@]}" is python's own.
PYRUN=(env "PYTHONPATH=$PYGEN:$HERE/python" PYTHONDONTWRITEBYTECODE=1 "$PY" -u)

# ---------------------------------------------------------------- captures
INTEROP_CASES=(empty_unary large_unary client_streaming server_streaming ping_pong
	custom_metadata status_code_and_message special_status_message
	unimplemented_method cancel_after_begin timeout_on_sleeping_server)

# tshark_count FILE PORT FILTER: number of packets matching FILTER.
tshark_count() {
	tshark -r "$1" -d "tcp.port==$2,http2" -Y "$3" 2>/dev/null | wc -l
}

# The interop cases cancel_after_begin (cancel right after NewStream) and
# timeout_on_sleeping_server (1 ms deadline on a fresh connection) are racy:
# sometimes the client gives up before its HEADERS frame is written, and the
# case still "passes". Check that both streams made it onto the wire.
interop_complete() {
	local f=$1 port=$2
	[ "$(tshark_count "$f" "$port" 'http2.headers.path == "/grpc.testing.TestService/StreamingInputCall"')" -ge 2 ] &&
		[ "$(tshark_count "$f" "$port" 'http2.headers.path == "/grpc.testing.TestService/FullDuplexCall" && http2.header.name == "grpc-timeout"')" -ge 1 ]
}

gen_grpcgo_interop() {
	local port=50101 f=$OUT/grpcgo_interop.pcap tc srv try
	bg interop_server "$BIN/interop_server" --port=$port --use_tls=false
	srv=$BGPID
	wait_port $port
	for try in 1 2 3 4 5 6 7 8; do
		: >"$LOGS/interop_client.log"
		cap_start "$f" $port -i lo --time-stamp-precision=nano
		for tc in "${INTEROP_CASES[@]}"; do
			GRPC_GO_LOG_SEVERITY_LEVEL=info "$BIN/interop_client" --server_host=127.0.0.1 --server_port=$port --use_tls=false \
				--test_case="$tc" >>"$LOGS/interop_client.log" 2>&1 || die "interop $tc failed"
		done
		cap_stop
		interop_complete "$f" $port && break
		log "grpcgo_interop: a racy case did not reach the wire (try $try), capturing again"
	done
	interop_complete "$f" $port || die "grpcgo_interop: racy cases never complete"
	stop "$srv"
}

gen_grpcgo_interop_gzip() {
	local port=50102 raw=$WORK/grpcgo_interop_gzip.pcap srv
	local cases
	cases=$(IFS=,; echo "${INTEROP_CASES[*]}")
	bg gzipinterop_server "$BIN/gzipinterop" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$raw" $port
	"$BIN/gzipinterop" -mode=client -addr=127.0.0.1:$port -test_cases="$cases" \
		>"$LOGS/gzipinterop_client.log" 2>&1 || die "gzip interop client failed"
	cap_stop
	stop "$srv"
	interop_complete "$raw" $port || die "grpcgo_interop_gzip: cancel/timeout streams missing"
	# tcpdump (4.99) cannot write pcapng itself
	editcap -F pcapng "$raw" "$OUT/grpcgo_interop_gzip.pcapng"
}

# The interop cases as a long-lived client runs them: all on one connection,
# twice, every call with a deadline (a grpc-timeout value of its own, so a
# new HPACK entry per call). The server allows a 1536-byte HPACK table, so
# the client's encoder evicts and inserts :path entries again within the
# capture. The file starts at stream 11's request: its :path, and those of
# the next calls, refer to entries inserted before, while later calls of the
# same methods insert them anew. The client logs each call's method as it
# starts; tshark loses the :paths of this connection (its HPACK decoding
# fails: "unexpected decompression state"), but it shows the stream
# numbers, which prove that call N was stream 2N-1.
gen_grpcgo_interop_oneconn_midstream() {
	local port=50192 raw=$WORK/grpcgo_interop_oneconn.pcap log=$WORK/oneconn_methods.ndjson srv n cases streams
	local out=$OUT/grpcgo_interop_oneconn_midstream
	cases=$(IFS=,; echo "${INTEROP_CASES[*]},empty_stream,unimplemented_service,cancel_after_first_response")
	bg oneconn_server "$BIN/gzipinterop" -mode=server -addr=127.0.0.1:$port -header_table_size=1536
	srv=$BGPID
	wait_port $port
	cap_start "$raw" $port
	"$BIN/gzipinterop" -mode=client -gzip=false -one_conn -rounds=2 -deadline=10s -addr=127.0.0.1:$port \
		-test_cases="$cases" -methods_log="$log" >"$LOGS/oneconn_client.log" 2>&1 || die "one-connection interop client failed"
	cap_stop
	stop "$srv"
	# Call N is stream 2N-1 only if every call the client logged reached the
	# wire, in order: the client's streams must be exactly 1, 3, ….
	streams=$(tshark -r "$raw" -d tcp.port==$port,http2 -Y "http2.type == 1 && tcp.dstport == $port" \
		-T fields -e http2.streamid 2>/dev/null | tr ',' '\n' | grep -v '^0$' | sort -un | tr '\n' ' ')
	[ "$streams" = "$(awk '{ printf "%d ", 2 * NR - 1 }' "$log")" ] ||
		die "grpcgo_interop_oneconn_midstream: streams $streams do not match the $(wc -l <"$log") calls logged"
	awk -F'"method":' '{ printf "{\"stream_id\":%d,\"method\":%s\n", 2 * NR - 1, $2 }' "$log" >"$out.methods.ndjson"
	n=$(tshark -r "$raw" -d tcp.port==$port,http2 -Y "http2.type == 1 && http2.streamid == 11 && tcp.dstport == $port" \
		-T fields -e frame.number 2>/dev/null | head -n 1)
	[ -n "$n" ] || die "grpcgo_interop_oneconn_midstream: no stream 11 in $raw"
	editcap "$raw" "$out.pcap" "1-$((n - 1))"
	# The schema of grpc.testing, for decoding with --protoset: grpc-go
	# ships it compiled in, not as .proto files.
	"$BIN/protoset" -file grpc/testing/test.proto -o "$HERE/proto/grpc_testing.protoset"
}

# A capture cut out of grpcgo_interop.pcap so that it starts inside the
# large_unary request body: the request's first bytes are missing, its
# response is whole. Checks that a direction whose start was not captured is
# not split into invented messages.
gen_grpcgo_cut_midmessage() {
	local f=$OUT/grpcgo_interop.pcap n
	[ -f "$f" ] || gen_grpcgo_interop
	n=$(tshark -r "$f" -d tcp.port==50101,http2 -Y 'http2.headers.path == "/grpc.testing.TestService/UnaryCall"' \
		-T fields -e frame.number | head -n 1)
	[ -n "$n" ] || die "grpcgo_cut_midmessage: no UnaryCall in $f"
	editcap -r "$f" "$OUT/grpcgo_cut_midmessage.pcap" "$((n + 2))-$((n + 40))"
}

# py_routeguide.pcap with two packets of the ListFeatures response deleted:
# frame headers are lost with them, so frame sync and the server's HPACK
# state must be recovered from the next frame on.
gen_py_routeguide_lossy() {
	local f=$OUT/py_routeguide.pcap frames
	[ -f "$f" ] || gen_py_routeguide
	frames=$(tshark -r "$f" -d tcp.port==50105,http2 -Y 'tcp.srcport == 50105 && http2.streamid == 5 && http2.type == 0' \
		-T fields -e frame.number | sed -n '4p;5p' | tr '\n' ' ')
	[ -n "$frames" ] || die "py_routeguide_lossy: no ListFeatures DATA frames in $f"
	# shellcheck disable=SC2086
	editcap "$f" "$OUT/py_routeguide_lossy.pcap" $frames
}

gen_py_helloworld() {
	local port=50103 srv
	bg py_helloworld_server "${PYRUN[@]}" "$HERE/python/helloworld_server.py" --port=$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/py_helloworld.pcap" $port
	"${PYRUN[@]}" "$HERE/python/helloworld_client.py" --port=$port >"$LOGS/py_helloworld_client.log" 2>&1 ||
		die "py helloworld client failed"
	cap_stop
	stop "$srv"
}

gen_py_grpcdemo() {
	local port=23333 srv
	bg py_grpcdemo_server "${PYRUN[@]}" "$HERE/python/grpcdemo_server.py" --port=$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/py_grpcdemo.pcap" $port
	"${PYRUN[@]}" "$HERE/python/grpcdemo_client.py" --port=$port >"$LOGS/py_grpcdemo_client.log" 2>&1 ||
		die "py grpcdemo client failed"
	cap_stop
	stop "$srv"
}

gen_py_grpcdemo_gzip() {
	local port=23333 srv
	bg py_grpcdemo_gzip_server "${PYRUN[@]}" "$HERE/python/grpcdemo_server.py" --port=$port --gzip
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/py_grpcdemo_gzip.pcap" $port
	"${PYRUN[@]}" "$HERE/python/grpcdemo_client.py" --port=$port --gzip >"$LOGS/py_grpcdemo_gzip_client.log" 2>&1 ||
		die "py grpcdemo gzip client failed"
	cap_stop
	stop "$srv"
}

gen_py_routeguide() {
	local port=50105 srv
	bg py_routeguide_server "${PYRUN[@]}" "$HERE/python/routeguide_server.py" --port=$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/py_routeguide.pcap" $port
	"${PYRUN[@]}" "$HERE/python/routeguide_client.py" --port=$port >"$LOGS/py_routeguide_client.log" 2>&1 ||
		die "py routeguide client failed"
	cap_stop
	stop "$srv"
}

gen_node_grpcjs() {
	local port=50106 srv
	bg node_server node "$HERE/node/greeter.js" server $port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/node_grpcjs.pcap" $port
	node "$HERE/node/greeter.js" client $port >"$LOGS/node_client.log" 2>&1 || die "node client failed"
	cap_stop
	stop "$srv"
}

# curl --http2 with a plain http:// URL sends the first request as HTTP/1.1
# with "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c" and
# "HTTP2-Settings"; curl 7.88 does this for a POST with a body too. The server
# (go/cmd/greeter -h2c: x/net/http2/h2c around grpc.Server.ServeHTTP) reads
# the body, answers "HTTP/1.1 101 Switching Protocols" and then speaks
# HTTP/2: the client sends the preface + SETTINGS, and the response to the
# upgraded request comes back on stream 1 (the request itself was never sent
# as HTTP/2 HEADERS/DATA: its headers and body are in the HTTP/1.1 part).
# Two more requests (--next) reuse the upgraded connection as ordinary HTTP/2
# streams 3 and 5:
#   stream 1: POST /helloworld.Greeter/SayHello  HelloRequest{name:"curl"} -> OK "Hello, curl!"
#   stream 3: POST /helloworld.Greeter/Square    Number{value:4}           -> OK 16
#   stream 5: POST /helloworld.Greeter/SayHello  HelloRequest{}            -> INVALID_ARGUMENT
gen_h2c_upgrade() {
	local port=50107 srv url=http://127.0.0.1:50107
	# 5-byte gRPC message prefix (flag 0, big-endian length) + protobuf
	printf '\x00\x00\x00\x00\x06\x0a\x04curl' >"$WORK/h2c_sayhello.bin"   # HelloRequest{name:"curl"}
	printf '\x00\x00\x00\x00\x05\x0d\x00\x00\x80\x40' >"$WORK/h2c_square.bin" # Number{value:4.0f}
	printf '\x00\x00\x00\x00\x00' >"$WORK/h2c_empty.bin"                     # HelloRequest{}
	bg h2c_server "$BIN/greeter" -addr=127.0.0.1:$port -h2c
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/h2c_upgrade.pcap" $port
	local g=(--http2 -sS -X POST -H 'content-type: application/grpc' -H 'te: trailers')
	curl -v "${g[@]}" --data-binary @"$WORK/h2c_sayhello.bin" -o "$WORK/h2c_resp1.bin" "$url/helloworld.Greeter/SayHello" \
		--next "${g[@]}" --data-binary @"$WORK/h2c_square.bin" -o "$WORK/h2c_resp2.bin" "$url/helloworld.Greeter/Square" \
		--next "${g[@]}" --data-binary @"$WORK/h2c_empty.bin" -o "$WORK/h2c_resp3.bin" "$url/helloworld.Greeter/SayHello" \
		>"$LOGS/h2c_curl.log" 2>&1 || die "curl failed, see $LOGS/h2c_curl.log"
	cap_stop
	stop "$srv"
	grep -q '101 Switching Protocols' "$LOGS/h2c_curl.log" || die "no h2c upgrade happened"
}

# The client makes 4 unary calls on one connection before tcpdump starts, then
# (on the same connection) SayHello, Square, SayHelloStream (new method,
# server streaming), FileController/Read (new service), SayHello.
gen_grpcgo_midstream() {
	local port=50108 srv cli i
	rm -f "$WORK/midstream.ready" "$WORK/midstream.go"
	bg midstream_server "$BIN/greeter" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	bg midstream_client "$BIN/greetclient" -addr=127.0.0.1:$port -scenario=midstream \
		-ready-file="$WORK/midstream.ready" -go-file="$WORK/midstream.go"
	cli=$BGPID
	for i in $(seq 1 200); do
		[ -f "$WORK/midstream.ready" ] && break
		kill -0 "$cli" 2>/dev/null || die "midstream client died: $(cat "$LOGS/midstream_client.log")"
		sleep 0.1
	done
	[ -f "$WORK/midstream.ready" ] || die "midstream client never finished phase 1"
	cap_start "$OUT/grpcgo_midstream.pcap" $port
	touch "$WORK/midstream.go"
	wait "$cli" || die "midstream client failed: $(cat "$LOGS/midstream_client.log")"
	cap_stop
	stop "$srv"
}

# Not gRPC: an HTTP/1.1 server (python http.server) answering curl, and a
# TCP service that trades seeded random bytes.
GARBAGE_PY='
import os, random, socket, sys, threading, time
port = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
def serve():
    c, _ = srv.accept()
    while True:
        b = c.recv(65536)
        if not b: break
        c.sendall(bytes(reversed(b)))
    c.close()
t = threading.Thread(target=serve); t.start()
rng = random.Random(7)
c = socket.create_connection(("127.0.0.1", port))
for i in range(5):
    c.sendall(bytes(rng.randrange(256) for _ in range(3000))); time.sleep(0.05); c.recv(65536)
c.close(); t.join()
'

http1_exchange() {
	local port=$1 srv
	bg http1_server "$PY" -m http.server "$port" --bind 127.0.0.1 --directory "$HERE/proto"
	srv=$BGPID
	wait_port "$port"
	curl -s -o /dev/null "http://127.0.0.1:$port/helloworld.proto" || die "curl http/1.1 failed"
	curl -s -o /dev/null "http://127.0.0.1:$port/nope" || true
	stop "$srv"
}

gen_http1_only() {
	local port=50111
	cap_start "$OUT/http1_only.pcap" $port
	http1_exchange $port
	cap_stop
}

# gRPC on one port, HTTP/1.1 on another and random bytes on a third, in one
# capture: the gRPC calls must still decode, the others be named.
gen_mixed_ports() {
	local grpc=50112 http=50113 garbage=50114 srv
	bg mixed_greeter "$BIN/greeter" -addr=127.0.0.1:$grpc
	srv=$BGPID
	wait_port $grpc
	cap_start "$OUT/mixed_ports.pcap" "$grpc or tcp port $http or tcp port $garbage"
	"$PY" -c "$GARBAGE_PY" $garbage >"$LOGS/garbage.log" 2>&1 || die "garbage exchange failed"
	http1_exchange $http
	"$BIN/greetclient" -addr=127.0.0.1:$grpc -names=mixed1,mixed2 >"$LOGS/mixed_client.log" 2>&1 || die "mixed client failed"
	cap_stop
	stop "$srv"
}

# Many calls in flight on one connection: their frames interleave.
gen_grpcgo_concurrent() {
	local port=50115 srv
	bg concurrent_server "$BIN/greeter" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/grpcgo_concurrent.pcap" $port
	"$BIN/greetclient" -addr=127.0.0.1:$port -scenario=concurrent >"$LOGS/concurrent_client.log" 2>&1 || die "concurrent client failed"
	cap_stop
	stop "$srv"
}

gen_any_sll2() {
	local port=50109 srv
	bg any_server "$BIN/greeter" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	# libpcap >= 1.10 gives DLT_LINUX_SLL2 for -i any by default
	cap_start "$OUT/any_sll2.pcap" $port -i any
	"$BIN/greetclient" -addr=127.0.0.1:$port -names=any1,any2 >"$LOGS/any_client.log" 2>&1 || die "any client failed"
	cap_stop
	stop "$srv"
}

gen_ipv6_helloworld() {
	local port=50110 srv
	bg ipv6_server "$BIN/greeter" -addr="[::1]:$port"
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/ipv6_helloworld.pcap" $port
	"$BIN/greetclient" -addr="[::1]:$port" -names=ipv6,world >"$LOGS/ipv6_client.log" 2>&1 || die "ipv6 client failed"
	cap_stop
	stop "$srv"
}

# What grpcurl does (list, describe, call), on one connection: the captured
# reflection responses carry the file descriptors that decode the SayHello
# call after them.
gen_grpcgo_reflection() {
	local port=50140 srv
	bg reflection_server "$BIN/greeter" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/grpcgo_reflection.pcap" $port
	"$BIN/reflectclient" -addr=127.0.0.1:$port >"$LOGS/reflectclient.log" 2>&1 || die "reflect client failed: $(cat "$LOGS/reflectclient.log")"
	cap_stop
	stop "$srv"
}

# TLS captures, in testdata/pcaps/tls/ (decrypted only with their key log, so
# they are kept apart from the captures every tool reads as they are): the key
# log each client writes (Go's KeyLogWriter, curl's SSLKEYLOGFILE) is kept
# next to the capture as NAME.keys.

# tls_curl PORT SUITE KEYS NAME: one SayHello over TLS 1.3 with only SUITE.
tls_curl() {
	# 5-byte gRPC prefix + HelloRequest{name: NAME} (NAME shorter than 126 bytes)
	local n=${#4}
	printf '\x00\x00\x00\x00'"$(printf '\\x%02x' $((n + 2)))"'\x0a'"$(printf '\\x%02x' "$n")"'%s' "$4" >"$WORK/tls_req.bin"
	SSLKEYLOGFILE=$3 curl -v --http2 -k -sS --tlsv1.3 --tls13-ciphers "$2" -X POST \
		-H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$WORK/tls_req.bin" \
		-o "$WORK/tls_resp.bin" "https://127.0.0.1:$1/helloworld.Greeter/SayHello" >>"$LOGS/tls_curl.log" 2>&1 ||
		die "curl $2 failed, see $LOGS/tls_curl.log"
}

gen_tls13() {
	mkdir -p "$OUT/tls"
	local port=50120 keys=$OUT/tls/tls13.keys srv
	rm -f "$keys"
	bg tls13_server "$BIN/tlsgreet" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls13.pcap" $port
	tls_curl $port TLS_AES_128_GCM_SHA256 "$keys" aes128
	tls_curl $port TLS_AES_256_GCM_SHA384 "$keys" aes256
	tls_curl $port TLS_CHACHA20_POLY1305_SHA256 "$keys" chacha
	"$BIN/tlsgreet" -mode=client -addr=127.0.0.1:$port -keylog="$keys" -names=tls13,go >"$LOGS/tls13_client.log" 2>&1 ||
		die "tls13 client failed: $(cat "$LOGS/tls13_client.log")"
	cap_stop
	stop "$srv"
	editcap --inject-secrets "tls,$keys" "$OUT/tls/tls13.pcap" "$OUT/tls/tls13_secrets.pcapng"
}

gen_tls12() {
	mkdir -p "$OUT/tls"
	local port=50121 keys=$OUT/tls/tls12.keys srv s
	rm -f "$keys"
	bg tls12_server "$BIN/tlsgreet" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls12.pcap" $port
	for s in TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256; do
		"$BIN/tlsgreet" -mode=client -addr=127.0.0.1:$port -keylog="$keys" -tls=1.2 -suite=$s -names=tls12,go \
			>>"$LOGS/tls12_client.log" 2>&1 || die "tls12 client ($s) failed: $(cat "$LOGS/tls12_client.log")"
	done
	cap_stop
	stop "$srv"
}

gen_tls13_hrr() {
	mkdir -p "$OUT/tls"
	local port=50122 keys=$OUT/tls/tls13_hrr.keys srv
	rm -f "$keys"
	bg tls13_hrr_server "$BIN/tlsgreet" -mode=server -addr=127.0.0.1:$port -curves=P384
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls13_hrr.pcap" $port
	"$BIN/tlsgreet" -mode=client -addr=127.0.0.1:$port -keylog="$keys" -names=retry >"$LOGS/tls13_hrr_client.log" 2>&1 ||
		die "tls13_hrr client failed: $(cat "$LOGS/tls13_hrr_client.log")"
	cap_stop
	stop "$srv"
}

# openssl s_client sends a KeyUpdate (update_requested) when a line is just
# "K"; s_server answers with its own. Text lines go both ways before and
# after, so both directions are read across a key change.
gen_tls13_keyupdate() {
	mkdir -p "$OUT/tls"
	local port=50123 keys=$OUT/tls/tls13_keyupdate.keys srv
	rm -f "$keys"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=keyupdate.test -days 1 \
		-keyout "$WORK/ku_key.pem" -out "$WORK/ku_cert.pem" >"$LOGS/ku_req.log" 2>&1 || die "openssl req failed"
	bg ku_server sh -c "(sleep 2; echo 'server before'; sleep 2; echo 'server after'; sleep 3) |
		exec openssl s_server -accept $port -cert '$WORK/ku_cert.pem' -key '$WORK/ku_key.pem' -tls1_3 -naccept 1"
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls13_keyupdate.pcap" $port
	(echo 'client before'; sleep 2; echo K; sleep 1; echo 'client after'; sleep 2; echo Q) |
		openssl s_client -connect 127.0.0.1:$port -tls1_3 -servername keyupdate.test -keylogfile "$keys" \
			>"$LOGS/ku_client.log" 2>&1 || die "openssl s_client failed, see $LOGS/ku_client.log"
	cap_stop
	stop "$srv"
	grep -q 'server after' "$LOGS/ku_client.log" || die "tls13_keyupdate: the server's lines did not arrive"
}

# TLS 1.2 CBC suites between Go peers: grpc-go does not refuse the suites
# HTTP/2 forbids when they are configured explicitly. Go never negotiates
# encrypt_then_mac, so these records are MAC-then-encrypt.
gen_tls12_cbc() {
	mkdir -p "$OUT/tls"
	local port=50125 keys=$OUT/tls/tls12_cbc.keys srv s
	rm -f "$keys"
	bg tls12_cbc_server "$BIN/tlsgreet" -mode=server -addr=127.0.0.1:$port -cbc
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls12_cbc.pcap" $port
	for s in TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256; do
		"$BIN/tlsgreet" -mode=client -addr=127.0.0.1:$port -keylog="$keys" -tls=1.2 -suite=$s -names=cbc,go \
			>>"$LOGS/tls12_cbc_client.log" 2>&1 || die "tls12_cbc client ($s) failed: $(cat "$LOGS/tls12_cbc_client.log")"
	done
	cap_stop
	stop "$srv"
}

# TLS 1.2 CBC suites between OpenSSL peers, which negotiate encrypt_then_mac
# by default: curl (HTTP/1.1, SSLKEYLOGFILE) GETs a small file from
# openssl s_server -HTTP (one connection per request; the file is the whole
# HTTP/1.0 response, with a Content-Length so that tshark sees where it
# ends). An ECDSA and an RSA certificate, so that both ECDHE-ECDSA and plain
# RSA key exchange suites can be chosen.
gen_tls12_cbc_etm() {
	mkdir -p "$OUT/tls" "$WORK/etm"
	local port=50126 keys=$OUT/tls/tls12_cbc_etm.keys srv c body='hello over AES-CBC with encrypt_then_mac'
	rm -f "$keys"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=etm.test -days 1 \
		-keyout "$WORK/etm_ec_key.pem" -out "$WORK/etm_ec_cert.pem" >"$LOGS/etm_req.log" 2>&1 || die "openssl req failed"
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=etm.test -days 1 \
		-keyout "$WORK/etm_rsa_key.pem" -out "$WORK/etm_rsa_cert.pem" >>"$LOGS/etm_req.log" 2>&1 || die "openssl req failed"
	printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s\n' $((${#body} + 1)) "$body" >"$WORK/etm/hello.txt"
	bg etm_server sh -c "cd '$WORK/etm' && exec openssl s_server -accept $port -HTTP -tls1_2 \
		-cert '$WORK/etm_ec_cert.pem' -key '$WORK/etm_ec_key.pem' -dcert '$WORK/etm_rsa_cert.pem' -dkey '$WORK/etm_rsa_key.pem'"
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/tls12_cbc_etm.pcap" $port
	for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 AES128-SHA256; do
		SSLKEYLOGFILE=$keys curl -v -k -sS --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers "$c" \
			-o "$WORK/etm_resp.txt" "https://127.0.0.1:$port/hello.txt" >>"$LOGS/etm_curl.log" 2>&1 ||
			die "curl $c failed, see $LOGS/etm_curl.log"
		[ "$(cat "$WORK/etm_resp.txt")" = "$body" ] || die "tls12_cbc_etm: wrong answer with $c"
	done
	cap_stop
	stop "$srv"
}

# @grpc/grpc-js over TLS (greeter.js tls-server/tls-client, a self-signed
# P-256 certificate for greeter.test from openssl req). The client runs under
# "node --tls-keylog", which writes the NSS key log of every TLS connection of
# the process (what its sockets' "keylog" events carry).
gen_node_grpcjs_tls() {
	mkdir -p "$OUT/tls"
	local port=50124 keys=$OUT/tls/node_grpcjs_tls.keys srv
	rm -f "$keys"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=greeter.test \
		-addext subjectAltName=DNS:greeter.test -days 1 \
		-keyout "$WORK/node_tls_key.pem" -out "$WORK/node_tls_cert.pem" >"$LOGS/node_tls_req.log" 2>&1 || die "openssl req failed"
	bg node_tls_server node "$HERE/node/greeter.js" tls-server $port "$WORK/node_tls_cert.pem" "$WORK/node_tls_key.pem"
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/tls/node_grpcjs_tls.pcap" $port
	node --tls-keylog="$keys" "$HERE/node/greeter.js" tls-client $port "$WORK/node_tls_cert.pem" \
		>"$LOGS/node_tls_client.log" 2>&1 || die "node tls client failed: $(cat "$LOGS/node_tls_client.log")"
	cap_stop
	stop "$srv"
	[ -s "$keys" ] || die "node_grpcjs_tls: node wrote no key log"
	chmod 644 "$keys" # node creates it 0600
}

# ---------------------------------------------------------------- gRPC-Web, REST gateway, JSON codec
# grpc_hello NAME: a gRPC length-prefixed message (flag 0) holding
# HelloRequest{name: NAME} (NAME shorter than 126 bytes; "" = empty message).
grpc_hello() {
	local n=${#1}
	if [ "$n" -eq 0 ]; then
		printf '\x00\x00\x00\x00\x00'
		return
	fi
	printf '\x00\x00\x00\x00'"$(printf '\\x%02x' $((n + 2)))"'\x0a'"$(printf '\\x%02x' "$n")"'%s' "$1"
}

# grpc_json JSON: a gRPC length-prefixed message holding JSON text (shorter
# than 256 bytes), for the "json" codec.
grpc_json() {
	printf '\x00\x00\x00\x00'"$(printf '\\x%02x' ${#1})"'%s' "$1"
}

# web_bodies DIR: request bodies for the gRPC-Web captures: NAME.bin (binary
# framing) and NAME.txt (the same, base64 = grpc-web-text).
web_bodies() {
	local d=$1 n
	mkdir -p "$d"
	grpc_hello web >"$d/web.bin"
	grpc_hello text >"$d/text.bin"
	grpc_hello stream >"$d/stream.bin"
	grpc_hello "text stream" >"$d/textstream.bin"
	grpc_hello fail >"$d/fail.bin"
	grpc_hello "" >"$d/empty.bin"
	grpc_hello h2c >"$d/h2c.bin"
	grpc_hello "h2c text" >"$d/h2ctext.bin"
	grpc_hello "h2c stream" >"$d/h2cstream.bin"
	# Number{value: 4.0}: field 1, fixed32, 0x40800000 little-endian
	printf '\x00\x00\x00\x00\x05\x0d\x00\x00\x80\x40' >"$d/square.bin"
	for n in "$d"/*.bin; do
		base64 -w0 "$n" >"${n%.bin}.txt"
	done
}

# gRPC-Web over HTTP/1.1 (go/cmd/grpcweb: grpc-go + improbable-eng grpcweb
# wrapper + net/http): one curl command, every request on the same keep-alive
# connection (--next ... --http1.1). Calls in README.md.
gen_grpcweb_h1() {
	local port=50150 d=$WORK/grpcweb srv url
	url=http://127.0.0.1:$port
	web_bodies "$d"
	bg grpcweb_h1_server "$BIN/grpcweb" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	local o=(-H 'Origin: http://localhost:8080')
	local b=(--http1.1 -sS -X POST -H 'x-grpc-web: 1' -H 'x-user-agent: grpc-web-javascript/0.1' "${o[@]}")
	local bin=(-H 'content-type: application/grpc-web+proto' -H 'accept: application/grpc-web+proto')
	local txt=(-H 'content-type: application/grpc-web-text' -H 'accept: application/grpc-web-text')
	cap_start "$OUT/grpcweb_h1.pcap" $port
	curl -v --http1.1 -sS -X OPTIONS "${o[@]}" -H 'Access-Control-Request-Method: POST' \
		-H 'Access-Control-Request-Headers: content-type,x-grpc-web,x-user-agent' -o "$d/r1" "$url/helloworld.Greeter/SayHello" \
		--next "${b[@]}" "${bin[@]}" --data-binary @"$d/web.bin" -o "$d/r2" "$url/helloworld.Greeter/SayHello" \
		--next "${b[@]}" "${txt[@]}" --data-binary @"$d/text.txt" -o "$d/r3" "$url/helloworld.Greeter/SayHello" \
		--next "${b[@]}" "${bin[@]}" --data-binary @"$d/stream.bin" -o "$d/r4" "$url/helloworld.Greeter/SayHelloStream" \
		--next "${b[@]}" "${txt[@]}" --data-binary @"$d/textstream.txt" -o "$d/r5" "$url/helloworld.Greeter/SayHelloStream" \
		--next "${b[@]}" "${bin[@]}" --data-binary @"$d/fail.bin" -o "$d/r6" "$url/helloworld.Greeter/SayHelloStream" \
		--next "${b[@]}" -H 'content-type: application/grpc-web' --data-binary @"$d/empty.bin" -o "$d/r7" "$url/helloworld.Greeter/SayHello" \
		--next "${b[@]}" "${txt[@]}" --data-binary @"$d/web.txt" -o "$d/r8" "$url/helloworld.Greeter/SayHelloAgain" \
		--next "${b[@]}" "${bin[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$d/square.bin" -o "$d/r9" "$url/helloworld.Greeter/Square" \
		>"$LOGS/grpcweb_h1_curl.log" 2>&1 || die "curl failed, see $LOGS/grpcweb_h1_curl.log"
	cap_stop
	stop "$srv"
	[ "$(grep -c 'Re-using existing connection' "$LOGS/grpcweb_h1_curl.log")" -eq 8 ] ||
		die "grpcweb_h1: curl did not keep one connection, see $LOGS/grpcweb_h1_curl.log"
}

# gRPC-Web over h2c (prior knowledge) to the same server behind
# x/net/http2/h2c. One curl process (= one connection, stream 1) per call:
# curl 7.88.1 fails to reuse a prior-knowledge connection ("Error in the
# HTTP2 framing layer" before the second request is sent, also against plain
# grpc-go), so --next cannot be used here. A Go client (x/net/http2
# Transport) then makes 6 calls on a single connection.
gen_grpcweb_h2c() {
	local port=50151 d=$WORK/grpcweb srv url
	url=http://127.0.0.1:$port
	web_bodies "$d"
	bg grpcweb_h2c_server "$BIN/grpcweb" -addr=127.0.0.1:$port -h2c
	srv=$BGPID
	wait_port $port
	local b=(-v --http2-prior-knowledge -sS -X POST -H 'x-grpc-web: 1' -H 'x-user-agent: grpc-web-javascript/0.1')
	local bin=(-H 'content-type: application/grpc-web+proto' -H 'accept: application/grpc-web+proto')
	local txt=(-H 'content-type: application/grpc-web-text' -H 'accept: application/grpc-web-text')
	: >"$LOGS/grpcweb_h2c_curl.log"
	cap_start "$OUT/grpcweb_h2c.pcap" $port
	{
		curl "${b[@]}" "${bin[@]}" --data-binary @"$d/h2c.bin" -o "$d/h1" "$url/helloworld.Greeter/SayHello" &&
			curl "${b[@]}" "${txt[@]}" --data-binary @"$d/h2ctext.txt" -o "$d/h2" "$url/helloworld.Greeter/SayHello" &&
			curl "${b[@]}" "${bin[@]}" --data-binary @"$d/h2cstream.bin" -o "$d/h3" "$url/helloworld.Greeter/SayHelloStream" &&
			curl "${b[@]}" "${txt[@]}" --data-binary @"$d/h2cstream.txt" -o "$d/h4" "$url/helloworld.Greeter/SayHelloStream" &&
			curl "${b[@]}" "${bin[@]}" --data-binary @"$d/fail.bin" -o "$d/h5" "$url/helloworld.Greeter/SayHelloStream"
	} >>"$LOGS/grpcweb_h2c_curl.log" 2>&1 || die "curl failed, see $LOGS/grpcweb_h2c_curl.log"
	# then 6 calls on one connection (streams 1..11) from go/cmd/webclient
	"$BIN/webclient" -addr=127.0.0.1:$port >"$LOGS/webclient.log" 2>&1 || die "webclient failed: $(cat "$LOGS/webclient.log")"
	cap_stop
	stop "$srv"
}

# gRPC-Web with JSON messages (application/grpc-web+json and
# application/grpc-web-text+json) over HTTP/1.1, same server (it registers
# the "json" codec, go/jsoncodec), one connection.
gen_grpcweb_json() {
	local port=50152 d=$WORK/grpcweb srv url
	url=http://127.0.0.1:$port
	mkdir -p "$d"
	grpc_json '{"name":"web json"}' >"$d/json.bin"
	grpc_json '{"name":"json stream"}' >"$d/jsonstream.bin"
	base64 -w0 "$d/jsonstream.bin" >"$d/jsonstream.txt"
	grpc_json '{}' >"$d/jsonempty.bin"
	bg grpcweb_json_server "$BIN/grpcweb" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	local b=(--http1.1 -sS -X POST -H 'x-grpc-web: 1')
	cap_start "$OUT/grpcweb_json.pcap" $port
	curl -v "${b[@]}" -H 'content-type: application/grpc-web+json' --data-binary @"$d/json.bin" -o "$d/j1" "$url/helloworld.Greeter/SayHello" \
		--next "${b[@]}" -H 'content-type: application/grpc-web+json' --data-binary @"$d/jsonstream.bin" -o "$d/j2" "$url/helloworld.Greeter/SayHelloStream" \
		--next "${b[@]}" -H 'content-type: application/grpc-web-text+json' -H 'accept: application/grpc-web-text+json' \
		--data-binary @"$d/jsonstream.txt" -o "$d/j3" "$url/helloworld.Greeter/SayHelloStream" \
		--next "${b[@]}" -H 'content-type: application/grpc-web+json' --data-binary @"$d/jsonempty.bin" -o "$d/j4" "$url/helloworld.Greeter/SayHello" \
		>"$LOGS/grpcweb_json_curl.log" 2>&1 || die "curl failed, see $LOGS/grpcweb_json_curl.log"
	cap_stop
	stop "$srv"
}

# grpc-gateway v2 (REST/JSON over HTTP/1.1 on 50160) in front of the gRPC
# server (50161), one process (go/cmd/gateway); both ports in one capture:
# each REST call and the gRPC call the gateway made for it (one h2c
# connection from the gateway, opened at the first call). curl makes all
# REST calls on one keep-alive connection.
gen_grpcgateway() {
	local port=50160 gport=50161 srv url
	url=http://127.0.0.1:$port
	bg gateway_server "$BIN/gateway" -http-addr=127.0.0.1:$port -grpc-addr=127.0.0.1:$gport
	srv=$BGPID
	wait_port $port
	wait_port $gport
	local j=(-sS -H 'content-type: application/json')
	cap_start "$OUT/grpcgateway.pcap" "$port or tcp port $gport"
	curl -v "${j[@]}" -X POST -d '{"value":"hello gateway","count":3,"big":"9007199254740993","blob":"AAEC/w=="}' "$url/v1/example/echo" \
		--next "${j[@]}" -H 'Grpc-Metadata-X-Client: curl' "$url/v1/users/1" \
		--next "${j[@]}" "$url/v1/users/42" \
		--next "${j[@]}" -X POST -d '{"name":"carol","tags":["new"],"role":"ROLE_MEMBER"}' "$url/v1/users?validate_only=false" \
		--next "${j[@]}" "$url/v1/users?role=ROLE_MEMBER" \
		--next "${j[@]}" -X POST -d '{"value":' "$url/v1/example/echo" \
		--next "${j[@]}" "$url/v1/nope" \
		>"$LOGS/gateway_curl.log" 2>&1 || die "curl failed, see $LOGS/gateway_curl.log"
	cap_stop
	stop "$srv"
	grep -q '"user 42 not found"' "$LOGS/gateway_curl.log" || die "grpcgateway: no NOT_FOUND answer, see $LOGS/gateway_curl.log"
}

# application/grpc+json: grpc-go client and server with a JSON codec
# (go/cmd/jsongreet), h2c, one connection.
gen_grpcgo_json() {
	local port=50170 srv
	bg jsongreet_server "$BIN/jsongreet" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/grpcgo_json.pcap" $port
	"$BIN/jsongreet" -mode=client -addr=127.0.0.1:$port >"$LOGS/jsongreet_client.log" 2>&1 ||
		die "jsongreet client failed: $(cat "$LOGS/jsongreet_client.log")"
	cap_stop
	stop "$srv"
}

# ---------------------------------------------------------------- Connect and Twirp
# Each client writes $OUT/NAME.truth.ndjson: one JSON line per call.

# connect_run NAME PORT HTTP CALLS: go/cmd/connectdemo server on PORT, its
# client with -http=HTTP (1.1 or h2c) and -calls=CALLS (full or mixed),
# captured into NAME.pcap.
connect_run() {
	local name=$1 port=$2 httpv=$3 calls=$4 srv
	bg "${name}_server" "$BIN/connectdemo" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/$name.pcap" $port
	# timeout: the client sets no deadline on most calls (so that they carry
	# no Connect-Timeout-Ms); a server that stops answering must not hang us
	timeout 120 "$BIN/connectdemo" -mode=client -addr=127.0.0.1:$port -http="$httpv" -calls="$calls" \
		-truth="$OUT/$name.truth.ndjson" >"$LOGS/${name}_client.log" 2>&1 ||
		die "connectdemo client failed: $(cat "$LOGS/${name}_client.log")"
	cap_stop
	stop "$srv"
}

# Connect protocol over HTTP/1.1 (go/cmd/connectdemo: connect-go server and
# client, Go net/http with HTTP/2 off): unary proto/JSON, errors with
# details, headers and trailers, timeout, GET (proto, JSON, empty, gzip,
# error), gzip, server/client streaming, and a bidi call that connect-go
# rejects over HTTP/1.1 (505). Calls in README.md.
gen_connect_h1() {
	connect_run connect_h1 50180 1.1 full
}

# The same calls over h2c (prior knowledge, one connection), the rejected
# bidi call replaced by two bidi calls (one ending with an error).
gen_connect_h2c() {
	connect_run connect_h2c 50181 h2c full
}

# One connect-go server port, h2c, answering a connect-go client in each of
# its three protocols: Connect, gRPC (WithGRPC) and gRPC-Web (WithGRPCWeb).
gen_connect_mixed() {
	connect_run connect_mixed 50182 h2c mixed
}

# connect-node (node/connectgreet.js): the server listens with h2c on 50183
# and HTTP/1.1 on 50185 (Node cannot serve both on one plaintext port).
gen_connect_node() {
	local port=50183 h1port=50185 srv
	bg connect_node_server node "$HERE/node/connectgreet.js" server $port $h1port
	srv=$BGPID
	wait_port $port
	wait_port $h1port
	cap_start "$OUT/connect_node.pcap" "$port or tcp port $h1port"
	node "$HERE/node/connectgreet.js" client $port $h1port "$OUT/connect_node.truth.ndjson" \
		>"$LOGS/connect_node_client.log" 2>&1 || die "connect-node client failed: $(cat "$LOGS/connect_node_client.log")"
	cap_stop
	stop "$srv"
}

# Twirp over HTTP/1.1 (go/cmd/twirpdemo, protoc-gen-twirp v8.1.3 code for
# proto/notes.proto), one keep-alive connection: protobuf and JSON calls,
# errors with meta, bad routes, a malformed body, and the /rpc prefix.
gen_twirp() {
	local port=50184 srv
	bg twirp_server "$BIN/twirpdemo" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/twirp.pcap" $port
	"$BIN/twirpdemo" -mode=client -addr=127.0.0.1:$port -truth="$OUT/twirp.truth.ndjson" \
		>"$LOGS/twirp_client.log" 2>&1 || die "twirpdemo client failed: $(cat "$LOGS/twirp_client.log")"
	cap_stop
	stop "$srv"
}

# Packed repeated fields (packed.proto) from two implementations, the same
# four samples each: grpc-go, then @grpc/grpc-js.
gen_grpcgo_packed() {
	local port=50190 srv
	bg packedsamples_server "$BIN/packedsamples" -mode=server -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/grpcgo_packed.pcap" $port
	"$BIN/packedsamples" -mode=client -addr=127.0.0.1:$port >"$LOGS/packedsamples_client.log" 2>&1 ||
		die "packedsamples client failed: $(cat "$LOGS/packedsamples_client.log")"
	cap_stop
	stop "$srv"
}

gen_node_packed() {
	local port=50191 srv
	bg node_packed_server node "$HERE/node/packed.js" server $port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/node_packed.pcap" $port
	node "$HERE/node/packed.js" client $port >"$LOGS/node_packed_client.log" 2>&1 ||
		die "node packed client failed: $(cat "$LOGS/node_packed_client.log")"
	cap_stop
	stop "$srv"
}

# Trace contexts (go/cmd/tracedclient): grpc-go SayHello calls, each in a
# trace of the client's, sending traceparent (otelgrpc), grpc-trace-bin,
# b3, X-B3-* and none; the client writes the trace and parent span ids it
# sent to grpcgo_traced.json beside the capture.
gen_grpcgo_traced() {
	local port=50180 srv
	bg traced_server "$BIN/greeter" -addr=127.0.0.1:$port
	srv=$BGPID
	wait_port $port
	cap_start "$OUT/grpcgo_traced.pcap" $port
	"$BIN/tracedclient" -addr=127.0.0.1:$port -spans="$OUT/grpcgo_traced.json" >"$LOGS/traced_client.log" 2>&1 ||
		die "traced client failed: $(cat "$LOGS/traced_client.log")"
	cap_stop
	stop "$srv"
}

ALL=(http1_only mixed_ports grpcgo_interop grpcgo_cut_midmessage grpcgo_interop_gzip py_helloworld py_grpcdemo py_grpcdemo_gzip
	py_routeguide py_routeguide_lossy node_grpcjs h2c_upgrade grpcgo_midstream grpcgo_concurrent any_sll2 ipv6_helloworld
	grpcgo_reflection tls13 tls12 tls13_hrr tls13_keyupdate node_grpcjs_tls tls12_cbc tls12_cbc_etm
	grpcweb_h1 grpcweb_h2c grpcweb_json grpcgateway grpcgo_json
	connect_h1 connect_h2c connect_mixed connect_node twirp grpcgo_packed node_packed
	grpcgo_interop_oneconn_midstream grpcgo_traced)

main() {
	local todo=("$@") t
	[ ${#todo[@]} -gt 0 ] || todo=("${ALL[@]}")
	for t in "${todo[@]}"; do
		declare -F "gen_$t" >/dev/null || die "unknown capture $t (known: ${ALL[*]})"
	done
	ensure_deps
	build_go
	build_py
	build_node
	for t in "${todo[@]}"; do
		log "capturing $t"
		"gen_$t"
	done
	cleanup
	log "done; logs in $LOGS; tshark's view of the captures (verify.py):"
	"$PY" "$HERE/verify.py" | tee "$LOGS/verify.txt" >&2
}

main "$@"
