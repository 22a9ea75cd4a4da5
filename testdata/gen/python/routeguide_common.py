"""Small embedded feature list for the route_guide example (subset of the
classic route_guide_db.json) and helpers shared by server and client."""
import math

import route_guide_pb2

FEATURES = [
    (407838351, -746143763, "Patriots Path, Mendham, NJ 07945, USA"),
    (408122808, -743999179, "101 New Jersey 10, Whippany, NJ 07981, USA"),
    (413628156, -749015468, "U.S. 6, Shohola, PA 18458, USA"),
    (419999544, -740371136, "5 Conners Road, Kingston, NY 12401, USA"),
    (414008389, -743951297, "Mid Hudson Psychiatric Center, New Hampton, NY 10958, USA"),
    (419611318, -746524769, "287 Flugertown Road, Livingston Manor, NY 12758, USA"),
    (406109563, -742186778, "4001 Tremley Point Road, Linden, NJ 07036, USA"),
    (416802456, -742370183, "352 South Mountain Road, Wallkill, NY 12589, USA"),
    (412950425, -741077389, "Bailey Turn Road, Harriman, NY 10926, USA"),
    (412144655, -743949739, "193-199 Wawayanda Road, Hewitt, NJ 07421, USA"),
    (415736605, -742847522, "406-496 Ward Avenue, Pine Bush, NY 12566, USA"),
    (409146138, -746188906, "Berkshire Valley Management Area Trail, Jefferson, NJ, USA"),
    (416855156, -744420597, ""),
]


def feature_list():
    return [
        route_guide_pb2.Feature(name=name, location=route_guide_pb2.Point(latitude=lat, longitude=lon))
        for lat, lon, name in FEATURES
    ]


def get_distance(start, end):
    """Distance between two points in metres (haversine)."""
    coord_factor = 10000000.0
    lat_1 = math.radians(start.latitude / coord_factor)
    lat_2 = math.radians(end.latitude / coord_factor)
    lon_1 = math.radians(start.longitude / coord_factor)
    lon_2 = math.radians(end.longitude / coord_factor)
    delta_lat = lat_2 - lat_1
    delta_lon = lon_2 - lon_1
    a = math.pow(math.sin(delta_lat / 2), 2) + (
        math.cos(lat_1) * math.cos(lat_2) * math.pow(math.sin(delta_lon / 2), 2))
    c = 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))
    return 6371000 * c
