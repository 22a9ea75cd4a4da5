#!/usr/bin/python3
"""Summarise the captures in testdata/pcaps/ with tshark (Wireshark's own
HTTP/2 + gRPC dissectors), as an independent check of what they contain.

    /usr/bin/python3 testdata/gen/verify.py [FILE...]

For each file: format / link type / packet count (capinfos), then one line per
HTTP/2 stream that tshark could attribute to a gRPC call: TCP conn, stream id,
:path (and how HPACK encoded it), grpc messages seen by tshark, final status
(grpc-status from trailers, "TO" = Trailers-Only response, RST_STREAM code).
"""
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PCAPS = os.path.join(os.path.dirname(HERE), "pcaps")

# file -> (port, dissector to force on that port)
PORTS = {
    "grpcgo_interop.pcap": (50101, "http2"),
    "grpcgo_interop_gzip.pcapng": (50102, "http2"),
    "py_helloworld.pcap": (50103, "http2"),
    "py_grpcdemo.pcap": (23333, "http2"),
    "py_grpcdemo_gzip.pcap": (23333, "http2"),
    "py_routeguide.pcap": (50105, "http2"),
    "node_grpcjs.pcap": (50106, "http2"),
    # HTTP/1.1 first; Wireshark's http dissector follows "101 Switching
    # Protocols" + "Upgrade: h2c" into http2.
    "h2c_upgrade.pcap": (50107, "http"),
    "grpcgo_midstream.pcap": (50108, "http2"),
    "any_sll2.pcap": (50109, "http2"),
    "ipv6_helloworld.pcap": (50110, "http2"),
    # gRPC-Web (tshark 4.0 decodes application/grpc-web and -text, not +json)
    "grpcweb_h1.pcap": (50150, "http"),
    "grpcweb_h2c.pcap": (50151, "http2"),
    "grpcweb_json.pcap": (50152, "http"),
    # REST side (HTTP/1.1) on 50160, the gateway's gRPC calls on 50161
    "grpcgateway.pcap": (50160, "http"),
    "grpcgo_json.pcap": (50170, "http2"),
    # Connect and Twirp: tshark 4.0 has no dissector for either; it shows
    # the HTTP/1.1 or HTTP/2 beneath (and gRPC / gRPC-Web in connect_mixed)
    "connect_h1.pcap": (50180, "http"),
    "connect_h2c.pcap": (50181, "http2"),
    "connect_mixed.pcap": (50182, "http2"),
    "connect_node.pcap": (50183, "http2"),
    "twirp.pcap": (50184, "http"),
    "grpcgo_packed.pcap": (50190, "http2"),
    "node_packed.pcap": (50191, "http2"),
}

# further "decode as" for files with more than one port
EXTRA_DECODE = {
    "grpcgateway.pcap": [(50161, "http2")],
    "connect_node.pcap": [(50185, "http")],
}

