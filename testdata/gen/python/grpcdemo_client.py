"""demo.GRPCDemo client (after grpc/examples/python/data_transmission).

Calls, over one channel:
  SimpleMethod (unary), ClientStreamingMethod (3 requests),
  ServerStreamingMethod (3 responses), BidirectionalStreamingMethod (3 + 3),
all with client_id=1 and request_data "called by Python client...".
With --gzip the channel uses compression=grpc.Compression.Gzip and one extra
SimpleMethod call with a long, compressible request_data is made (gzip is only
applied by grpc core to messages it actually shrinks).
"""
import argparse
import time

import grpc

import demo_pb2
import demo_pb2_grpc

CLIENT_ID = 1


def simple_method(stub, data="called by Python client"):
    print("--------------Call SimpleMethod Begin--------------")
    request = demo_pb2.Request(client_id=CLIENT_ID, request_data=data)
    response = stub.SimpleMethod(request)
    print("resp from server(%d), the message=%s" % (response.server_id, response.response_data))


def client_streaming_method(stub):
    def request_messages():
        for i in range(3):
            yield demo_pb2.Request(client_id=CLIENT_ID, request_data="called by Python client, message:%d" % i)

    response = stub.ClientStreamingMethod(request_messages())
    print("resp from server(%d), the message=%s" % (response.server_id, response.response_data))


def server_streaming_method(stub):
    request = demo_pb2.Request(client_id=CLIENT_ID, request_data="called by Python client")
    for response in stub.ServerStreamingMethod(request):
        print("recv from server(%d), message=%s" % (response.server_id, response.response_data))


def bidirectional_streaming_method(stub):
    def request_messages():
        for i in range(3):
            yield demo_pb2.Request(client_id=CLIENT_ID, request_data="called by Python client, message: %d" % i)
            time.sleep(0.1)

    for response in stub.BidirectionalStreamingMethod(request_messages()):
        print("recv from server(%d), message=%s" % (response.server_id, response.response_data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=23333)
    ap.add_argument("--gzip", action="store_true")
    args = ap.parse_args()
    kw = {"compression": grpc.Compression.Gzip} if args.gzip else {}
    with grpc.insecure_channel("127.0.0.1:%d" % args.port, **kw) as channel:
        stub = demo_pb2_grpc.GRPCDemoStub(channel)
        simple_method(stub)
        client_streaming_method(stub)
        server_streaming_method(stub)
        bidirectional_streaming_method(stub)
        if args.gzip:
            simple_method(stub, "called by Python client " * 20)


if __name__ == "__main__":
    main()
