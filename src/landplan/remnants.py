"""What remains of each affected parcel, per project and after all projects, and which pieces fall below the minimums.

A parcel's record is what a household reads: what is taken, what remains and in how many pieces,
and whether a remaining piece is too small or too narrow to use. It is computed the same way for
one project (``parcels.csv``) and for all projects together (``affected_parcels.csv``):

* what remains is the parcel **less the footprint** (never less the piece: the piece's cut points
  are rounded, and ``parcel − piece`` leaves zero-width slivers that join the two halves of a parcel
  cut in two);
* only the parts of a multi-part parcel that the footprint touches are screened: a detached part
  the road never reaches is reported as untouched land (``untouched_m2``), not as a remnant piece,
  as it would be were it stored as a parcel of its own;
* remaining pieces that are noise (:mod:`landplan.tolerance`) are not pieces: they are listed as
  slivers;
* each piece is compared with its land-use group's minimum area (rounded by the rounding rule) and
  minimum width (:func:`landplan.tolerance.is_narrow`), and says which it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import landuse
from .footprints import polygonal
from .parallel import geos_map, tree_query
from .tolerance import Tolerance, is_narrow

#: Columns of a parcel record, per project (``parcels.csv``, with ``project``) and for all projects
#: (``affected_parcels.csv``, with ``projects``).
RECORD_COLUMNS = ["landuse", "owner", "parcel_area_m2", "counted_area_m2", "parcel_parts", "take_m2", "take_fraction",
                  "remnant_m2", "remnant_pieces", "untouched_m2", "remnant_small", "remnant_narrow", "remnant_flag",
                  "min_remnant_m2", "min_remnant_width_m"]
#: Columns of the remaining pieces (GeoPackage layer ``remnants``), besides geometry.
PIECE_COLUMNS = ["parcel_id", "piece", "area_m2", "small", "narrow", "flag"]


@dataclass(frozen=True)
class Minimums:
    """Minimum remnant area (m²) and width (m) per land-use group, and the tolerance policy."""

    area_m2: Mapping[str, float]
    width_m: Mapping[str, float]
    tolerance: Tolerance

    def for_codes(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The minimum area and width that apply to each land-use code."""
        idx, distinct = pd.factorize(np.asarray(codes, dtype=object))
        groups = [landuse.group(c) for c in distinct]
        a = np.array([float(self.area_m2.get(g, 0.0)) for g in groups] + [0.0], dtype="float64")[idx]
        w = np.array([float(self.width_m.get(g, 0.0)) for g in groups] + [0.0], dtype="float64")[idx]
        return a, w


def local_footprints(parcel_geoms: np.ndarray, footprint_row: np.ndarray, tiles: tuple[np.ndarray, np.ndarray],
                     n_footprints: int) -> np.ndarray:
    """For each (parcel, footprint) pair, the footprint near the parcel: the footprint itself, or, for a
    footprint cut into tiles (:func:`landplan.takes.tile_footprints`), the union of its tiles that meet
    the parcel. Differences against it equal differences against the whole footprint."""
    tiles_g, tile_row = tiles
    per_fp = np.bincount(tile_row, minlength=n_footprints)
    out = np.empty(len(parcel_geoms), dtype=object)
    single = per_fp[footprint_row] == 1
    first_tile = np.full(n_footprints, -1, dtype="int64")
    first_tile[tile_row[::-1]] = np.arange(len(tile_row))[::-1]  # the first tile of each footprint
    out[single] = tiles_g[first_tile[footprint_row[single]]]
    many = np.flatnonzero(~single)
    if len(many):
        tree = shapely.STRtree(tiles_g)
        qi, ti = tree_query(tree, parcel_geoms[many], predicate="intersects")
        same = tile_row[ti] == footprint_row[many[qi]]
        qi, ti = qi[same], ti[same]
        order = np.argsort(qi, kind="stable")
        qi, ti = qi[order], ti[order]
        starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]]) if len(qi) else np.zeros(0, dtype=int)
        sizes = np.diff(np.r_[starts, len(qi)])
        one = sizes == 1  # most parcels meet one tile of their footprint
        out[many[qi[starts[one]]]] = tiles_g[ti[starts[one]]]
        unions: dict[tuple[int, ...], shapely.Geometry] = {}  # parcels along a tile edge meet the same tiles
        for s0, n in zip(starts[~one], sizes[~one]):
            key = tuple(ti[s0:s0 + n].tolist())
            if key not in unions:
                unions[key] = shapely.union_all(tiles_g[ti[s0:s0 + n]])
            out[many[qi[s0]]] = unions[key]
    return out


