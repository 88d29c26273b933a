"""Where a parcel is priced: its administrative unit, and its position (vị trí) by distance from named roads.

A parcel belongs to the unit holding the largest part of it (a cadastre is drawn commune by
commune, so that is the whole parcel but for digitising slivers), and is priced in that unit's
rows. Its position is set by its distance, in the working CRS, to the nearest road of the roads
layer the scenario names: position 1 within ``bands_m[0]`` metres (fronting the road), 2 within
``bands_m[1]``, and so on; the last position lies beyond the last band. A distance is rounded to
the width tolerance (``[tolerance] sliver_width_m``, 1 mm) before it is compared with a band, so
a parcel drawn exactly 50 m from a road is within a 50 m band whatever the float noise.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from ..arrays import point_segment_distance
from ..errors import LayerError
from ..scenario import LayerRef
from ..tolerance import Tolerance

#: The unit name of a parcel that lies in no unit.
NO_UNIT = ""


def unit_of(geoms: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """The name (``admin_unit``) of the unit holding the largest part of each geometry; :data:`NO_UNIT`
    where none holds any of it. Ties go to the unit listed first."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), NO_UNIT, dtype=object)
    if len(geoms) == 0 or len(units) == 0:
        return out
    ug = prepared(units)
    names = units["admin_unit"].to_numpy()
    gi, ui = shapely.STRtree(ug).query(geoms, predicate="intersects")
    if len(gi) == 0:
        return out
    n_cand = np.bincount(gi, minlength=len(geoms))
    # most parcels meet one unit and lie inside it: no intersection needed
    one = n_cand[gi] == 1
    inside = np.zeros(len(gi), dtype=bool)
    inside[one] = shapely.covers(ug[ui[one]], geoms[gi[one]])
    area = np.full(len(gi), np.inf)
    # a parcel along a boundary, inside one unit and only touching the others, is that unit's: the others hold none of it
    many = np.flatnonzero(~one)
    if len(many):
        cover, touch = shapely.covers(ug[ui[many]], geoms[gi[many]]), shapely.touches(ug[ui[many]], geoms[gi[many]])
        g = gi[many]
        n_cover, n_either = np.bincount(g, weights=cover, minlength=len(geoms)), np.bincount(g, weights=cover | touch, minlength=len(geoms))
        settled = (n_cover[g] == 1) & (n_either[g] == n_cand[g]) & (shapely.area(geoms[g]) > 0)
        inside[many[settled & cover]] = True
        area[many[settled & ~cover]] = 0.0
    rest = ~inside & np.isinf(area)
    if rest.any():
        area[rest] = shapely.area(shapely.intersection(geoms[gi[rest]], ug[ui[rest]]))
    keep = area > 0
    gi, ui, area = gi[keep], ui[keep], area[keep]
    order = np.lexsort((ui, -area, gi))  # per geometry, the largest area first (then the unit listed first)
    gi, ui = gi[order], ui[order]
    first = np.r_[True, gi[1:] != gi[:-1]]
    out[gi[first]] = names[ui[first]]
    return out


def prepared(units: gpd.GeoDataFrame) -> np.ndarray:
    """Copies of the units' geometries, prepared (GEOS indexes their edges, so testing a parcel against a
    unit takes microseconds); the caller's geometries are left as they are."""
    ug = shapely.from_wkb(shapely.to_wkb(np.asarray(units.geometry.values)))
    shapely.prepare(ug)
    return np.asarray(ug, dtype=object)


