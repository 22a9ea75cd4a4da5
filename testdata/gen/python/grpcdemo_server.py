"""demo.GRPCDemo server (after grpc/examples/python/data_transmission).

Used for py_grpcdemo.pcap and (with --gzip) py_grpcdemo_gzip.pcap.
SimpleMethod echoes long request_data (> 100 chars) back in response_data, so
that the gzip capture has a response large enough for gzip to be worthwhile
(grpc core sends a message uncompressed when compressing would not shrink it).
"""
import argparse
import threading
import time
from concurrent import futures

import grpc

import demo_pb2
import demo_pb2_grpc

SERVER_ID = 1


class DemoServer(demo_pb2_grpc.GRPCDemoServicer):
    def SimpleMethod(self, request, context):
        print("SimpleMethod called by client(%d) the message: %s" % (request.client_id, request.request_data), flush=True)
        data = "Python server SimpleMethod Ok!!!!"
        if len(request.request_data) > 100:
            data += " echo: " + request.request_data
        return demo_pb2.Response(server_id=SERVER_ID, response_data=data)

    def ClientStreamingMethod(self, request_iterator, context):
        print("ClientStreamingMethod called by client...", flush=True)
        for request in request_iterator:
            print("recv from client(%d), message= %s" % (request.client_id, request.request_data), flush=True)
        return demo_pb2.Response(server_id=SERVER_ID, response_data="Python server ClientStreamingMethod ok")

    def ServerStreamingMethod(self, request, context):
        print("ServerStreamingMethod called by client(%d), message= %s" % (request.client_id, request.request_data), flush=True)
        for i in range(3):
            yield demo_pb2.Response(server_id=SERVER_ID, response_data="send by Python server, message=%d" % i)

    def BidirectionalStreamingMethod(self, request_iterator, context):
        print("BidirectionalStreamingMethod called by client...", flush=True)

        def parse_request():
            for request in request_iterator:
                print("recv from client(%d), message= %s" % (request.client_id, request.request_data), flush=True)

        t = threading.Thread(target=parse_request)
        t.start()
        for i in range(3):
            yield demo_pb2.Response(server_id=SERVER_ID, response_data="send by Python server, message= %d" % i)
            time.sleep(0.1)
        t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=23333)
    ap.add_argument("--gzip", action="store_true", help="server-side default compression gzip")
    args = ap.parse_args()
    kw = {"compression": grpc.Compression.Gzip} if args.gzip else {}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), **kw)
    demo_pb2_grpc.add_GRPCDemoServicer_to_server(DemoServer(), server)
    server.add_insecure_port("127.0.0.1:%d" % args.port)
    server.start()
    print("GRPCDemo server on port", args.port, "gzip" if args.gzip else "", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
