"""What remains of each affected parcel after a project's take, and which remnants fall below the minimums."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import landuse
from .footprints import polygonal
from .parallel import geos_map

#: Remaining pieces smaller than this (m²) are slivers from coordinate rounding, not land; they are ignored.
SLIVER_M2 = 0.01



def parcel_takes(pieces: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, *,
                 min_remnant_m2: Mapping[str, float], min_remnant_width_m: Mapping[str, float]) -> pd.DataFrame:
    """One row per affected parcel and project: take, remainder, remnant pieces and flags.

    Columns: ``parcel_id``, ``project``, ``landuse``, ``owner``, ``parcel_area_m2`` (as drawn),
    ``counted_area_m2`` (after the parcel-overlap rule), ``take_m2``, ``take_fraction`` (0–1 of the
    counted area), ``remnant_m2``, ``remnant_pieces`` (separate remaining pieces),
    ``remnant_small`` (a piece below the group's minimum area), ``remnant_narrow`` (a piece narrower
    than the group's minimum width), ``remnant_flag`` (which threshold failed, in words), and
    ``min_remnant_m2``/``min_remnant_width_m`` (the thresholds applied).

    Notes
    -----
    ``remnant_m2 = counted_area_m2 - take_m2`` is checked against the area of the geometric
    difference parcel − footprint. A piece is "narrow" when an inward buffer of half the minimum
    width leaves nothing of it.
    """
    prow = pieces["parcel_row"].to_numpy()
    frow = pieces["footprint_row"].to_numpy()
    counted = parcels["counted_area_m2"].to_numpy()[prow]
    take = pieces["take_m2"].to_numpy()
    # the take table has one piece per parcel and project, so what remains is the parcel less its piece:
    # a small local operation, whatever the size of the footprint. A piece is part of its parcel, so
    # where the two areas differ by less than a sliver nothing can remain and no difference is needed.
    cut = np.flatnonzero(counted - take >= SLIVER_M2 / 2)
    rest = geos_map(lambda a, b: polygonal(np.asarray(shapely.difference(a, b))),
                    np.asarray(parcels.geometry.values)[prow[cut]], np.asarray(pieces.geometry.values)[cut])
    parts, owner_idx = _parts(rest)
    owner_idx = cut[owner_idx]
    part_area = shapely.area(parts)
    real = part_area >= SLIVER_M2
    parts, owner_idx, part_area = parts[real], owner_idx[real], part_area[real]

    codes = parcels["landuse"].to_numpy()[prow]
    code_idx, distinct = pd.factorize(codes)
    groups = [landuse.group(c) for c in distinct]
    min_a = np.array([float(min_remnant_m2.get(g, 0.0)) for g in groups] + [0.0], dtype="float64")[code_idx]
    min_w = np.array([float(min_remnant_width_m.get(g, 0.0)) for g in groups] + [0.0], dtype="float64")[code_idx]
    small_part = part_area < min_a[owner_idx]
    half = min_w[owner_idx] / 2.0
    narrow_part = np.zeros(len(parts), dtype=bool)
    test = half > 0
    if test.any():
        narrow_part[test] = _narrow(parts[test], half[test])
    n = len(pieces)
    n_pieces = np.bincount(owner_idx, minlength=n)
    small = np.bincount(owner_idx, weights=small_part.astype(float), minlength=n) > 0
    narrow = np.bincount(owner_idx, weights=narrow_part.astype(float), minlength=n) > 0

    remnant = np.maximum(counted - take, 0.0)
    flags = np.full(n, "", dtype=object)
    for i in np.flatnonzero(small | narrow):  # only the flagged few
        f = ([f"diện tích < {min_a[i]:g} m²"] if small[i] else []) + ([f"bề rộng < {min_w[i]:g} m"] if narrow[i] else [])
        flags[i] = "; ".join(f)
    out = pd.DataFrame({
        "parcel_id": parcels["parcel_id"].to_numpy()[prow],
        "project": footprints["project"].to_numpy()[frow],
        "landuse": codes,
        "owner": parcels["owner"].to_numpy()[prow] if "owner" in parcels else "",
        "parcel_area_m2": parcels["parcel_area_m2"].to_numpy()[prow],
        "counted_area_m2": counted,
        "take_m2": take,
        "take_fraction": np.clip(np.divide(take, counted, out=np.zeros(n), where=counted > 0), 0.0, 1.0),
        "remnant_m2": remnant,
        "remnant_pieces": n_pieces.astype("int64"),
        "remnant_small": small,
        "remnant_narrow": narrow,
        "remnant_flag": flags,
        "min_remnant_m2": min_a,
        "min_remnant_width_m": min_w,
    })
    return out.sort_values(["project", "parcel_id"], kind="stable").reset_index(drop=True)


def _parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``shapely.get_parts(geoms, return_index=True)``, without copying the single polygons (most of them)."""
    single = (shapely.get_type_id(geoms) == 3) & ~shapely.is_empty(geoms)
    many = np.flatnonzero(~single)
    parts, idx = shapely.get_parts(geoms[many], return_index=True)
    return (np.concatenate([geoms[single], parts]),
            np.concatenate([np.flatnonzero(single), many[idx]]).astype("int64"))


def _narrow(parts: np.ndarray, half_m: np.ndarray) -> np.ndarray:
    """True where an inward buffer of ``half_m`` leaves nothing of the polygon (it is narrower than
    twice ``half_m`` everywhere).

    A polygon whose centroid lies inside it, farther than ``half_m`` from its boundary, holds a disc
    of that radius, so the buffer keeps at least the centroid: those (most remnants) are decided
    without buffering. The rest are buffered.
    """
    wide = geos_map(_holds_disc_at_centroid, parts, half_m)
    out = np.zeros(len(parts), dtype=bool)
    test = np.flatnonzero(~wide)
    if len(test):
        out[test] = geos_map(lambda g, d: shapely.is_empty(shapely.buffer(g, -d, join_style="mitre")), parts[test], half_m[test])
    return out


def _holds_disc_at_centroid(parts: np.ndarray, radius_m: np.ndarray) -> np.ndarray:
    """True where the polygon's centroid lies inside it farther than ``radius_m`` from its boundary."""
    out = np.zeros(len(parts), dtype=bool)
    ok = np.flatnonzero(~shapely.is_empty(parts))
    c = shapely.centroid(parts[ok])
    xy = shapely.get_coordinates(c)
    # subnormal coordinates can make GEOS divide by zero; the distance is then not finite, the test
    # says "not wide" and the buffer decides
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = shapely.distance(c, shapely.boundary(parts[ok]))
        out[ok] = shapely.contains_xy(parts[ok], xy[:, 0], xy[:, 1]) & np.isfinite(d) & (d > radius_m[ok] * (1.0 + 1e-9))
    return out


def per_parcel(table: pd.DataFrame) -> pd.DataFrame:
    """The parcel table (one row per parcel and project) summed per parcel, indexed by ``parcel_id``.

    Columns: ``projects`` (ids in the order met, joined with ","), ``take_m2`` (sum over projects),
    ``counted_area_m2`` and ``remnant_flag`` (distinct flags, sorted, joined with "; ").
    """
    return table.groupby("parcel_id", sort=False).agg(
        projects=("project", lambda s: ",".join(dict.fromkeys(s))),
        take_m2=("take_m2", "sum"),
        counted_area_m2=("counted_area_m2", "first"),
        remnant_flag=("remnant_flag", lambda s: "; ".join(sorted({x for x in s if x}))),
    )
