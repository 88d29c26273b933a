"""CRS handling: the ellipsoidal area check, CRS refusal, and the working-CRS rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import box

from landplan.crs import check_working_crs, geodesic_area_m2, parse_crs, to_working
from landplan.errors import CRSError, LayerError

VN2000 = pyproj.CRS("EPSG:5897")


def _geod_reference(geoms, crs):
    """The same area with pyproj.Geod, polygon by polygon (slow but independent)."""
    geod = crs.geodetic_crs.get_geod()
    tr = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    ll = shapely.transform(shapely.segmentize(np.asarray(geoms, dtype=object), 50.0),
                           lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in ll])


def test_ellipsoidal_area_matches_geod():
    rng = np.random.default_rng(1)
    x = 560_000 + rng.uniform(0, 40_000, 50)
    y = 1_100_000 + rng.uniform(0, 30_000, 50)
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(5, 800, 50), quad_segs=4)
    ours = geodesic_area_m2(geoms, VN2000)
    ref = _geod_reference(geoms, VN2000)
    assert ours == pytest.approx(ref, rel=1e-7)
    planar = shapely.area(geoms)
    assert np.all(np.abs(ours / planar - 1) < 1e-3)  # ~0.01-0.04 % at Cần Thơ, far under 0.1 %


def test_ellipsoidal_area_of_nothing():
    assert geodesic_area_m2(np.array([], dtype=object), VN2000).shape == (0,)


def test_geographic_working_crs_refused():
    with pytest.raises(CRSError, match="not projected"):
        check_working_crs(pyproj.CRS("EPSG:4326"))
    with pytest.raises(CRSError, match="unknown CRS"):
        parse_crs("EPSG:12345678")


def test_layer_without_crs_refused_with_fix():
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])
    with pytest.raises(LayerError, match=r"parcels\.shp: the layer has no coordinate reference system.*Set CRS"):
        to_working(gdf, VN2000, source="parcels.shp")


def test_utm_reads_slightly_lower_than_vn2000():
    # DESIGN.md §4: UTM 48N reads about 0.07 % lower than VN-2000 / TM-3 for the same land at Cần Thơ.
    square = gpd.GeoDataFrame(geometry=[box(583_000, 1_109_000, 584_000, 1_110_000)], crs=VN2000)
    utm = square.to_crs("EPSG:32648")
    ratio = utm.area.iloc[0] / square.area.iloc[0]
    assert 0.9990 < ratio < 0.99975


def test_scale_factor_interpolated_within_its_bound():
    """The areal scale factor interpolated from the 1 km grid is within h²/4R² (6e-9) of PROJ's own value at
    each centroid, far from the central meridian too, and the same for a polygon whatever else is measured."""
    from landplan.crs import SCALE_GRID_M

    rng = np.random.default_rng(7)
    x = 400_000 + rng.uniform(0, 300_000, 400)  # up to 100 km and more either side of 105° (500 km easting)
    y = 1_050_000 + rng.uniform(0, 100_000, 400)
    geoms = shapely.box(x, y, x + rng.uniform(5, 50, 400), y + rng.uniform(5, 50, 400))
    ours = geodesic_area_m2(geoms, VN2000)
    c = shapely.centroid(geoms)
    lon, lat = pyproj.Transformer.from_crs(VN2000, VN2000.geodetic_crs, always_xy=True).transform(shapely.get_x(c), shapely.get_y(c))
    direct = shapely.area(geoms) / np.asarray(pyproj.Proj(VN2000).get_factors(lon, lat).areal_scale)
    bound = SCALE_GRID_M ** 2 / (4 * 6_371_000.0 ** 2)
    assert np.abs(ours / direct - 1).max() < 1.2 * bound
    assert np.abs(ours / direct - 1).max() > bound / 100  # the grid is in use: not PROJ at each centroid
    alone = np.array([geodesic_area_m2(geoms[k:k + 1], VN2000)[0] for k in range(0, 400, 37)])
    assert np.array_equal(alone, ours[::37])
