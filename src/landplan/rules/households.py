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
from dataclasses import dataclass
from typing import Any

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
    return np.array(band_labels(bands), dtype=object)[_band(share, bands)]


def _band(share: np.ndarray, bands: tuple[float, ...]) -> np.ndarray:
    """The number of each share's band (0 …, upper bound included)."""
    return np.searchsorted(np.asarray(bands, dtype="float64"), np.asarray(share, dtype="float64"), side="left")


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


def member(values: Any, among: object) -> np.ndarray:
    """Whether each of ``values`` (text) is one of ``among``: each distinct value tested once (``numpy.isin``
    sorts Python objects)."""
    codes, uniq = pd.factorize(_array(values))
    wanted = set(among)  # type: ignore[call-overload]
    hit = np.array([u in wanted for u in uniq] + [False], dtype=bool)
    return hit[codes]


def keys(*columns: Any) -> tuple[np.ndarray, int]:
    """Integer codes of the rows' combined ``columns`` (equal rows, equal codes) and how many there are;
    first seen, first numbered."""
    code = np.zeros(len(columns[0]), dtype="int64")
    for c in columns:
        f, uniq = pd.factorize(_array(c))
        code = code * (len(uniq) + 1) + f
    out, uniq = pd.factorize(code)
    return out, len(uniq)


