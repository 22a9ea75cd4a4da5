"""routeguide.RouteGuide client (classic gRPC example), deterministic.

  GetFeature(409146138,-746188906) -> named feature
  GetFeature(0,0)                  -> Feature with empty name (not found)
  ListFeatures(lo=40.0,-75.0 hi=42.0,-73.0) -> all 13 features (stream)
  RecordRoute(5 points)            -> RouteSummary(point_count=5, feature_count=5)
  RouteChat(5 notes)               -> 3 notes echoed back (bidi)
"""
import argparse
import time

import grpc

import route_guide_pb2
import route_guide_pb2_grpc
from routeguide_common import feature_list


def make_route_note(message, latitude, longitude):
    return route_guide_pb2.RouteNote(message=message,
                                     location=route_guide_pb2.Point(latitude=latitude, longitude=longitude))


def guide_get_one_feature(stub, point):
    feature = stub.GetFeature(point)
    if not feature.location:
        print("Server returned incomplete feature")
        return
    if feature.name:
        print("Feature called %s at %s" % (feature.name, feature.location))
    else:
        print("Found no feature at %s" % feature.location)


def guide_list_features(stub):
    rectangle = route_guide_pb2.Rectangle(
        lo=route_guide_pb2.Point(latitude=400000000, longitude=-750000000),
        hi=route_guide_pb2.Point(latitude=420000000, longitude=-730000000))
    print("Looking for features between 40, -75 and 42, -73")
    for feature in stub.ListFeatures(rectangle):
        print("Feature called %s at %s" % (feature.name, feature.location))


def guide_record_route(stub):
    db = feature_list()

    def points():
        for feature in db[:5]:
            print("Visiting point %s" % feature.location)
            yield feature.location
            time.sleep(0.05)

    summary = stub.RecordRoute(points())
    print("Finished trip with %s points " % summary.point_count)
    print("Passed %s features " % summary.feature_count)
    print("Travelled %s meters " % summary.distance)
    print("It took %s seconds " % summary.elapsed_time)


def generate_messages():
    messages = [
        make_route_note("First message", 0, 0),
        make_route_note("Second message", 0, 1),
        make_route_note("Third message", 1, 0),
        make_route_note("Fourth message", 0, 0),
        make_route_note("Fifth message", 1, 0),
    ]
    for msg in messages:
        print("Sending %s at %s" % (msg.message, msg.location))
        yield msg
        time.sleep(0.05)


def guide_route_chat(stub):
    for response in stub.RouteChat(generate_messages()):
        print("Received message %s at %s" % (response.message, response.location))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=50051)
    args = ap.parse_args()
    with grpc.insecure_channel("127.0.0.1:%d" % args.port) as channel:
        stub = route_guide_pb2_grpc.RouteGuideStub(channel)
        print("-------------- GetFeature --------------")
        guide_get_one_feature(stub, route_guide_pb2.Point(latitude=409146138, longitude=-746188906))
        guide_get_one_feature(stub, route_guide_pb2.Point(latitude=0, longitude=0))
        print("-------------- ListFeatures --------------")
        guide_list_features(stub)
        print("-------------- RecordRoute --------------")
        guide_record_route(stub)
        print("-------------- RouteChat --------------")
        guide_route_chat(stub)


if __name__ == "__main__":
    main()
