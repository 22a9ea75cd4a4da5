"""helloworld.Greeter + muxs.FileController on one grpcio server/port.

Used for py_helloworld.pcap. Behaviour:
  Greeter.SayHello(name)  -> "Hello, <name>!"; name == "sleepy" sleeps 2 s first
                             (the client calls it with a 0.5 s deadline, so the
                             call ends with DEADLINE_EXCEEDED).
  Greeter.Square(value)   -> value * value (Number.value is a float).
  FileController.Read     -> in-memory file data, or aborts NOT_FOUND with the
                             non-ASCII message "文件不存在: <path>"
                             (percent-encoded in grpc-message).
  FileController.Write    -> stores data, returns written = len(data).
"""
import argparse
import threading
import time
from concurrent import futures

import grpc

import helloworld_pb2
import helloworld_pb2_grpc
import muxs_pb2
import muxs_pb2_grpc


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):
        if request.name == "sleepy":
            time.sleep(2)
        return helloworld_pb2.HelloReply(message="Hello, %s!" % request.name)

    def Square(self, request, context):
        return helloworld_pb2.Number(value=request.value * request.value)


class FileController(muxs_pb2_grpc.FileControllerServicer):
    def __init__(self):
        self._lock = threading.Lock()
        self._files = {"/hello.txt": b"hello world\n"}

    def Read(self, request, context):
        with self._lock:
            data = self._files.get(request.path)
        if data is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "文件不存在: %s" % request.path)
        return muxs_pb2.ReadReply(data=data)

    def Write(self, request, context):
        with self._lock:
            self._files[request.path] = request.data
        return muxs_pb2.WriteReply(written=len(request.data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=50051)
    args = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
    muxs_pb2_grpc.add_FileControllerServicer_to_server(FileController(), server)
    server.add_insecure_port("127.0.0.1:%d" % args.port)
    server.start()
    print("helloworld+muxs server on port", args.port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
