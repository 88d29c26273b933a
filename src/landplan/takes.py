"""The take table: every parcel × project intersection, measured once, split by administrative units."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import assert_working, geodesic_area_m2
from .footprints import cut_by_grid, polygonal
from .parallel import geos_map, tree_query
from .report import RunReport
from .sources import meeting
from .tolerance import DEFAULT_TOLERANCE, Tolerance

#: Label for land of a take that lies in no unit of an administrative layer.
OUTSIDE_ADMIN = "(ngoài ranh giới hành chính)"


def make_disjoint(geoms: np.ndarray, keys: np.ndarray, tolerance: Tolerance = DEFAULT_TOLERANCE) -> tuple[np.ndarray, pd.DataFrame]:
    """Cut overlaps out of polygons so that no square metre lies in two of them.

    Where two polygons overlap, the land stays with the one whose key sorts first; the other loses
    it (an exact duplicate keeps nothing). Returns the new geometries (same order) and the
    overlapping pairs (``first``, ``later`` as row positions, ``overlap_m2``, ``noise``: the overlap
    is noise under ``tolerance``; it is cut all the same).
    """
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    bounds = shapely.bounds(geoms)

    def overlapping(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Pairs whose boxes meet, kept once (a < b) and where the boxes overlap: neighbours whose boxes
        only touch cannot overlap (then interiors must meet, DE-9IM T********, tested below)."""
        keep = a < b
        i = np.flatnonzero(keep)
        ai, bi = a[i], b[i]
        keep[i] = ((np.minimum(bounds[ai, 2], bounds[bi, 2]) > np.maximum(bounds[ai, 0], bounds[bi, 0]))
                   & (np.minimum(bounds[ai, 3], bounds[bi, 3]) > np.maximum(bounds[ai, 1], bounds[bi, 1])))
        return keep

    a, b = tree_query(tree, geoms, keep=overlapping)  # on each chunk's thread: only these pairs are gathered
    wins = keys[a] <= keys[b]
    first, later = np.where(wins, a, b), np.where(wins, b, a)  # each pair once (a < b), so no pair twice
    order = np.argsort(later, kind="stable")
    c_later, c_first = later[order], first[order]
    lone = np.zeros(len(c_later), dtype=bool)  # a polygon whose box meets one polygon that beats it (most overlaps)
    if len(c_later):
        starts = np.flatnonzero(np.r_[True, c_later[1:] != c_later[:-1]])
        sizes = np.diff(np.r_[starts, len(c_later)])
        lone = np.repeat(sizes == 1, sizes)
    # for those the difference itself says whether interiors meet (it removes area), so no DE-9IM test is
    # run first; a loss too small to tell from rounding is settled by the test. The others are tested
    # (interiors must meet: T********), then grouped and cut below.
    done_keys, done_geoms, done_lost = np.zeros(0, dtype="int64"), np.zeros(0, dtype=object), np.zeros(0)
    real = np.zeros(len(c_later), dtype=bool)
    li = np.flatnonzero(lone)
    if len(li):
        diff = polygonal(geos_map(shapely.difference, geoms[c_later[li]], geoms[c_first[li]]))
        before = geos_map(shapely.area, geoms[c_later[li]])
        lost = before - geos_map(shapely.area, diff)
        clear = lost > 1e-9 * np.maximum(before, 1.0)
        unsure = ~clear & (lost != 0)
        if unsure.any():
            u = li[unsure]
            clear[unsure] = np.asarray(shapely.relate_pattern(geoms[c_later[u]], geoms[c_first[u]], "T********"))
        real[li] = clear
        # ascending (sorted by loser), with the area each lost
        done_keys, done_geoms, done_lost = c_later[li[clear]], diff[clear], lost[clear]
    mi = np.flatnonzero(~lone)
    if len(mi):
        real[mi] = geos_map(lambda x, y: np.asarray(shapely.relate_pattern(x, y, "T********")), geoms[c_later[mi]], geoms[c_first[mi]])
    pairs = pd.DataFrame({"first": c_first[real], "later": c_later[real]})
    new = geoms.copy()
    if len(pairs):
        # each losing polygon less everything that beats it: grouped by loser (no scan per loser), the
        # differences computed together on every core
        later_arr, first_arr = pairs["later"].to_numpy(), pairs["first"].to_numpy()
        starts = np.flatnonzero(np.r_[True, later_arr[1:] != later_arr[:-1]])
        sizes = np.diff(np.r_[starts, len(later_arr)])
        losers = later_arr[starts]
        cutters = geoms[first_arr[starts]].copy()
        for k in np.flatnonzero(sizes > 1):
            cutters[k] = shapely.union_all(geoms[first_arr[starts[k]:starts[k] + sizes[k]]])
        known = np.isin(losers, done_keys)
        at = np.searchsorted(done_keys, losers[known])
        new[losers[known]] = done_geoms[at]
        lost = np.empty(len(losers))
        lost[known] = done_lost[at]  # what a loser beaten once lost is known from its difference
        todo = ~known
        if todo.any():
            new[losers[todo]] = polygonal(geos_map(shapely.difference, geoms[losers[todo]], cutters[todo]))
            lost[todo] = geos_map(shapely.area, geoms[losers[todo]]) - geos_map(shapely.area, new[losers[todo]])
        # the overlap of a loser beaten once is what it lost; its perimeter is at most both polygons'
        # together, which settles the mean-width test for all but the thinnest; the rest are intersected
        overlap = np.full(len(pairs), np.nan)
        once = np.repeat(sizes == 1, sizes)
        overlap[once] = np.repeat(lost, sizes)[once]
        noise = np.zeros(len(pairs), dtype=bool)
        perim = geos_map(shapely.length, geoms[first_arr]) + geos_map(shapely.length, geoms[later_arr])
        with np.errstate(divide="ignore", invalid="ignore"):
            sure = once & ((overlap < tolerance.sliver_m2) | (2.0 * overlap / perim >= tolerance.sliver_width_m))
        noise[sure] = overlap[sure] < tolerance.sliver_m2
        rest = np.flatnonzero(~sure)
        if len(rest):
            inter = polygonal(geos_map(shapely.intersection, geoms[first_arr[rest]], geoms[later_arr[rest]]))
            overlap[rest] = shapely.area(inter)
            noise[rest] = tolerance.is_noise(inter)
        pairs["overlap_m2"] = np.maximum(overlap, 0.0)
        pairs["noise"] = noise
        pairs = pairs[pairs["overlap_m2"] > 0]
    else:
        pairs["overlap_m2"] = pd.Series(dtype="float64")
        pairs["noise"] = pd.Series(dtype=bool)
    return new, pairs.reset_index(drop=True)