REPR_SHORT = {
    "Indexed Header Field": "idx",
    "Literal Header Field with Incremental Indexing - Indexed Name": "lit+idx(name)",
    "Literal Header Field with Incremental Indexing - New Name": "lit+idx",
    "Literal Header Field without Indexing - Indexed Name": "lit-noidx(name)",
    "Literal Header Field without Indexing - New Name": "lit-noidx",
    "Literal Header Field never Indexed - Indexed Name": "lit-never(name)",
    "Literal Header Field never Indexed - New Name": "lit-never",
}


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def capinfo(path):
    out = subprocess.run(["capinfos", "-t", "-E", "-c", "-i", "-a", path],
                         capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def summarise(path):
    name = os.path.basename(path)
    port, proto = PORTS.get(name, (None, "http2"))
    ci = capinfo(path)
    size = os.path.getsize(path)
    print("== %s (%d bytes): %s, %s, %s packets, %s" % (
        name, size, ci.get("File type"), ci.get("File encapsulation"),
        ci.get("Number of packets"), ci.get("File timestamp precision", "")))
    cmd = ["tshark", "-r", path, "-T", "json", "--no-duplicate-keys", "-J", "tcp http http2 grpc"]
    if port:
        cmd[3:3] = ["-d", "tcp.port==%d,%s" % (port, proto)]
    for xport, xproto in EXTRA_DECODE.get(name, []):
        cmd[3:3] = ["-d", "tcp.port==%d,%s" % (xport, xproto)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    pkts = json.loads(res.stdout or "[]")
    streams = collections.OrderedDict()
    grpc_msgs = 0
    grpc_compressed = 0
    http1 = []

    def st(conn, sid):
        key = (conn, sid)
        if key not in streams:
            streams[key] = {"path": None, "repr": None, "status": None, "to": False,
                            "rst": None, "msg": None, "data": 0, "hdrs": 0}
        return streams[key]

    for p in pkts:
        layers = p["_source"]["layers"]
        tcp = layers.get("tcp", {})
        conn = tcp.get("tcp.stream")
        for g in as_list(layers.get("grpc")):
            grpc_msgs += 1
            if g.get("grpc.compressed_flag") == "1":
                grpc_compressed += 1
        for h in as_list(layers.get("http")):
            if not isinstance(h, dict):
                continue
            for k in h:
                if k.startswith(("HTTP/1.1", "POST ", "GET ", "OPTIONS ")) and "\\r\\n" in k:
                    http1.append(k.replace("\\r\\n", ""))
        for h2 in as_list(layers.get("http2")):
            if not isinstance(h2, dict):
                continue
            for s in as_list(h2.get("http2.stream")):
                if not isinstance(s, dict) or "http2.streamid" not in s:
                    continue
                sid = int(s["http2.streamid"])
                ftype = s.get("http2.type")
                if sid == 0:
                    continue
                if ftype == "0":
                    st(conn, sid)["data"] += 1
                elif ftype == "3":
                    st(conn, sid)["rst"] = s.get("http2.rst_stream.error")
                elif ftype == "1":
                    e = st(conn, sid)
                    e["hdrs"] += 1
                    hdrs = {}
                    for hd in as_list(s.get("http2.header")):
                        n = hd.get("http2.header.name")
                        hdrs[n] = hd
                    if ":path" in hdrs:
                        e["path"] = hdrs[":path"].get("http2.header.value")
                        e["repr"] = REPR_SHORT.get(hdrs[":path"].get("http2.header.repr"),
                                                   hdrs[":path"].get("http2.header.repr"))
                    if "grpc-status" in hdrs:
                        e["status"] = hdrs["grpc-status"].get("http2.header.value")
                        e["to"] = ":status" in hdrs
                        if "grpc-message" in hdrs:
                            e["msg"] = hdrs["grpc-message"].get("http2.header.unescaped") or \
                                hdrs["grpc-message"].get("http2.header.value")
    for line in http1:
        print("   http/1.1: %s" % line)
    calls = 0
    for (conn, sid), e in streams.items():
        calls += 1
        status = e["status"] if e["status"] is not None else "-"
        extra = []
        if e["to"]:
            extra.append("TO")
        if e["rst"] is not None:
            extra.append("RST=%s" % e["rst"])
        if e["msg"]:
            extra.append(repr(e["msg"]))
        print("   conn %-2s stream %-3d %-50s [%s] headers=%d data=%-3d status=%s %s" % (
            conn, sid, e["path"] or "(no :path decoded)", e["repr"] or "-", e["hdrs"], e["data"], status,
            " ".join(extra)))
    print("   => %d calls/streams, %d grpc messages decoded by tshark (%d with compressed flag)" % (
        calls, grpc_msgs, grpc_compressed))


def main():
    files = sys.argv[1:] or [os.path.join(PCAPS, f) for f in PORTS if os.path.exists(os.path.join(PCAPS, f))]
    for f in files:
        summarise(f)


if __name__ == "__main__":
    main()