def screen(parcels: gpd.GeoDataFrame, parcel_row: np.ndarray, cutters: np.ndarray, take_m2: np.ndarray,
           minimums: Minimums) -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Records of parcels cut by ``cutters``: record *i* is parcel ``parcel_row[i]`` (its counted
    geometry) less ``cutters[i]`` (a footprint, or the union of several), whose intersection measures
    ``take_m2[i]``.

    Returns ``(records, pieces, slivers)``: ``records`` has :data:`RECORD_COLUMNS` in record order;
    ``pieces`` one row per remaining piece (``record``, ``piece``, ``area_m2``, ``small``, ``narrow``,
    ``flag``, geometry); ``slivers`` the remaining pieces that are noise (``record``, ``area_m2``).

    Notes
    -----
    ``remnant_m2 = counted_area_m2 − take_m2``: all that remains, untouched parts included, so
    counted = take + remnant exactly. ``remnant_pieces`` counts the pieces left of the parts the
    cutter touches; ``untouched_m2`` is the area of the parts it does not touch (multi-part parcels).
    """
    tol = minimums.tolerance
    n = len(parcel_row)
    geoms = np.asarray(parcels.geometry.values)[parcel_row]
    counted = parcels["counted_area_m2"].to_numpy(dtype="float64")[parcel_row]
    codes = parcels["landuse"].to_numpy()[parcel_row]
    min_a, min_w = minimums.for_codes(codes)
    remnant = np.maximum(counted - take_m2, 0.0)
    n_parts = shapely.get_num_geometries(geoms)
    untouched = np.zeros(n)

    # multi-part parcels: keep the parts the cutter really touches (rare: a handful per run)
    screened = geoms.copy()
    for i in np.flatnonzero(n_parts > 1):
        parts = shapely.get_parts(geoms[i])
        touched = ~tol.is_noise(shapely.intersection(parts, cutters[i]))
        if not touched.all():
            untouched[i] = float(shapely.area(parts[~touched]).sum())
            screened[i] = shapely.union_all(parts[touched]) if touched.any() else shapely.Polygon()

    # what remains: the parcel less the footprint, only where anything above the tolerance can remain
    cut = np.flatnonzero(remnant - untouched >= tol.sliver_m2)
    rest = geos_map(lambda a, b: polygonal(np.asarray(shapely.difference(a, b))), screened[cut], cutters[cut])
    parts, owner = _parts(rest)
    owner = cut[owner]
    noise = tol.is_noise(parts)
    slivers = pd.DataFrame({"record": owner[noise], "area_m2": shapely.area(parts[noise])})
    parts, owner = parts[~noise], owner[~noise]
    area = shapely.area(parts)
    small = tol.below(area, min_a[owner])
    narrow = is_narrow(parts, min_w[owner], tol)
    # largest piece first within each record, for a stable numbering
    order = np.lexsort((-area, owner))
    parts, owner, area, small, narrow = parts[order], owner[order], area[order], small[order], narrow[order]
    piece_no = np.arange(len(owner)) - np.searchsorted(owner, owner) + 1
    piece_flag = _flags(small, narrow, min_a[owner], min_w[owner])

    n_pieces = np.bincount(owner, minlength=n)
    any_small = np.bincount(owner, weights=small, minlength=n) > 0
    any_narrow = np.bincount(owner, weights=narrow, minlength=n) > 0
    flags = _flags(any_small, any_narrow, min_a, min_w)
    records = pd.DataFrame({
        "landuse": codes,
        "owner": parcels["owner"].to_numpy()[parcel_row] if "owner" in parcels else "",
        "parcel_area_m2": parcels["parcel_area_m2"].to_numpy(dtype="float64")[parcel_row],
        "counted_area_m2": counted,
        "parcel_parts": n_parts.astype("int64"),
        "take_m2": take_m2.astype("float64"),
        "take_fraction": np.clip(np.divide(take_m2, counted, out=np.zeros(n), where=counted > 0), 0.0, 1.0),
        "remnant_m2": remnant,
        "remnant_pieces": n_pieces.astype("int64"),
        "untouched_m2": untouched,
        "remnant_small": any_small,
        "remnant_narrow": any_narrow,
        "remnant_flag": flags,
        "min_remnant_m2": min_a,
        "min_remnant_width_m": min_w,
    })
    pieces = gpd.GeoDataFrame({"record": owner, "piece": piece_no.astype("int64"), "area_m2": area, "small": small,
                               "narrow": narrow, "flag": piece_flag}, geometry=parts, crs=parcels.crs)
    return records, pieces, slivers


def _parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``shapely.get_parts(geoms, return_index=True)``, without copying the single polygons (most of them)."""
    single = (shapely.get_type_id(geoms) == 3) & ~shapely.is_empty(geoms)
    many = np.flatnonzero(~single)
    parts, idx = shapely.get_parts(geoms[many], return_index=True)
    return np.concatenate([geoms[single], parts]), np.concatenate([np.flatnonzero(single), many[idx]]).astype("int64")


