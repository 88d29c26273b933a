"""Coordinate reference systems, handled in one place: parsing, checking, reprojecting, geodesic areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as _PyprojCRSError

from .errors import CRSError, LayerError

#: VN-2000 / TM-3 zone 482 (central meridian 105°00', scale 0.9999): Cần Thơ's cadastral CRS.
DEFAULT_WORKING_CRS = "EPSG:5897"


def parse_crs(value: str) -> pyproj.CRS:
    """Parse ``value`` (``"EPSG:5897"``, WKT, PROJ string) into a CRS; raise :class:`CRSError` if unknown."""
    try:
        return pyproj.CRS.from_user_input(value)
    except _PyprojCRSError as exc:
        raise CRSError(f"unknown CRS {value!r}: {exc}") from None


def check_working_crs(crs: pyproj.CRS) -> None:
    """Raise :class:`CRSError` unless ``crs`` is projected with metre units (areas in m² need that)."""
    if not crs.is_projected:
        raise CRSError(
            f"working CRS {crs.to_string()} is not projected (its units are degrees); "
            f"areas must be measured in a projected metric CRS such as {DEFAULT_WORKING_CRS} (VN-2000 / TM-3 105°)"
        )
    units = {ax.unit_name for ax in crs.axis_info}
    if not units <= {"metre", "meter", "m"}:
        raise CRSError(f"working CRS {crs.to_string()} has units {sorted(units)}; a metric CRS is required")


def to_working(gdf: gpd.GeoDataFrame, crs: pyproj.CRS, *, source: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the working ``crs``; refuse a layer without a CRS.

    ``source`` names the file and layer in the error message.
    """
    if gdf.crs is None:
        raise LayerError(
            f"{source}: the layer has no coordinate reference system. "
            f"Fix: define it in QGIS (Layer ▸ Set CRS) or add a .prj; Cần Thơ cadastre is usually {DEFAULT_WORKING_CRS}"
        )
    if pyproj.CRS(gdf.crs).equals(crs):
        return gdf
    return gdf.to_crs(crs)


def assert_working(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in ``crs`` (used by functions that measure)."""
    if gdf.crs is None or not pyproj.CRS(gdf.crs).equals(crs):
        raise CRSError(f"expected a layer in {crs.to_string()}, got {gdf.crs}")


def geodesic_area_m2(geoms: np.ndarray | gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    """Ellipsoidal (geodesic) area in m² of polygons given in ``crs``, on that CRS's ellipsoid.

    Notes
    -----
    Geometries are transformed to the CRS's geographic CRS (for VN-2000, the WGS 84 ellipsoid of
    VN-2000 itself, no datum shift) and measured with :meth:`pyproj.Geod.geometry_area_perimeter`.
    Edges are densified to 50 m first so straight projected edges are followed closely.
    """
    arr = np.asarray(geoms, dtype=object)
    geodetic = crs.geodetic_crs
    assert geodetic is not None
    geod = geodetic.get_geod()
    assert geod is not None
    tr = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True)
    dense = shapely.segmentize(arr, 50.0)
    ll = shapely.transform(dense, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    out = np.empty(len(arr), dtype="float64")
    for i, g in enumerate(ll):
        out[i] = 0.0 if g is None or g.is_empty else abs(geod.geometry_area_perimeter(g)[0])
    return out
