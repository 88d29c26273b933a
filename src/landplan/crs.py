"""Coordinate reference systems, handled in one place: parsing, checking, reprojecting, geodesic areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as _PyprojCRSError

from .arrays import simple_polygons, unique
from .errors import CRSError, LayerError
from .parallel import geos_map

#: VN-2000 / TM-3 zone 482 (central meridian 105°00', scale 0.9999): Cần Thơ's cadastral CRS.
DEFAULT_WORKING_CRS = "EPSG:5897"


def parse_crs(value: str) -> pyproj.CRS:
    """Parse ``value`` (``"EPSG:5897"``, WKT, PROJ string) into a CRS; raise :class:`CRSError` if unknown."""
    try:
        return pyproj.CRS.from_user_input(value)
    except _PyprojCRSError as exc:
        raise CRSError(f"unknown CRS {value!r}: {exc}") from exc


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


def transformer(src: pyproj.CRS, dst: pyproj.CRS, *, source: str) -> pyproj.Transformer:
    """A transformer from ``src`` to ``dst`` (x, y order), or :class:`LayerError` naming ``source`` when
    there is none (a local "engineering" CRS has no link to the Earth; a CRS PROJ cannot build)."""
    try:
        return pyproj.Transformer.from_crs(src, dst, always_xy=True)
    except _PyprojCRSError as exc:
        raise LayerError(_no_transform(src, dst, source, exc)) from exc
    except pyproj.exceptions.ProjError as exc:
        raise LayerError(_no_transform(src, dst, source, exc)) from exc


def _no_transform(src: pyproj.CRS, dst: pyproj.CRS, source: str, exc: Exception) -> str:
    local = "engineering" in str(getattr(src, "type_name", "")).lower() or src.to_wkt().startswith(("LOCAL_CS", "ENGCRS", "ENGINEERING"))
    why = ("its CRS is a local (engineering) system with no link to the Earth, so nothing can place it on the map"
           if local else f"PROJ cannot transform it ({str(exc).splitlines()[0]})")
    return (f"{source}: its CRS {src.name!r} cannot be transformed to the working CRS {dst.to_string()}: {why}. Fix: assign the "
            f"layer its real CRS (QGIS: Layer ▸ Set CRS; Cần Thơ cadastre is usually {DEFAULT_WORKING_CRS})")


def to_working(gdf: gpd.GeoDataFrame, crs: pyproj.CRS, *, source: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the working ``crs``; refuse a layer without a CRS.

    ``source`` names the file and layer in the error message.
    """
    if gdf.crs is None:
        raise LayerError(
            f"{source}: the layer has no coordinate reference system. "
            f"Fix: define it in QGIS (Layer ▸ Set CRS) or add a .prj; Cần Thơ cadastre is usually {DEFAULT_WORKING_CRS}"
        )
    src = pyproj.CRS(gdf.crs)
    if src.equals(crs):
        return gdf
    tr = transformer(src, crs, source=source)  # refuses a CRS that cannot be transformed, naming the layer
    if len(gdf):
        xmin, ymin, xmax, ymax = gdf.total_bounds
        shift = datum_shift_m(src, crs, (xmin + xmax) / 2, (ymin + ymax) / 2)
        if shift is not None and shift > DATUM_SHIFT_ALARM_M:
            src_datum = src.datum.name if src.datum else "?"
            dst_datum = crs.datum.name if crs.datum else "?"
            raise LayerError(
                f"{source}: its CRS has the same projection as the working CRS {crs.to_string()} but the datum "
                f"{src_datum!r} instead of {dst_datum!r}, so reprojecting would move it {shift:,.0f} m. "
                f"If the data was digitised in VN-2000 (as Vietnamese cadastre is), its .prj is wrong: fix it by "
                f"assigning {crs.to_string()} to the layer (QGIS: Layer ▸ Set CRS, not Export/reproject)"
            )
    del tr
    return gdf.to_crs(crs)


def datum_shift_m(src: pyproj.CRS, dst: pyproj.CRS, x: float, y: float) -> float | None:
    """How far reprojecting ``src`` → ``dst`` moves the point (x, y), when the two CRSs share their
    projection (method and parameters) but not their datum; ``None`` otherwise.

    This is the VN-2000 mistake of DESIGN.md §4: a layer digitised in VN-2000 whose .prj names the
    right TM-3 projection on WGS 84 (or lacks the datum shift) is moved about 226 m at Cần Thơ.
    """
    a, b = src.coordinate_operation, dst.coordinate_operation
    if not (src.is_projected and dst.is_projected and a is not None and b is not None):
        return None
    pa_list, pb_list = list(a.params), list(b.params)
    if a.method_name != b.method_name or len(pa_list) != len(pb_list):
        return None
    for pa, pb in zip(sorted(pa_list, key=lambda p: p.name), sorted(pb_list, key=lambda p: p.name)):
        va, vb = float(pa.value), float(pb.value)
        if pa.name != pb.name or abs(va - vb) > 1e-9 * max(1.0, abs(vb)):
            return None
    if src.geodetic_crs is not None and dst.geodetic_crs is not None and src.geodetic_crs.equals(dst.geodetic_crs):
        return None
    tx, ty = pyproj.Transformer.from_crs(src, dst, always_xy=True).transform(x, y)
    return float(np.hypot(tx - x, ty - y))