def _flags(small: np.ndarray, narrow: np.ndarray, min_a: np.ndarray, min_w: np.ndarray) -> np.ndarray:
    """:func:`_flag` of each row ("" where neither fails), each distinct case worded once (a city's
    network flags thousands of pieces, with a handful of minimums)."""
    out = np.full(len(small), "", dtype=object)
    rows = np.flatnonzero(small | narrow)
    if len(rows):
        a_val, a_idx = np.unique(min_a[rows], return_inverse=True)
        w_val, w_idx = np.unique(min_w[rows], return_inverse=True)
        code = ((small[rows].astype("int64") * 2 + narrow[rows]) * len(a_val) + a_idx) * len(w_val) + w_idx
        distinct, case = np.unique(code, return_inverse=True)
        w_of, rest = distinct % len(w_val), distinct // len(w_val)
        a_of, sn = rest % len(a_val), rest // len(a_val)
        words = np.array([_flag(bool(k // 2), bool(k % 2), float(a_val[i]), float(w_val[j])) for k, i, j in zip(sn, a_of, w_of)],
                         dtype=object)
        out[rows] = words[case]
    return out


def _flag(small: bool, narrow: bool, min_a: float, min_w: float) -> str:
    """Which minimums failed, in words (Vietnamese, as the cadastre writes them)."""
    return "; ".join(([f"diện tích < {min_a:g} m²"] if small else []) + ([f"bề rộng < {min_w:g} m"] if narrow else []))


Table = tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's place in the sorted order of ``values`` (as text; the values are distinct)."""
    order = np.argsort(np.asarray(values).astype(str), kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return rank


def records(pieces: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, *,
            tiles: tuple[np.ndarray, np.ndarray], minimums: Minimums) -> tuple[Table, Table]:
    """The parcel records per project (:func:`parcel_takes`) and for all projects together
    (:func:`parcel_totals`), screened together: a parcel under one project has the same record in both;
    a parcel under several gets one more, the parcel less the union of their footprints."""
    prow = pieces["parcel_row"].to_numpy()
    frow = pieces["footprint_row"].to_numpy()
    n = len(prow)
    pgeoms = np.asarray(parcels.geometry.values)
    cutters = local_footprints(pgeoms[prow], frow, tiles, len(footprints))
    take = pieces["take_m2"].to_numpy(dtype="float64")
    ids = parcels["parcel_id"].to_numpy()
    pid = footprints["project"].to_numpy()
    project = pid[frow]
    multi = np.bincount(prow, minlength=len(parcels))[prow] > 1
    rows, m_cut, m_take, names = np.zeros(0, dtype="int64"), np.zeros(0, dtype=object), np.zeros(0), np.zeros(0, dtype=object)
    if multi.any():
        mrow = prow[multi]
        order = np.argsort(mrow, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(mrow[order]) != 0])
        groups = np.split(order, starts[1:])
        rows = np.array([mrow[g[0]] for g in groups], dtype="int64")
        m_cutters, m_projects = cutters[multi], pid[frow[multi]]
        m_cut = np.array([shapely.union_all(m_cutters[g]) for g in groups], dtype=object)
        # land taken by any project: the union of the parcel's pieces, so land under two projects counts once
        piece_geoms = np.asarray(pieces.geometry.values)[multi]
        m_take = np.array([shapely.area(shapely.union_all(piece_geoms[g])) for g in groups], dtype="float64")
        names = np.array([",".join(dict.fromkeys(m_projects[g])) for g in groups], dtype=object)
    # record k < n is piece k's (one project); record n + j the j-th parcel under several, all of them
    all_rows = np.concatenate([prow, rows])
    recs, rest, slivers = screen(parcels, all_rows, np.concatenate([cutters, m_cut]), np.concatenate([take, m_take]), minimums)
    rec, srec = rest["record"].to_numpy(), slivers["record"].to_numpy()
    id_rank = _ranks(ids)

    def table(chosen: np.ndarray, key: str, label: np.ndarray, order: np.ndarray) -> pd.DataFrame:
        sel = chosen[order]
        return pd.concat([pd.DataFrame({"parcel_id": ids[all_rows[sel]], key: label[sel]}),
                          recs.iloc[sel].reset_index(drop=True)], axis=1)

    def pieces_of(place: np.ndarray, key: str | None, label: np.ndarray) -> gpd.GeoDataFrame:
        """The remaining pieces of the records with a place (-1: not these records), by that place, then piece."""
        k = np.flatnonzero(place[rec] >= 0)
        k = k[np.lexsort((rest["piece"].to_numpy()[k], place[rec[k]]))]
        out = rest.iloc[k].assign(parcel_id=ids[all_rows[rec[k]]])
        if key is not None:
            out = out.assign(**{key: label[rec[k]]})
        return out[[*([key] if key else []), *PIECE_COLUMNS, "geometry"]].reset_index(drop=True)

    # per project: by project, then parcel (ids and project names compared as text)
    mine = np.arange(n)
    order = np.lexsort((id_rank[prow], _ranks(pid)[frow]))
    labels = np.concatenate([project, names])
    place = np.full(len(all_rows), -1, dtype="int64")
    place[order] = np.arange(n)
    k = np.flatnonzero(srec < n)
    per_project = (table(mine, "project", labels, order), pieces_of(place, "project", labels),
                   pd.DataFrame({"project": labels[srec[k]], "parcel_id": ids[all_rows[srec[k]]],
                                 "area_m2": slivers["area_m2"].to_numpy()[k]}))
    # all projects: one record a parcel, by parcel id
    chosen = np.concatenate([np.flatnonzero(~multi), n + np.arange(len(rows))])
    order = np.argsort(id_rank[all_rows[chosen]], kind="stable")
    place = np.full(len(all_rows), -1, dtype="int64")
    place[chosen[order]] = np.arange(len(chosen))
    k = np.flatnonzero(np.isin(srec, chosen))
    totals = (table(chosen, "projects", labels, order), gpd.GeoDataFrame(pieces_of(place, None, labels), geometry="geometry", crs=parcels.crs),
              pd.DataFrame({"parcel_id": ids[all_rows[srec[k]]], "area_m2": slivers["area_m2"].to_numpy()[k]}))
    return per_project, totals


def parcel_takes(pieces: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, *,
                 tiles: tuple[np.ndarray, np.ndarray], minimums: Minimums) -> Table:
    """One record per affected parcel and project (``parcels.csv``), its remaining pieces and slivers.

    ``pieces`` is the take table without noise (:func:`landplan.takes.split_noise`); ``tiles`` the
    footprints' tiles. Returns ``(table, remaining_pieces, slivers)``: ``table`` has ``parcel_id``,
    ``project`` and :data:`RECORD_COLUMNS`, sorted by project and parcel; ``remaining_pieces`` has
    ``project`` and :data:`PIECE_COLUMNS`; ``slivers`` ``project``, ``parcel_id``, ``area_m2``.
    """
    return records(pieces, parcels, footprints, tiles=tiles, minimums=minimums)[0]


def parcel_totals(pieces: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, *,
                  tiles: tuple[np.ndarray, np.ndarray], minimums: Minimums) -> Table:
    """One record per affected parcel for **all projects together** (``affected_parcels.csv``): land under
    two projects counted once, what remains after every project, its pieces and flags.

    A parcel under one project has that project's record; for a parcel under several, the parcel less
    the union of their footprints is screened. Returns ``(table, remaining_pieces, slivers)`` like
    :func:`parcel_takes`, with ``projects`` (ids joined with ",") instead of ``project``, sorted by
    parcel (and piece).
    """
    return records(pieces, parcels, footprints, tiles=tiles, minimums=minimums)[1]
