"""Project footprints: corridors from centrelines and right-of-way widths, or acquisition polygons, dissolved."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import assert_working
from .errors import LayerError
from .parallel import geos_map


def corridor(lines: gpd.GeoDataFrame, *, width_m: float | None = None, width_column: str | None = None,
             source: str = "centrelines") -> gpd.GeoSeries:
    """Buffer each centreline into its corridor polygon.

    Parameters
    ----------
    lines
        Line features in a projected metric CRS.
    width_m
        The **full** right-of-way width in metres (the corridor extends ``width_m / 2`` each side).
    width_column
        Name of a column holding a full width per feature (e.g. wider at interchanges); used when
        ``width_m`` is not given.

    Returns
    -------
    GeoSeries of polygons, one per input feature, same index. Ends are flat (the corridor stops at the
    line's end) and joins are mitred (a bend keeps its sharp outer corner).

    Notes
    -----
    A 100 m centreline with an 80 m right-of-way gives a 100 × 80 = 8,000 m² rectangle.
    """
    widths = corridor_widths(lines, width_m=width_m, width_column=width_column, source=source)
    polys = corridor_polygons(np.asarray(lines.geometry.values), widths, lines.index.to_numpy(), source=source)
    return gpd.GeoSeries(polys, index=lines.index, crs=lines.crs)


def corridor_widths(lines: pd.DataFrame, *, width_m: float | None = None, width_column: str | None = None,
                    source: str = "centrelines") -> np.ndarray:
    """Each feature's full right-of-way width in metres (``width_m`` for all, or ``width_column``), checked:
    a missing, non-numeric, zero or negative width is a :class:`LayerError` naming the features."""
    if width_m is None and width_column is None:
        raise LayerError(f"{source}: a centreline needs a right-of-way width (width_m or width_column)")
    if width_m is not None:
        widths = np.full(len(lines), float(width_m))
    else:
        assert width_column is not None
        widths = pd.to_numeric(lines[width_column], errors="coerce").to_numpy(dtype="float64")
    bad = ~(np.isfinite(widths) & (widths > 0))
    if bad.any():
        raw = lines[width_column].to_numpy() if width_column else widths
        said = [f"feature {_fid(lines.index[i])}: {_width_problem(raw[i])}" for i in np.flatnonzero(bad)[:5]]
        more = f" … ({int(bad.sum())} features in all)" if bad.sum() > 5 else ""
        raise LayerError(f"{source}: right-of-way widths must be positive numbers of metres; " + "; ".join(said) + more
                         + (f"; fix column {width_column!r}" if width_column else ""))
    return widths


def corridor_polygons(geoms: np.ndarray, widths_m: np.ndarray, fids: np.ndarray, *, source: str = "centrelines") -> np.ndarray:
    """The corridor polygons of centrelines ``geoms`` (flat ends, mitred joins), ``widths_m / 2`` each side;
    the lines are checked first (:func:`check_centrelines`)."""
    check_centrelines(geoms, fids, source=source)
    return buffer_centrelines(geoms, widths_m)


def buffer_centrelines(geoms: np.ndarray, widths_m: np.ndarray) -> np.ndarray:
    """Corridors of checked centrelines: ``widths_m / 2`` each side, flat ends, mitred joins."""
    return np.asarray(shapely.buffer(geoms, widths_m / 2.0, cap_style="flat", join_style="mitre", mitre_limit=5.0), dtype=object)


def check_centrelines(geoms: np.ndarray, fids: np.ndarray, *, source: str = "centrelines") -> None:
    """A :class:`LayerError` naming the features (by ``fids``) that are no centreline: no geometry, not a
    line, or of zero length."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        ids = ", ".join(_fid(fids[i]) for i in np.flatnonzero(missing)[:5])
        raise LayerError(f"{source}: feature(s) {ids} have no geometry (or one that cannot be built, such as a line of a "
                         f"single point); fix or delete them in the layer")
    types = shapely.get_type_id(geoms)
    if not np.isin(types, [1, 5]).all():  # LineString, MultiLineString
        i = int(np.flatnonzero(~np.isin(types, [1, 5]))[0])
        kind = {0: "a point", 3: "a polygon", 4: "points", 6: "polygons", 7: "a geometry collection"}.get(int(types[i]), "not a line")
        raise LayerError(f"{source}: feature {_fid(fids[i])} is {kind}, not a line; "
                         f"use kind = \"polygon\" for acquisition boundaries")
    zero = shapely.length(geoms) <= 0
    if zero.any():
        ids = ", ".join(_fid(fids[i]) for i in np.flatnonzero(zero)[:5])
        raise LayerError(f"{source}: feature(s) {ids}: a zero-length centreline (all its points at one place); remove it or fix its vertices")


def _fid(v: object) -> str:
    """A feature's FID for a message, as a plain number."""
    try:
        return str(int(v))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(v)


def _width_problem(v: object) -> str:
    """What is wrong with a width value, in words (no numpy reprs)."""
    if v is None or (isinstance(v, float) and v != v):
        return "the width is empty"
    if isinstance(v, str):
        try:
            float(v)
        except ValueError:
            return f"the width {v!r} is not a number (write it in metres, without units)"
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"the width {v!r} is not a number"
    if not np.isfinite(f):
        return f"the width is {f!r}"
    return f"the width is {f:g} m"


def merge_segments(lines: gpd.GeoDataFrame, *, width_column: str | None) -> gpd.GeoDataFrame:
    """Join consecutive segments of equal width into one line, so their corridors meet with mitred joins.

    Buffering two touching segments separately leaves a notch on the outside of the bend and
    overlaps on the inside; buffering the joined line gives the mitred corner a surveyor draws.
    """
    if len(lines) < 2:
        return lines
    key = lines[width_column].to_numpy() if width_column else None
    geoms, keys = merge_lines(np.asarray(lines.geometry.values), key)
    data = {width_column: keys} if width_column else {}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=lines.crs)