def first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """The first row holding each of the codes 0 … ``n`` − 1 (each appears).

    >>> first_rows(np.array([1, 0, 1, 2, 0]), 3).tolist()
    [1, 0, 3]
    """
    first = np.zeros(n, dtype="int64")
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def rows_in(values: Any, among: Any) -> np.ndarray:
    """Each of ``values``' row in ``among`` (distinct texts), -1 where it is not there: what
    ``pd.Index(among).get_indexer(values)`` gives, found by Arrow's hash lookup on the text as it is held
    (pandas converts text to Python objects for each lookup); pandas' lookup for what is not text.

    >>> rows_in(pd.Series(["b", "x", "a", None]), ["a", "b"]).tolist()
    [1, -1, 0, -1]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        v, a = _arrow_text(values), _arrow_text(among)
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()
        if v.type != a.type:
            v = v.cast(a.type)
        found = pc.index_in(v, value_set=a).fill_null(-1)
    except (pa.ArrowException, TypeError, ValueError):  # not text
        return np.asarray(pd.Index(_array(among)).get_indexer(_array(values)), dtype="int64")
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype="int64")


def _arrow_text(values: Any) -> Any:
    import pyarrow as pa

    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    if hasattr(values, "__arrow_array__") and not isinstance(values, pd.arrays.NumpyExtensionArray):
        got = pa.array(values)
    else:
        got = pa.array(np.asarray(values, dtype=object), from_pandas=True)
    if not (pa.types.is_string(got.type) or pa.types.is_large_string(got.type)):
        raise TypeError("not text")
    return got


def _array(values: Any) -> Any:
    """``values`` as they are when an array (text as pandas holds it is factorised without being converted), else as objects."""
    if isinstance(values, np.ndarray) or (isinstance(values, pd.api.extensions.ExtensionArray)
                                          and not isinstance(values, pd.arrays.NumpyExtensionArray)):
        return values
    return np.asarray(values, dtype=object)


@dataclass(frozen=True)
class Holdings:
    """The land each household (an owner in a unit) holds, computed once for every scope: arrays by
    household number (:func:`holdings`)."""

    #: each household's owner and unit (text, as a table column holds it: :func:`texts`)
    owner: pd.api.extensions.ExtensionArray
    unit: pd.api.extensions.ExtensionArray
    #: each household's place in (owner, unit) order
    rank: np.ndarray
    #: legal area held (m²): farmland, residential land
    farmland_m2: np.ndarray
    residential_m2: np.ndarray
    #: members (the largest count of its parcels; NaN where none says)
    persons: np.ndarray


def holdings(owner: Any, unit: Any, land: pd.DataFrame, cs: CostSettings) -> tuple[Holdings, np.ndarray]:
    """The households of the affected parcels (``owner``, ``unit``: one per parcel) and what each holds
    in its unit (``land``: :func:`landplan.rules.holdings.read_land`'s); and each parcel's household
    number (-1 for a parcel without an owner)."""
    # text as pandas holds it (the facts' and the land's columns), joined and factorised without converting each text
    owners = pd.concat([pd.Series(_array(owner)), land["owner"]], ignore_index=True).array
    units = pd.concat([pd.Series(_array(unit)), land["admin_unit"]], ignore_index=True).array
    both, n = keys(owners, units)
    h_parcel, h_land = both[:len(owner)], both[len(owner):]
    first = first_rows(both, n)
    names_o, names_u = owners.take(first), units.take(first)
    l_code, l_area = land["landuse"].array, land["area_m2"].to_numpy(dtype="float64")
    farm = np.bincount(h_land, weights=np.where(member(l_code, farmland_codes(cs)), l_area, 0.0), minlength=n)
    res = np.bincount(h_land, weights=np.where(member(l_code, cs.resettlement.codes), l_area, 0.0), minlength=n)
    persons = np.full(n, np.nan)
    pers = land["persons"].to_numpy(dtype="float64")
    ok = np.isfinite(pers)
    np.fmax.at(persons, h_land[ok], pers[ok])
    rank = np.empty(n, dtype="int64")
    rank[np.lexsort((_text_rank(names_u), _text_rank(names_o)))] = np.arange(n)
    no_owner = np.asarray(pd.Series(owners[:len(owner)]) == "", dtype=bool)
    return Holdings(names_o, names_u, rank, farm, res, persons), np.where(no_owner, -1, h_parcel)


def _text_rank(values: Any) -> np.ndarray:
    """Each text's place in code-point order (as pandas sorts text)."""
    return np.asarray(pd.factorize(_array(values), sort=True)[0], dtype="int64")


def households(scope: np.ndarray, household: np.ndarray, held: Holdings, *, scopes: list[str], take_m2: np.ndarray,
               usable_left_m2: np.ndarray, is_farm: np.ndarray, is_res: np.ndarray, res_parcel_m2: np.ndarray, cs: CostSettings,
               min_residential_m2: float, tolerance: Tolerance) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per household (owner × unit) and scope that the records touch, before money (see the module notes).

    Per record: ``scope`` (its number in ``scopes``: a project, or all projects), ``household``
    (:func:`holdings`' number, -1 for none), the legal area taken, ``usable_left_m2`` (the legal
    area of the untouched parts and of the remaining pieces meeting every minimum), whether its land
    use is farmland and residential, and ``res_parcel_m2`` (the parcel's legal area where it is
    residential land of the owner). Returns the households (``project``, ``owner``, ``admin_unit``,
    ``persons``, ``parcels_affected``, farmland and residential areas, the share and its band,
    ``resettle``, ``plots``, ``life_months``, ``job_factor`` (the cap's scaling) and
    ``life_support_vnd``; ``_scope`` and ``_household``, their numbers), in the order of ``scopes``,
    then owner and unit; and each record's row among them (-1 for none).
    """
    scope, household = np.asarray(scope, dtype="int64"), np.asarray(household, dtype="int64")
    mine = np.flatnonzero(household >= 0)
    n_h = len(held.rank)
    # one row per scope and household, in their order
    sort_key = scope[mine] * max(n_h, 1) + held.rank[household[mine]]
    uniq, g = np.unique(sort_key, return_inverse=True)
    g = g.reshape(-1)
    n = len(uniq)
    row_of = np.full(len(scope), -1, dtype="int64")
    row_of[mine] = g
    h = np.empty(n, dtype="int64")
    h[g] = household[mine]

    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=np.asarray(w, dtype="float64")[mine], minlength=n)

    farm, res = np.asarray(is_farm, dtype=bool), np.asarray(is_res, dtype=bool)
    take = np.asarray(take_m2, dtype="float64")
    sc_row = uniq // max(n_h, 1)
    hh: dict[str, object] = {"project": texts(scopes).take(sc_row), "owner": held.owner.take(h), "admin_unit": held.unit.take(h),
                             "_scope": sc_row, "_household": h, "parcels_affected": np.bincount(g, minlength=n).astype("int64")}
    farm_taken = total(np.where(farm, take, 0.0))
    res_taken = total(np.where(res, take, 0.0))
    res_left, res_aff = total(np.where(res, usable_left_m2, 0.0)), total(res_parcel_m2)
    # an affected parcel missing from the owner's land (a where filter, an owner column changed since): held at least what is taken
    farm_held = np.maximum(held.farmland_m2[h], farm_taken)
    res_held = np.maximum(held.residential_m2[h], res_taken)
    persons = held.persons[h]
    persons = np.where(np.isfinite(persons) & (persons > 0), persons, cs.support.persons_per_household)
    tol = tolerance
    held_r, taken_r = tol.round_m2(farm_held), tol.round_m2(farm_taken)
    share = np.divide(taken_r, held_r, out=np.zeros(n), where=held_r > 0).clip(0.0, 1.0)
    # usable residential land left: the untouched residential parcels, and what is usable of the affected ones
    left = np.maximum(res_held - res_aff, 0.0) + res_left
    resettle = (tol.round_m2(res_taken) > 0) & ((tol.round_m2(left) <= 0) | tol.below(left, min_residential_m2))
    months = life_months(share, resettle, cs)
    sup = cs.support
    hh.update({"persons": persons, "farmland_m2": farm_held, "farmland_taken_m2": farm_taken, "farmland_taken_share": share,
               "share_band": texts(band_labels(cs.share_bands)).take(_band(share, cs.share_bands)),
               "residential_m2": res_held, "residential_taken_m2": res_taken, "residential_left_m2": left, "resettle": resettle,
               "plots": np.where(resettle, cs.resettlement.plots_per_household, 0.0), "life_months": months,
               "life_support_vnd": np.round(months * persons * sup.rice_kg_per_person_month * sup.rice_price_vnd_kg).astype("int64"),
               "job_factor": np.where(farm_taken > sup.job_cap_m2, sup.job_cap_m2 / np.where(farm_taken > 0, farm_taken, 1.0), 1.0)})
    return pd.DataFrame(hh), row_of


def texts(values: object) -> pd.api.extensions.ExtensionArray:
    """``values`` (texts) as a table column holds text, so that a column of rows taken from them
    (``texts(names).take(rows)``) is built without converting each row's text again."""
    return pd.Series(np.asarray(values, dtype=object)).array


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