def overlap_priority(parcels: pd.DataFrame, rule: str = "id") -> np.ndarray:
    """Each parcel's rank under the parcel-overlap ``rule`` (lower keeps the land two parcels claim).

    ``id``: the id that sorts first as text ("10" before "9"); ``id_natural``: numbers within ids
    compared as numbers ("9" before "10", "0012-0003" before "0012-0010"); ``register_area``: the
    parcel drawn least larger than its register area (drawn ÷ register − 1; a parcel without a register
    area counts as drawn to it), then by id.
    """
    ids = parcels["parcel_id"].astype(str).to_numpy()
    if rule == "id":
        keys: list[object] = list(ids)
    elif rule == "id_natural":
        keys = [_natural(i) for i in ids]
    elif rule == "register_area":
        drawn = shapely.area(np.asarray(parcels.geometry.values)) if "parcel_area_m2" not in parcels else parcels["parcel_area_m2"].to_numpy()
        reg = parcels["register_area_m2"].to_numpy(dtype="float64") if "register_area_m2" in parcels else np.full(len(ids), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.where(np.isfinite(reg) & (reg > 0), drawn / reg - 1.0, 0.0)
        keys = list(zip(np.round(excess, 9).tolist(), ids))
    else:
        raise ValueError(f"unknown parcel-overlap rule {rule!r}; rules are id, id_natural, register_area")
    order = sorted(range(len(keys)), key=keys.__getitem__)  # type: ignore[arg-type]
    rank = np.empty(len(keys), dtype="int64")
    rank[order] = np.arange(len(keys))
    return rank


def _natural(text: str) -> tuple[tuple[int, object], ...]:
    """A sort key comparing runs of digits as numbers."""
    import re

    return tuple((0, int(t)) if t.isdigit() else (1, t) for t in re.findall(r"\d+|\D+", text))


def resolve_parcel_overlaps(parcels: gpd.GeoDataFrame, *, report: RunReport,
                            tolerance: Tolerance = DEFAULT_TOLERANCE, rule: str = "id") -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Make parcels disjoint so no square metre is counted in two parcels.

    Rule (:func:`make_disjoint`): where parcels overlap, the land belongs to the parcel whose
    ``parcel_id`` sorts first; the later parcel loses the overlap (a duplicate keeps nothing).
    ``parcel_area_m2`` remains the area of the parcel as drawn; ``counted_area_m2`` is what is left
    of it after the rule.

    Returns the parcels (a new frame, caller's rows and order kept) and a table of every overlap
    (``parcel_id``, ``overlaps_parcel_id``, ``overlap_m2``, ``noise``): overlaps that are noise under
    ``tolerance`` are resolved the same way and flagged, so they are listed as slivers, not as overlaps.
    """
    geoms = np.asarray(parcels.geometry.values)
    ids = parcels["parcel_id"].to_numpy()
    drawn = shapely.area(geoms)
    new, pairs = make_disjoint(geoms, overlap_priority(parcels.assign(parcel_area_m2=drawn), rule), tolerance)
    out = parcels.copy()
    out["parcel_area_m2"] = shapely.area(geoms)
    out[out.geometry.name] = gpd.GeoSeries(new, index=out.index, crs=out.crs)
    if "neighbour" in parcels:  # overlaps between two parcels read only for this rule concern no project
        nb = parcels["neighbour"].to_numpy(dtype=bool)
        pairs = pairs[~(nb[pairs["first"].to_numpy()] & nb[pairs["later"].to_numpy()])]
    later, first = pairs["later"].to_numpy(), pairs["first"].to_numpy()
    table = pd.DataFrame({"parcel_id": ids[later], "overlaps_parcel_id": ids[first],
                          "overlap_m2": pairs["overlap_m2"].to_numpy(dtype="float64"), "noise": pairs["noise"].to_numpy(dtype=bool),
                          "rule": _decided_by(parcels, rule, first, later, drawn)})
    real = table[~table["noise"]]
    if len(real):
        shown = ", ".join(f"{a} and {b}" for a, b in zip(real["overlaps_parcel_id"].head(5), real["parcel_id"].head(5)))
        report.warn(
            f"parcels: {len(real)} overlap(s) between input parcels, {real['overlap_m2'].sum():,.2f} m² in all ({shown}"
            f"{' …' if len(real) > 5 else ''}); each overlap is counted once, in the parcel {OVERLAP_RULE_WORDS[rule]} "
            f"(overlaps.csv lists them all and says which rule decided each)"
        )
    out["counted_area_m2"] = shapely.area(np.asarray(out.geometry.values))
    return out, table


#: How each parcel-overlap rule reads in a message.
OVERLAP_RULE_WORDS = {"id": "whose id sorts first (as text)", "id_natural": "whose id comes first in natural order",
                      "register_area": "drawn least larger than its register area"}


def _decided_by(parcels: pd.DataFrame, rule: str, first: np.ndarray, later: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """For each overlap, the rule that gave the land to ``first`` rather than ``later``, in words."""
    ids = parcels["parcel_id"].astype(str).to_numpy()
    if rule != "register_area":
        return np.array([f"{rule}: {ids[a]!r} before {ids[b]!r}" for a, b in zip(first, later)], dtype=object)
    reg = parcels["register_area_m2"].to_numpy(dtype="float64") if "register_area_m2" in parcels else np.full(len(ids), np.nan)
    out = []
    for a, b in zip(first, later):
        ea = drawn[a] / reg[a] - 1.0 if np.isfinite(reg[a]) and reg[a] > 0 else None
        eb = drawn[b] / reg[b] - 1.0 if np.isfinite(reg[b]) and reg[b] > 0 else None
        def said(pid: str, e: float | None) -> str:
            return f"{pid!r} drawn {e:+.2%} of its register area" if e is not None else f"{pid!r} without a register area"
        tie = round(ea or 0.0, 9) == round(eb or 0.0, 9)
        out.append(f"register_area: {said(ids[a], ea)}, {said(ids[b], eb)}" + (" (equal: by id)" if tie else ""))
    return np.array(out, dtype=object)


def resolve_admin_overlaps(units: gpd.GeoDataFrame, *, admin_layer: str, report: RunReport,
                           tolerance: Tolerance = DEFAULT_TOLERANCE) -> gpd.GeoDataFrame:
    """Make an administrative layer's units disjoint (land in two units counted in the one whose
    name sorts first), reporting each overlap that is not noise, so no take is counted in two units."""
    new, pairs = make_disjoint(np.asarray(units.geometry.values), units["admin_unit"].to_numpy(), tolerance)
    big = pairs[~pairs["noise"]]
    if len(big):
        names = units["admin_unit"].to_numpy()
        shown = "; ".join(f"{names[f]} / {names[lt]}: {a:,.1f} m²" for f, lt, a in
                          zip(big["first"].to_numpy()[:5], big["later"].to_numpy()[:5], big["overlap_m2"].to_numpy()[:5]))
        report.warn(f"admin layer {admin_layer}: {len(big)} overlap(s) between units ({shown}); "
                    f"land in two units is counted in the one whose name sorts first")
    out = units.copy()
    out[out.geometry.name] = gpd.GeoSeries(new, index=out.index, crs=out.crs)
    return out


def take_table(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, *, crs: pyproj.CRS,
               geodesic: bool = True, tiles: tuple[np.ndarray, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Intersect parcels with project footprints: one row per (project, parcel) piece with area > 0.

    Parcels must already be disjoint (:func:`resolve_parcel_overlaps`) and footprints dissolved per
    project. Uses a spatial index and vectorised shapely operations; areas are planar float64 m² in
    the working CRS, with the ellipsoidal area of each piece as a check (``take_ellipsoidal_m2``).

    Returns columns ``project``, ``parcel_id``, ``landuse``, ``take_m2``, ``take_ellipsoidal_m2``,
    ``parcel_row`` (position of the parcel in ``parcels``), ``footprint_row``, geometry.
    ``tiles`` are the footprints' tiles from :func:`tile_footprints`, when already computed.
    """
    assert_working(parcels, crs)
    assert_working(footprints, crs)
    pgeoms = np.asarray(parcels.geometry.values)
    tiles_g, tile_row = tiles if tiles is not None else tile_footprints(np.asarray(footprints.geometry.values))
    ti, pi, inside = _meeting_pairs(tiles_g, pgeoms)
    fi = tile_row[ti]
    # a parcel wholly inside a tile is its own piece: only the others need an overlay
    pieces = pgeoms[pi]
    cross = np.flatnonzero(~inside)
    pieces[cross] = geos_map(lambda a, b: polygonal(np.asarray(shapely.intersection(a, b))), pgeoms[pi[cross]], tiles_g[ti[cross]])
    ok = shapely.area(pieces) > 0
    fi, pi, pieces = fi[ok], pi[ok], pieces[ok]
    fi, pi, pieces = _merge_tiled(fi, pi, pieces)
    area = shapely.area(pieces)
    out = gpd.GeoDataFrame(
        {
            "project": footprints["project"].to_numpy()[fi],
            "parcel_id": parcels["parcel_id"].to_numpy()[pi],
            "landuse": parcels["landuse"].to_numpy()[pi],
            "take_m2": area.astype("float64"),
            "take_ellipsoidal_m2": geodesic_area_m2(pieces, crs) if geodesic else np.nan,
            "parcel_row": pi,
            "footprint_row": fi,
        },
        geometry=pieces, crs=crs,
    )
    return out


def _meeting_pairs(tiles: np.ndarray, parcels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (tile, parcel) that intersect, and whether the parcel lies wholly inside the tile
    (``contains_properly``): :func:`landplan.sources.meeting` (an index of the parcels searched with
    boxes that hug each tile, each tile prepared once, on every core)."""
    ti, pi, inside = meeting(tiles, parcels, inside=True)
    return ti, pi, inside


#: Footprints with more vertices than this are cut into tiles before intersecting, so that each
#: parcel meets a small local polygon instead of a city-wide network's whole outline.
TILE_MAX_VERTICES = 1_000
#: Side of those tiles, in metres.
TILE_SIZE_M = 1_000.0


def tile_footprints(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut large footprints into square tiles; return the tiles and the footprint row of each.

    The tiles of one footprint are disjoint and cover it exactly, so areas measured against the
    tiles add up to areas measured against the footprint.
    """
    return cut_by_grid(geoms, TILE_SIZE_M, shapely.get_num_coordinates(geoms) > TILE_MAX_VERTICES)


def _merge_tiled(fi: np.ndarray, pi: np.ndarray, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One piece per (footprint, parcel): pieces of a parcel cut by tile edges are joined again."""
    if len(fi) == 0:
        return fi, pi, pieces
    key = fi.astype("int64") * (int(pi.max(initial=0)) + 1) + pi
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    if len(starts) == len(key):
        return fi, pi, pieces
    sizes = np.diff(np.r_[starts, len(key)])
    merged = pieces[order[starts]].copy()
    for s, n in zip(starts[sizes > 1], sizes[sizes > 1]):
        merged[np.searchsorted(starts, s)] = polygonal(np.array([shapely.union_all(pieces[order[s:s + n]])], dtype=object))[0]
    first = order[starts]
    return fi[first], pi[first], merged


def split_noise(pieces: gpd.GeoDataFrame, tolerance: Tolerance) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Separate the pieces that are noise under ``tolerance`` (a parcel edge digitised along a corridor
    edge and reprojected meets it in a sliver): they are not takes, and their parcels are not affected
    by that project, but they are listed so that footprint = takes + noise + land in no parcel.

    Returns the real pieces (a new frame, index reset) and the noise (``project``, ``parcel_id``,
    ``landuse``, ``area_m2``, ``mean_width_m``).
    """
    geoms = np.asarray(pieces.geometry.values)
    area = pieces["take_m2"].to_numpy(dtype="float64")
    perimeter = np.asarray(shapely.length(geoms), dtype="float64")
    noise = tolerance.is_noise_area(area, perimeter)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(perimeter > 0, 2.0 * area / perimeter, 0.0)
    table = pd.DataFrame({"project": pieces["project"].to_numpy()[noise], "parcel_id": pieces["parcel_id"].to_numpy()[noise],
                          "landuse": pieces["landuse"].to_numpy()[noise], "area_m2": area[noise], "mean_width_m": width[noise]})
    return pieces.loc[~noise].reset_index(drop=True), table


def split_by_admin(pieces: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, *, admin_layer: str,
                   tolerance: Tolerance = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """Split each piece by the boundaries of an administrative layer (never by centroid).

    Returns one row per piece × unit: ``project``, ``parcel_id``, ``landuse``, ``admin_layer``,
    ``admin_unit``, ``area_m2``. Land of a piece that lies in no unit is given :data:`OUTSIDE_ADMIN`.
    Parts that are noise under ``tolerance`` join the piece's largest part, so each piece's rows add
    up to its ``take_m2`` (to float rounding).
    """
    geoms = np.asarray(pieces.geometry.values)
    ageoms = np.asarray(admin.geometry.values)
    take = pieces["take_m2"].to_numpy(dtype="float64")
    tree = shapely.STRtree(ageoms)
    pi, ai = tree_query(tree, geoms, predicate="intersects")
    parts = polygonal(geos_map(shapely.intersection, geoms[pi], ageoms[ai])) if len(pi) else np.zeros(0, dtype=object)
    area = np.asarray(shapely.area(parts), dtype="float64")
    ok = area > 0
    pi, ai, area, parts = pi[ok], ai[ok], area[ok], parts[ok]
    # each piece's largest part; the piece's other parts that are noise under the tolerance (a sliver over
    # a neighbouring unit's boundary) join it, and so does the residue of the split, so that each piece's
    # parts add up to its take
    order = np.lexsort((-area, pi))
    largest = np.zeros(len(pi), dtype=bool)
    if len(pi):
        largest[order[np.r_[True, pi[order][1:] != pi[order][:-1]]]] = True
    drop = tolerance.is_noise(parts) & ~largest
    covered = np.bincount(pi, weights=area, minlength=len(pieces))
    rest = take - covered  # land of the piece in no unit (or float residue of the split)
    outside = np.flatnonzero(~tolerance.is_noise_area(np.abs(rest)) & (rest > 0))
    residue = rest.copy()
    residue[outside] = 0.0
    residue += np.bincount(pi[drop], weights=area[drop], minlength=len(pieces))
    area = area + np.where(largest, residue[pi], 0.0)
    keep = ~drop
    df = pd.concat([
        pd.DataFrame({"piece": pi[keep], "admin_unit": admin["admin_unit"].to_numpy()[ai[keep]], "area_m2": area[keep]}),
        pd.DataFrame({"piece": outside, "admin_unit": OUTSIDE_ADMIN, "area_m2": rest[outside]}),
    ], ignore_index=True)
    orphan = np.setdiff1d(np.flatnonzero(take > 0), df["piece"].to_numpy())
    if len(orphan):  # a piece in no unit at all
        df = pd.concat([df, pd.DataFrame({"piece": orphan, "admin_unit": OUTSIDE_ADMIN, "area_m2": take[orphan]})],
                       ignore_index=True)
    df = df.sort_values(["piece", "admin_unit"], kind="stable").reset_index(drop=True)
    base = pieces[["project", "parcel_id", "landuse"]].reset_index(drop=True)
    out = base.iloc[df["piece"].to_numpy()].reset_index(drop=True)
    out["admin_layer"] = admin_layer
    out["admin_unit"] = df["admin_unit"].to_numpy()
    out["area_m2"] = df["area_m2"].to_numpy(dtype="float64")
    return out
