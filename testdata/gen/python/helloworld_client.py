"""Client for helloworld_server.py: all calls over ONE channel (one TCP/HTTP2
connection). Used for py_helloworld.pcap.

  1. Greeter/SayHello(name="you")          -> OK "Hello, you!"
  2. Greeter/Square(4)                     -> OK 16
  3. FileController/Read("/hello.txt")     -> OK b"hello world\\n"
  4. FileController/Write("/data.bin", 16 bytes) -> OK written=16
  5. FileController/Read("/data.bin")      -> OK (the 16 bytes)
  6. Greeter/SayHello(name="sleepy"), 0.5 s deadline -> DEADLINE_EXCEEDED
  7. FileController/Read("/nope.txt")      -> NOT_FOUND "文件不存在: /nope.txt"
  8. Greeter/SayHello(name="again")        -> OK (after the errors, same conn)
"""
import argparse

import grpc

import helloworld_pb2
import helloworld_pb2_grpc
import muxs_pb2
import muxs_pb2_grpc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=50051)
    args = ap.parse_args()
    with grpc.insecure_channel("127.0.0.1:%d" % args.port) as channel:
        greeter = helloworld_pb2_grpc.GreeterStub(channel)
        files = muxs_pb2_grpc.FileControllerStub(channel)

        r = greeter.SayHello(helloworld_pb2.HelloRequest(name="you"))
        print("SayHello:", r.message)
        r = greeter.Square(helloworld_pb2.Number(value=4))
        print("Square(4):", r.value)
        r = files.Read(muxs_pb2.ReadRequest(path="/hello.txt"))
        print("Read:", r.data)
        r = files.Write(muxs_pb2.WriteRequest(path="/data.bin", data=bytes(range(16))),
                        metadata=[("x-client", "py-helloworld")])
        print("Write:", r.written)
        r = files.Read(muxs_pb2.ReadRequest(path="/data.bin"))
        print("Read:", r.data)
        try:
            greeter.SayHello(helloworld_pb2.HelloRequest(name="sleepy"), timeout=0.5)
            raise SystemExit("expected DEADLINE_EXCEEDED")
        except grpc.RpcError as e:
            print("SayHello(sleepy):", e.code(), e.details())
            assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e.code()
        try:
            files.Read(muxs_pb2.ReadRequest(path="/nope.txt"))
            raise SystemExit("expected NOT_FOUND")
        except grpc.RpcError as e:
            print("Read(/nope.txt):", e.code(), e.details())
            assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
        r = greeter.SayHello(helloworld_pb2.HelloRequest(name="again"))
        print("SayHello:", r.message)


if __name__ == "__main__":
    main()
