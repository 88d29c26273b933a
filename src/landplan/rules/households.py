"""Households: all the land each owner of an affected parcel holds in the commune, and what a project takes of it.

Support depends on a household's **whole** farmland in the commune, not only on the parcels a
corridor crosses, so every parcel of those owners is read **by attribute** (the owner column),
wherever it lies, and placed in its unit (:mod:`landplan.rules.holdings`). A household is an owner (the parcel layer's
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


def farmland_codes(cs: CostSettings) -> set[str]:
    """The land-use codes of the farmland groups (``[costs.support] farmland_groups``)."""
    groups = set(cs.support.farmland_groups)
    return {lu.code for lu in landuse.LANDUSE_TABLE if lu.group in groups}


def member(values: np.ndarray, among: object) -> np.ndarray:
    """Whether each of ``values`` (text) is one of ``among``: each distinct value tested once (``numpy.isin``
    sorts Python objects)."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object))
    wanted = set(among)  # type: ignore[call-overload]
    hit = np.array([u in wanted for u in uniq] + [False], dtype=bool)
    return hit[codes]


def keys(*columns: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes of the rows' combined ``columns`` (equal rows, equal codes) and how many there are;
    first seen, first numbered."""
    code = np.zeros(len(columns[0]), dtype="int64")
    for c in columns:
        f, uniq = pd.factorize(np.asarray(c, dtype=object))
        code = code * (len(uniq) + 1) + f
    out, uniq = pd.factorize(code)
    return out, len(uniq)


def households(lines: pd.DataFrame, land: pd.DataFrame, cs: CostSettings, *, min_residential_m2: float,
               tolerance: Tolerance) -> pd.DataFrame:
    """One row per household (owner × unit) and scope that the records touch, before money (see the module notes).

    ``lines`` are records with ``project`` (the scope: a project, or all projects), ``parcel_id``,
    ``owner``, ``admin_unit``, ``landuse``, ``legal_take_m2``, ``usable_left_m2`` (the legal area of
    the untouched parts and of the remaining pieces meeting every minimum); ``land`` is
    :func:`landplan.rules.holdings.read_land`'s. Returns ``project``, ``owner``, ``admin_unit``, ``persons``,
    ``parcels_affected``, farmland and residential areas, the share and its band, ``resettle``,
    ``plots``, ``life_months``, ``job_factor`` (the cap's scaling) and ``life_support_vnd``, sorted by
    scope, owner and unit.
    """
    farm, res_codes = list(farmland_codes(cs)), list(cs.resettlement.codes)
    owner = lines["owner"].to_numpy(dtype=object)
    mine = np.flatnonzero(owner != "")
    scope, owner = lines["project"].to_numpy(dtype=object)[mine], owner[mine]
    unit = lines["admin_unit"].to_numpy(dtype=object)[mine]
    code = lines["landuse"].to_numpy(dtype=object)[mine]
    is_farm, is_res = member(code, farm), member(code, res_codes)
    take = lines["legal_take_m2"].to_numpy(dtype="float64")[mine]
    pid = lines["parcel_id"].to_numpy(dtype=object)[mine]
    # the owners' land: per (owner, unit), and each parcel's legal area (an affected residential parcel's is not untouched)
    l_owner, l_unit = land["owner"].to_numpy(dtype=object), land["admin_unit"].to_numpy(dtype=object)
    l_code, l_area = land["landuse"].to_numpy(dtype=object), land["area_m2"].to_numpy(dtype="float64")
    both, n_both = keys(np.concatenate([owner, l_owner]), np.concatenate([unit, l_unit]))
    hk_line, hk_land = both[:len(owner)], both[len(owner):]
    farm_held = np.bincount(hk_land, weights=np.where(member(l_code, farm), l_area, 0.0), minlength=n_both)
    res_held = np.bincount(hk_land, weights=np.where(member(l_code, res_codes), l_area, 0.0), minlength=n_both)
    persons_held = np.full(n_both, np.nan)
    pers = land["persons"].to_numpy(dtype="float64")
    ok = np.isfinite(pers)
    np.fmax.at(persons_held, hk_land[ok], pers[ok])
    at = pd.Index(land["parcel_id"].to_numpy(dtype=object)).get_indexer(pid) if len(land) else np.full(len(pid), -1)
    res_affected = np.where(is_res & (at >= 0), l_area[np.maximum(at, 0)] if len(land) else 0.0, 0.0)
    # one row per scope and household
    g, n = keys(scope, owner, unit)
    first = np.full(n, -1, dtype="int64")
    first[g[::-1]] = np.arange(len(g))[::-1]
    hh = pd.DataFrame({"project": scope[first], "owner": owner[first], "admin_unit": unit[first]})

    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=w, minlength=n)

    hh["parcels_affected"] = np.bincount(g, minlength=n).astype("int64")
    hh["farmland_taken_m2"] = total(np.where(is_farm, take, 0.0))
    hh["residential_taken_m2"] = total(np.where(is_res, take, 0.0))
    res_left, res_aff = total(np.where(is_res, lines["usable_left_m2"].to_numpy(dtype="float64")[mine], 0.0)), total(res_affected)
    h = hk_line[first]
    # an affected parcel missing from the owner's land (a where filter, an owner column changed since): held at least what is taken
    hh["farmland_m2"] = np.maximum(farm_held[h], hh["farmland_taken_m2"].to_numpy())
    hh["residential_m2"] = np.maximum(res_held[h], hh["residential_taken_m2"].to_numpy())
    persons = persons_held[h]
    hh["persons"] = np.where(np.isfinite(persons) & (persons > 0), persons, cs.support.persons_per_household)
    tol = tolerance
    held_r, taken_r = tol.round_m2(hh["farmland_m2"].to_numpy()), tol.round_m2(hh["farmland_taken_m2"].to_numpy())
    hh["farmland_taken_share"] = np.divide(taken_r, held_r, out=np.zeros(len(hh)), where=held_r > 0).clip(0.0, 1.0)
    hh["share_band"] = share_band(hh["farmland_taken_share"].to_numpy(), cs.share_bands)
    # usable residential land left: the untouched residential parcels, and what is usable of the affected ones
    untouched = np.maximum(hh["residential_m2"].to_numpy() - res_aff, 0.0)
    hh["residential_left_m2"] = untouched + res_left
    res_taken = tol.round_m2(hh["residential_taken_m2"].to_numpy()) > 0
    left = hh["residential_left_m2"].to_numpy()
    hh["resettle"] = res_taken & ((tol.round_m2(left) <= 0) | tol.below(left, min_residential_m2))
    hh["plots"] = np.where(hh["resettle"], cs.resettlement.plots_per_household, 0.0)
    hh["life_months"] = life_months(hh["farmland_taken_share"].to_numpy(), hh["resettle"].to_numpy(), cs)
    sup = cs.support
    hh["life_support_vnd"] = np.round(hh["life_months"] * hh["persons"] * sup.rice_kg_per_person_month * sup.rice_price_vnd_kg).astype("int64")
    taken = hh["farmland_taken_m2"].to_numpy(dtype="float64")
    hh["job_factor"] = np.where(taken > sup.job_cap_m2, sup.job_cap_m2 / np.where(taken > 0, taken, 1.0), 1.0)
    return hh.sort_values(["project", "owner", "admin_unit"], kind="stable").reset_index(drop=True)


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