#: A shift above this (m) between CRSs with the same projection is taken as a datum mistake.
DATUM_SHIFT_ALARM_M = 50.0


def assert_working(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in ``crs`` (used by functions that measure)."""
    if gdf.crs is None or not pyproj.CRS(gdf.crs).equals(crs):
        raise CRSError(f"expected a layer in {crs.to_string()}, got {gdf.crs}")


def centroids(polys: np.ndarray) -> np.ndarray:
    """Each polygon's centroid ``(n, 2)``: by the shoelace formula on its coordinates for a polygon without
    holes (:func:`landplan.arrays.shoelace`; no point geometry made), by GEOS for the others (NaN for an empty one)."""
    polys = np.asarray(polys, dtype=object)
    xy = np.full((len(polys), 2), np.nan)
    rows, _, s = simple_polygons(polys)
    xy[rows] = s.origin + np.column_stack([s.cx, s.cy])
    other = np.flatnonzero(~np.isfinite(xy).all(axis=1))  # holes, several parts, no area: GEOS
    if len(other):
        c = geos_map(shapely.centroid, polys[other])
        xy[other] = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
    return xy


#: Spacing (m) of the grid of nodes, at whole multiples of it in the CRS's coordinates, where PROJ gives
#: the areal scale factor for :func:`geodesic_area_m2`; between them it is interpolated.
SCALE_GRID_M = 1_000.0


def geodesic_area_m2(geoms: np.ndarray | gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    """Ellipsoidal area in m² of polygons given in ``crs``, on that CRS's own ellipsoid (vectorised).

    Notes
    -----
    A projection stretches areas by its areal scale factor *s(φ, λ)* (for a conformal projection
    such as VN-2000's Transverse Mercator, *s = k²*). For a polygon small against the Earth,
    area on the ellipsoid = planar area / *s* at its centroid: *s* varies linearly across a parcel
    to first order, and the centroid averages that out, leaving an error of order (size / R)², about
    1e-8 for a kilometre-sized piece. *s* comes from PROJ (:meth:`pyproj.Proj.get_factors`) at the
    nodes of a :data:`SCALE_GRID_M` grid around the centroids, and is interpolated bilinearly between
    them: *s* bends by about 2 / R² per m², so the interpolation is within h² / 4R² ≈ 6e-9 of PROJ's
    own value (h the grid's spacing), and a point gets the same value in every run, whatever else
    it measures. A test checks the result against :meth:`pyproj.Geod.geometry_area_perimeter`.
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return np.zeros(0, dtype="float64")
    geodetic = crs.geodetic_crs
    assert geodetic is not None
    out = np.zeros(len(arr), dtype="float64")
    real = np.flatnonzero(~shapely.is_empty(arr) & ~shapely.is_missing(arr))
    if len(real) == 0:
        return out
    xy = centroids(arr[real])
    gx, gy = xy[:, 0] / SCALE_GRID_M, xy[:, 1] / SCALE_GRID_M
    i, j = np.floor(gx), np.floor(gy)
    fx, fy = gx - i, gy - j
    # the grid cell of each centroid; PROJ is asked once for the four corners of each distinct cell
    i0, j0 = i.min(), j.min()
    step = int(j.max() - j0) + 1
    cell = ((i - i0) * step + (j - j0)).astype("int64")
    cells = unique(cell)
    ci, cj = i0 + cells // step, j0 + cells % step
    cx = np.concatenate([ci, ci, ci + 1, ci + 1]) * SCALE_GRID_M
    cy = np.concatenate([cj, cj + 1, cj, cj + 1]) * SCALE_GRID_M
    lon, lat = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True).transform(cx, cy)
    corner = np.asarray(pyproj.Proj(crs).get_factors(lon, lat).areal_scale, dtype="float64").reshape(4, len(cells))
    at = np.searchsorted(cells, cell)
    s00, s01, s10, s11 = corner[0, at], corner[1, at], corner[2, at], corner[3, at]
    scale = (s00 * (1 - fx) + s10 * fx) * (1 - fy) + (s01 * (1 - fx) + s11 * fx) * fy
    out[real] = np.asarray(shapely.area(arr[real]), dtype="float64") / scale
    return out
