"""places.geo: distances and offsets on the WGS84 sphere."""

import math

import pytest

from timebank.places.geo import haversine_m, offset, valid_coordinates

SHIQI = (22.5220, 113.3780)
TANZHOU = (22.2650, 113.4650)


def test_shiqi_to_tanzhou_is_about_30_km():
    d = haversine_m(*SHIQI, *TANZHOU)
    assert 25_000 < d < 35_000
    assert d == pytest.approx(haversine_m(*TANZHOU, *SHIQI))


def test_zero_and_known_distances():
    assert haversine_m(*SHIQI, *SHIQI) == 0
    # one degree of latitude is about 111.2 km
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    # antipodes: half the circumference
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8, rel=1e-9)


def test_offset_round_trip():
    lat, lon = offset(*SHIQI, north_m=300, east_m=400)
    assert haversine_m(*SHIQI, lat, lon) == pytest.approx(500, rel=1e-3)


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (22.5, 113.4, True),
        (90, 180, True),
        (-90, -180, True),
        (90.1, 0, False),
        (0, -180.1, False),
        (None, 1, False),
        (1, None, False),
        (math.nan, 0, False),
        (0, math.inf, False),
    ],
)
def test_valid_coordinates(lat, lon, ok):
    assert valid_coordinates(lat, lon) is ok
