"""Households: all the land each owner of an affected parcel holds in the commune, and what a project takes of it.

Support depends on a household's **whole** farmland in the commune, not only on the parcels a
corridor crosses, so every parcel of those owners is read **by attribute** (the owner column),
wherever it lies (:func:`landplan.layers.read_where_in`), and placed in its unit like the affected
parcels (:func:`landplan.rules.positions.unit_of`). A household is an owner (the parcel layer's
``owner`` column) × a unit of the ``[costs] admin`` layer.

Notes
-----
For a household (owner *o*, commune *c*) and one scope (a project, or all projects with land under
two counted once):

* ``farmland_m2`` = Σ legal area of *o*'s parcels in *c* whose land-use group is farmland
  (``[costs.support] farmland_groups``); ``farmland_taken_m2`` = Σ legal area taken of them;
  ``share = farmland_taken / farmland`` (both rounded by the rounding rule first);
* ``share_band``: the band of :data:`~landplan.rules.settings.SHARE_BANDS` (upper bound included:
  exactly 30 % is in 10–30 %);
* must move (resettlement) when residential land (``[costs.resettlement] codes``) is taken and
  what remains usable of it in *c* is nothing or below the residential minimum
  (``[rules] min_remnant_m2``): the household's untouched residential parcels plus, of its
  affected ones, the untouched parts and the remaining pieces that meet every minimum;
* life-stabilisation months: for ``life_share_bands = [a, b]``, ``a ≤ share ≤ b`` gives
  ``months[0]``, ``share > b`` gives ``months[1]``, of ``life_months_move`` when the household must
  move, else ``life_months_stay``; support = months × persons × ``rice_kg_per_person_month`` ×
  ``rice_price_vnd_kg``;
* job-change support is capped at ``job_cap_m2`` of farmland taken: every parcel's job support is
  scaled by ``min(1, job_cap_m2 / farmland_taken)``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .. import landuse
from ..tolerance import Tolerance
from .settings import CostSettings

#: Columns of ``households.csv``.
HOUSEHOLD_COLUMNS = ["project", "owner", "admin_unit", "persons", "parcels_affected", "farmland_m2", "farmland_taken_m2",
                     "farmland_taken_share", "share_band", "residential_m2", "residential_taken_m2", "residential_left_m2",
                     "resettle", "plots", "land_compensation_vnd", "job_support_vnd", "life_months", "life_support_vnd",
                     "total_vnd"]


def read_land(scenario: object, owners: set[str], units: object) -> pd.DataFrame:
    """Every parcel of ``owners`` in the parcel layer, read by attribute: ``parcel_id``, ``owner``,
    ``landuse``, ``admin_unit`` (the unit holding most of it), ``area_m2`` (legal: the register area
    where the layer has one, else the area as drawn, after any repair) and ``persons`` (NaN when the
    scenario names no persons column or the cell is empty)."""
    from .. import layers
    from ..report import RunReport
    from .positions import unit_of

    sc = scenario
    spec = sc.parcels  # type: ignore[attr-defined]
    cs: CostSettings = sc.costs  # type: ignore[attr-defined]
    cols = [spec.id_column, spec.landuse_column]
    if spec.register_area_column:
        cols.append(spec.register_area_column)
    persons_col = cs.support.persons_column
    if persons_col:
        cols.append(persons_col)
    empty = pd.DataFrame({"parcel_id": pd.Series(dtype=object), "owner": pd.Series(dtype=object), "landuse": pd.Series(dtype=object),
                          "admin_unit": pd.Series(dtype=object), "area_m2": pd.Series(dtype="float64"),
                          "persons": pd.Series(dtype="float64")})
    if not owners or spec.owner_column is None:
        return empty
    raw = layers.read_where_in(spec.source, sc.crs, spec.owner_column, owners, columns=cols)  # type: ignore[attr-defined]
    if raw.empty:
        return empty
    raw = raw.assign(parcel_id=layers._nfc(raw[spec.id_column]))
    raw = raw.drop_duplicates("parcel_id")  # a row repeated in the file counts once (the run reports it)
    raw = layers.repair_polygons(raw, layer=spec.source.label(), id_column="parcel_id", report=RunReport(quiet=True))
    geoms = np.asarray(raw.geometry.values)
    import shapely

    drawn = np.asarray(shapely.area(geoms), dtype="float64")
    if spec.register_area_column:
        reg = pd.to_numeric(raw[spec.register_area_column], errors="coerce").to_numpy(dtype="float64")
        area = np.where(np.isfinite(reg) & (reg > 0), reg, drawn)
    else:
        area = drawn
    persons = (pd.to_numeric(raw[persons_col], errors="coerce").to_numpy(dtype="float64") if persons_col
               else np.full(len(raw), np.nan))
    return pd.DataFrame({
        "parcel_id": raw["parcel_id"].to_numpy(), "owner": raw[spec.owner_column].to_numpy(),
        "landuse": [landuse.normalize_code(c) for c in raw[spec.landuse_column]], "admin_unit": unit_of(geoms, units),
        "area_m2": area, "persons": persons,
    })


def band_labels(bands: tuple[float, ...]) -> list[str]:
    """Labels of the share bands: ``≤ 10 %``, ``10–30 %``, …, ``> 70 %`` (upper bound included)."""
    pct = [f"{100 * b:g}" for b in bands]
    return [f"≤ {pct[0]} %"] + [f"{a}–{b} %" for a, b in itertools.pairwise(pct)] + [f"> {pct[-1]} %"]


def share_band(share: np.ndarray, bands: tuple[float, ...]) -> np.ndarray:
    """The band label of each share (0–1), upper bound included.

    >>> share_band(np.array([0.0, 0.1, 0.3, 0.31, 0.7, 0.71]), (0.1, 0.3, 0.7)).tolist()
    ['≤ 10 %', '≤ 10 %', '10–30 %', '30–70 %', '30–70 %', '> 70 %']
    """
    labels = np.array(band_labels(bands), dtype=object)
    return labels[np.searchsorted(np.asarray(bands, dtype="float64"), np.asarray(share, dtype="float64"), side="left")]


def life_months(share: np.ndarray, must_move: np.ndarray, cs: CostSettings) -> np.ndarray:
    """Months of life-stabilisation support for each household (see the module notes)."""
    a, b = cs.support.life_share_bands
    stay, move = np.asarray(cs.support.life_months_stay), np.asarray(cs.support.life_months_move)
    share = np.asarray(share, dtype="float64")
    band = np.where(share > b, 1, np.where(share >= a, 0, -1))
    months = np.where(np.asarray(must_move, dtype=bool), move[np.maximum(band, 0)], stay[np.maximum(band, 0)])
    return np.where(band >= 0, months, 0.0)


def households(lines: pd.DataFrame, land: pd.DataFrame, cs: CostSettings, *, min_residential_m2: float,
               tolerance: Tolerance) -> pd.DataFrame:
    """One row per household (owner × unit) a scope's records touch, before money (see the module notes).

    ``lines`` are one scope's records with ``parcel_id``, ``owner``, ``admin_unit``, ``landuse``,
    ``legal_take_m2``, ``usable_left_m2`` (the legal area of the untouched parts and of the remaining
    pieces meeting every minimum); ``land`` is :func:`read_land`'s. Returns ``owner``,
    ``admin_unit``, ``persons``, ``parcels_affected``, farmland and residential areas, the share and
    its band, ``resettle``, ``plots``, ``life_months``, ``job_factor`` (the cap's scaling) and
    ``life_support_vnd``.
    """
    farm_groups = set(cs.support.farmland_groups)
    res_codes = set(cs.resettlement.codes)
    mine = lines[lines["owner"].astype(str) != ""]
    keys = ["owner", "admin_unit"]
    is_farm = mine["landuse"].map(lambda c: landuse.group(c) in farm_groups).to_numpy(dtype=bool)
    is_res = mine["landuse"].isin(res_codes).to_numpy()
    take = mine["legal_take_m2"].to_numpy(dtype="float64")
    per = pd.DataFrame({
        "owner": mine["owner"].to_numpy(), "admin_unit": mine["admin_unit"].to_numpy(), "parcel_id": mine["parcel_id"].to_numpy(),
        "farm_take": np.where(is_farm, take, 0.0), "res_take": np.where(is_res, take, 0.0),
        "res_left": np.where(is_res, mine["usable_left_m2"].to_numpy(dtype="float64"), 0.0),
    })
    hh = per.groupby(keys, sort=True).agg(parcels_affected=("parcel_id", "nunique"), farmland_taken_m2=("farm_take", "sum"),
                                          residential_taken_m2=("res_take", "sum"), res_left=("res_left", "sum")).reset_index()
    held = land.assign(farm=land["landuse"].map(lambda c: landuse.group(c) in farm_groups).astype(bool),
                       res=land["landuse"].isin(res_codes), affected=land["parcel_id"].isin(set(mine["parcel_id"])))
    held = held.assign(farm_m2=np.where(held["farm"], held["area_m2"], 0.0), res_m2=np.where(held["res"], held["area_m2"], 0.0),
                       res_untouched=np.where(held["res"] & ~held["affected"], held["area_m2"], 0.0))
    h = held.groupby(keys, sort=False).agg(farmland_m2=("farm_m2", "sum"), residential_m2=("res_m2", "sum"),
                                           res_untouched=("res_untouched", "sum"), persons=("persons", "max")).reset_index()
    hh = hh.merge(h, on=keys, how="left")
    for c in ("farmland_m2", "residential_m2", "res_untouched"):
        hh[c] = hh[c].fillna(0.0)
    # an affected parcel missing from the owner's land (a where filter, an owner column changed since): held at least what is taken
    hh["farmland_m2"] = np.maximum(hh["farmland_m2"], hh["farmland_taken_m2"])
    hh["residential_m2"] = np.maximum(hh["residential_m2"], hh["residential_taken_m2"])
    persons = hh["persons"].to_numpy(dtype="float64")
    hh["persons"] = np.where(np.isfinite(persons) & (persons > 0), persons, cs.support.persons_per_household)
    tol = tolerance
    held_r, taken_r = tol.round_m2(hh["farmland_m2"].to_numpy()), tol.round_m2(hh["farmland_taken_m2"].to_numpy())
    hh["farmland_taken_share"] = np.divide(taken_r, held_r, out=np.zeros(len(hh)), where=held_r > 0).clip(0.0, 1.0)
    hh["share_band"] = share_band(hh["farmland_taken_share"].to_numpy(), cs.share_bands)
    hh["residential_left_m2"] = hh["res_untouched"] + hh["res_left"]
    res_taken = tol.round_m2(hh["residential_taken_m2"].to_numpy()) > 0
    left = hh["residential_left_m2"].to_numpy()
    hh["resettle"] = res_taken & ((tol.round_m2(left) <= 0) | tol.below(left, min_residential_m2))
    hh["plots"] = np.where(hh["resettle"], cs.resettlement.plots_per_household, 0.0)
    hh["life_months"] = life_months(hh["farmland_taken_share"].to_numpy(), hh["resettle"].to_numpy(), cs)
    sup = cs.support
    hh["life_support_vnd"] = np.round(hh["life_months"] * hh["persons"] * sup.rice_kg_per_person_month * sup.rice_price_vnd_kg).astype("int64")
    taken = hh["farmland_taken_m2"].to_numpy(dtype="float64")
    hh["job_factor"] = np.where(taken > sup.job_cap_m2, sup.job_cap_m2 / np.where(taken > 0, taken, 1.0), 1.0)
    return hh.drop(columns=["res_left", "res_untouched"])


def apportion(total: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Split each group's whole-number ``total`` among its rows in proportion to ``weights``, in whole
    numbers that add up to the total exactly (largest remainders; ties to the first row).

    ``total`` is given per row (the same value on every row of a group).

    >>> apportion(np.array([100, 100, 100, 7]), np.array([1.0, 1.0, 1.0, 0.0]), np.array([0, 0, 0, 1])).tolist()
    [34, 33, 33, 7]
    """
    total = np.asarray(total, dtype="int64")
    w = np.asarray(weights, dtype="float64")
    g = pd.factorize(np.asarray(group))[0]
    n_g = g.max() + 1 if len(g) else 0
    wsum = np.bincount(g, weights=w, minlength=n_g)
    count = np.bincount(g, minlength=n_g)
    # a group with no weight splits evenly
    share = np.where(wsum[g] > 0, w / np.where(wsum[g] > 0, wsum[g], 1.0), 1.0 / np.maximum(count[g], 1))
    exact = total * share
    base = np.floor(exact).astype("int64")
    short = total - np.bincount(g, weights=base, minlength=n_g).astype("int64")[g]
    rem = exact - base
    order = np.lexsort((np.arange(len(g)), -rem, g))
    rank = np.empty(len(g), dtype="int64")
    starts = np.r_[0, np.cumsum(count)[:-1]] if n_g else np.zeros(0, dtype="int64")
    rank[order] = np.arange(len(g)) - starts[g[order]]
    return base + (rank < short).astype("int64")