def read_roads(ref: LayerRef, name_column: str | None, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """The roads layer, in the working ``crs``: ``road`` (its name, or its feature number) and geometry;
    features without geometry left out. An empty layer is an error (positions cannot be set)."""
    from .. import layers

    gdf = layers.read_layer(ref, crs, columns=[name_column] if name_column else [])
    geoms = np.asarray(gdf.geometry.values)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        raise LayerError(f"{ref.label()}: the roads layer (costs.positions) has no features with a geometry; positions (vị trí) "
                         f"are measured from its roads")
    names = (gdf[name_column].fillna("").astype(str).to_numpy() if name_column
             else np.array([f"#{i}" for i in gdf.index], dtype=object))
    return gpd.GeoDataFrame({"road": names[ok]}, geometry=geoms[ok], crs=crs)


#: Roads are searched as pieces at most this long (m): a long road's box covers half a city, a piece's hugs it.
ROAD_PIECE_M = 250.0


def _road_pieces(roads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The roads' lines cut into straight pieces of at most :data:`ROAD_PIECE_M`, with the road each comes
    from; polygons (roads drawn as areas) are kept whole."""
    parts, owner = shapely.get_parts(roads, return_index=True)
    lines = np.isin(shapely.get_type_id(parts), [1, 2])
    xy, which = shapely.get_coordinates(shapely.segmentize(parts[lines], ROAD_PIECE_M), return_index=True)
    same = which[1:] == which[:-1]
    segs = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    return np.concatenate([segs, parts[~lines]]), np.concatenate([owner[lines][which[:-1][same]], owner[~lines]])


def _nearest_within(geoms: np.ndarray, pieces: np.ndarray, tree: shapely.STRtree, max_distance_m: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each geometry's nearest pieces within ``max_distance_m`` (all of them where several are equally near):
    the geometry's number, the piece's and the distance, as ``tree.query_nearest(geoms, all_matches=True,
    max_distance=max_distance_m, return_distance=True)`` gives them, in a third of its time.

    Notes
    -----
    The pieces whose boxes lie within ``max_distance_m`` of a geometry's box are its candidates. The
    distance between the boxes is at most the distance between the shapes; the distance from the
    geometry's first vertex to a straight piece is at least the geometry's distance to its nearest
    piece. So a candidate whose box lies farther than the nearest such vertex distance cannot be
    nearest, and only the others are measured (by GEOS, as the tree's search measures them).
    """
    b = shapely.bounds(geoms)
    gi, ri = tree.query(shapely.box(b[:, 0] - max_distance_m, b[:, 1] - max_distance_m, b[:, 2] + max_distance_m,
                                    b[:, 3] + max_distance_m))
    if len(gi) == 0:
        return gi, ri, np.zeros(0)
    pb = shapely.bounds(pieces)
    gb, rb = b[gi], pb[ri]
    below = np.hypot(np.maximum(0.0, np.maximum(gb[:, 0] - rb[:, 2], rb[:, 0] - gb[:, 2])),
                     np.maximum(0.0, np.maximum(gb[:, 1] - rb[:, 3], rb[:, 1] - gb[:, 3])))
    # an upper bound of each geometry's nearest distance: its first vertex to the straight pieces
    xy, which = shapely.get_coordinates(geoms, return_index=True)
    vertex = np.full((len(geoms), 2), np.nan)
    has, first = np.unique(which, return_index=True)
    vertex[has] = xy[first]
    seg = np.full((len(pieces), 4), np.nan)
    straight = (shapely.get_type_id(pieces) == 1) & (shapely.get_num_coordinates(pieces) == 2)
    seg[straight] = shapely.get_coordinates(pieces[straight]).reshape(-1, 4)
    above = point_segment_distance(vertex[gi], seg[ri])
    bound = np.full(len(geoms), np.inf)
    np.fmin.at(bound, gi, above)
    # candidates that may be nearest (a margin far above float noise keeps every one that is)
    maybe = below <= np.minimum(bound[gi], max_distance_m) * (1.0 + 1e-9) + 1e-6
    gi, ri = gi[maybe], ri[maybe]
    dist = shapely.distance(geoms[gi], pieces[ri])
    near = dist <= max_distance_m
    gi, ri, dist = gi[near], ri[near], dist[near]
    least = np.full(len(geoms), np.inf)
    np.minimum.at(least, gi, dist)
    nearest = dist == least[gi]
    return gi[nearest], ri[nearest], dist[nearest]


def road_distance(geoms: np.ndarray, roads: gpd.GeoDataFrame, tolerance: Tolerance, *,
                  max_distance_m: float | None = None, depth_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each geometry, the distance (m, rounded to the width tolerance) to the nearest road and
    that road's row in ``roads``; with ``max_distance_m`` (the last band: farther, the position is
    the last whatever the distance), geometries farther than it get ``inf`` and row -1.

    A parcel equally near two roads (a corner parcel touching both) takes the road whose front strip
    (``depth_m`` deep) holds the most of it, as a price table prices a parcel on several roads by the
    one that values it most; then, and without ``depth_m``, the road that comes first in the layer. So
    the answer never depends on the order a spatial search happens to visit the roads in.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0), np.zeros(0, dtype="int64")
    road_geoms = np.asarray(roads.geometry.values)
    pieces, of_road = _road_pieces(road_geoms)
    tree = shapely.STRtree(pieces)
    if max_distance_m is None:
        (gi, ri), dist = tree.query_nearest(geoms, return_distance=True, all_matches=True)
    else:
        gi, ri, dist = _nearest_within(geoms, pieces, tree, max_distance_m)
    cand = of_road[ri]
    # equally near pieces of one road are one candidate; several roads: the corner rule above
    key = np.unique(np.column_stack([gi, cand]), axis=0) if len(gi) else np.zeros((0, 2), dtype="int64")
    d = np.full(len(geoms), np.inf)
    road = np.full(len(geoms), -1, dtype="int64")
    d[gi] = dist
    first = np.r_[True, key[1:, 0] != key[:-1, 0]] if len(key) else np.zeros(0, dtype=bool)
    road[key[first, 0]] = key[first, 1]  # lowest road row of each geometry
    tied = np.flatnonzero(np.bincount(key[:, 0], minlength=len(geoms)) > 1) if len(key) else np.zeros(0, dtype="int64")
    if len(tied) and depth_m:
        rows = np.isin(key[:, 0], tied)
        kg, kr = key[rows, 0], key[rows, 1]
        b = shapely.bounds(geoms[kg])
        near = shapely.intersection(road_geoms[kr], shapely.box(b[:, 0] - depth_m, b[:, 1] - depth_m, b[:, 2] + depth_m, b[:, 3] + depth_m))
        held = shapely.area(shapely.intersection(geoms[kg], shapely.buffer(near, depth_m)))  # the road near the parcel only
        order = np.lexsort((kr, -np.round(held, 6), kg))  # most held first, then the road first in the layer
        kg, kr = kg[order], kr[order]
        best = np.r_[True, kg[1:] != kg[:-1]]
        road[kg[best]] = kr[best]
    step = tolerance.sliver_width_m
    if step > 0:
        d = np.round(d / step) * step
    return d, road


def position(distance_m: np.ndarray, bands_m: tuple[float, ...]) -> np.ndarray:
    """The position (1 …) of each distance: 1 within ``bands_m[0]`` (inclusive), 2 within
    ``bands_m[1]``, …, ``len(bands_m) + 1`` beyond the last band.

    >>> position(np.array([0.0, 50.0, 50.001, 200.0, 900.0]), (50.0, 200.0, 500.0)).tolist()
    [1, 1, 2, 2, 4]
    """
    return np.searchsorted(np.asarray(bands_m, dtype="float64"), np.asarray(distance_m, dtype="float64"), side="left") + 1


def front_share(takes: np.ndarray, roads: np.ndarray, depth_m: float) -> np.ndarray:
    """The share (0–1) of each taken piece lying within ``depth_m`` of its road (the road that sets its
    parcel's position): the front of a residential parcel, priced in full; the rest is priced at the
    depth factor. A piece of zero area has share 1."""
    takes = np.asarray(takes, dtype=object)
    out = np.ones(len(takes))
    if len(takes) == 0:
        return out
    front = shapely.buffer(np.asarray(roads, dtype=object), depth_m)
    inside = shapely.area(shapely.intersection(takes, front))
    whole = shapely.area(takes)
    np.divide(inside, whole, out=out, where=whole > 0)
    return np.clip(out, 0.0, 1.0)