def merge_lines(geoms: np.ndarray, keys: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`merge_segments` on arrays: the lines of each key (width) joined where they meet, in the
    order keys first appear; returns the joined lines and their keys (``None`` when no keys)."""
    if len(geoms) < 2:
        return geoms, keys
    if keys is None:
        merged = shapely.get_parts(shapely.line_merge(shapely.union_all(geoms)))
        return np.asarray(merged, dtype=object), None
    codes, first = pd.factorize(keys, sort=False)[0], pd.unique(keys)
    out, out_keys = [], []
    for k in range(len(first)):
        parts = shapely.get_parts(shapely.line_merge(shapely.union_all(geoms[codes == k])))
        out.append(parts)
        out_keys.append(np.repeat(first[k:k + 1], len(parts)))
    return np.asarray(np.concatenate(out), dtype=object), np.concatenate(out_keys)


def dissolve_footprints(pieces: gpd.GeoDataFrame, *, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Dissolve footprint pieces by ``project`` so no project counts its own land twice.

    Returns one row per project (``project``, ``footprint_m2``, ``sum_of_pieces_m2``, ``self_overlap_m2``,
    geometry), in the order projects first appear.
    """
    assert_working(pieces, crs)
    rows = []
    for pid, grp in pieces.groupby("project", sort=False):
        geoms = grp.geometry.values
        union = _polygonal(shapely.make_valid(shapely.union_all(geoms)))
        summed = float(shapely.area(geoms).sum())
        rows.append({"project": pid, "footprint_m2": float(shapely.area(union)), "sum_of_pieces_m2": summed,
                     "self_overlap_m2": max(summed - float(shapely.area(union)), 0.0), "geometry": union})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygonal parts of ``geom`` (as a MultiPolygon or Polygon)."""
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
    if not polys:
        return shapely.Polygon()
    out = shapely.union_all(polys)
    return out


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_polygonal`: drop points and lines left by intersections (they have no area)."""
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    out = geoms.copy()
    mixed = ~np.isin(types, [3, 6])
    for i in np.flatnonzero(mixed):
        out[i] = _polygonal(geoms[i])
    return out


def cut_by_grid(geoms: np.ndarray, size_m: float, needs_cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the polygons flagged in ``needs_cut`` by a grid of ``size_m`` squares; keep the others whole.

    Returns the pieces and, for each, the row of the polygon it came from. The pieces of one polygon
    are disjoint and cover it exactly, so areas measured piece by piece add up to the polygon's.
    """
    out: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for i, (g, cut) in enumerate(zip(geoms, needs_cut)):
        if not cut:
            out.append(np.array([g], dtype=object))
            rows.append(np.array([i]))
            continue
        xmin, ymin, xmax, ymax = shapely.bounds(g)
        xs = np.arange(xmin, xmax + size_m, size_m)
        ys = np.arange(ymin, ymax + size_m, size_m)
        gx, gy = np.meshgrid(xs[:-1], ys[:-1])
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size_m, gy.ravel() + size_m)
        shapely.prepare(g)
        cells = cells[shapely.intersects(g, cells)]
        parts = polygonal(geos_map(shapely.intersection, cells, _near_cells(g, cells, size_m), min_chunk=100))
        parts = parts[shapely.area(parts) > 0]
        out.append(parts)
        rows.append(np.full(len(parts), i))
    if not out:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=int)
    return np.concatenate(out), np.concatenate(rows)


#: How far beyond a cell a ring must lie for :func:`_near_cells` to leave it out, in cell sides. GEOS's
#: overlay ignores the rings wholly outside the cell's envelope grown by a tenth of its side; farther
#: ones it only looks at and passes over.
_NEAR_CELL_MARGIN = 0.25


def _near_cells(geom: shapely.Geometry, cells: np.ndarray, size_m: float) -> np.ndarray:
    """For each of ``cells``, ``geom`` less the polygons and holes that lie far from it: what GEOS's overlay
    of the cell with ``geom`` reads, the same rings in the same order, so each ``cell ∩ geom`` comes out
    the same, coordinate for coordinate, at a fraction of the cost (a city's network footprint has a
    thousand holes, each looked at for every cell otherwise). ``geom`` itself where it is not polygonal."""
    kind = shapely.get_type_id(geom)
    if kind not in (3, 6) or len(cells) == 0:
        return np.full(len(cells), geom, dtype=object)
    polys = shapely.get_parts(geom)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)  # each polygon's shell, then its holes
    rb = shapely.bounds(rings)
    cb = shapely.bounds(cells)
    m = _NEAR_CELL_MARGIN * size_m
    tree = shapely.STRtree(shapely.box(rb[:, 0], rb[:, 1], rb[:, 2], rb[:, 3]))
    ci, ri = tree.query(shapely.box(cb[:, 0] - m, cb[:, 1] - m, cb[:, 2] + m, cb[:, 3] + m))
    # a hole lies within its shell's box: a polygon with a ring near the cell brings its shell first
    order = np.lexsort((ri, ci))
    ci, ri = ci[order], ri[order]
    key = ci * len(polys) + ring_poly[ri]
    new_group = np.r_[True, key[1:] != key[:-1]]
    local = shapely.polygons(rings[ri], indices=np.cumsum(new_group) - 1)
    if kind == 3:  # one polygon: one group a cell
        return np.asarray(local, dtype=object)
    return np.asarray(shapely.multipolygons(local, indices=ci[new_group]), dtype=object)
