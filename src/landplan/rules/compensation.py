"""The indicative cost estimate: land compensation, support, resettlement and the rice-land conversion payment.

Per parcel, per household, per ward and per project, traceable line by line to the table row and
the rule that set it. Geometry is used once, to place each affected parcel (its unit, its position
by distance from the roads, the front of a residential take); everything else is table maths on
the run's parcel records (``Result.parcels`` per project, ``Result.parcel_totals`` for all projects
with land under two counted once).

Notes
-----
For a parcel record with taken area ``take_m2`` (as drawn in the working CRS):

* **legal area** (diện tích pháp lý): ``legal_take_m2 = take_m2 × register_area / parcel_area`` where
  the parcel layer has a register area (``[parcels] register_area``), else ``take_m2``; a parcel
  whose drawn area differs from its register area by more than ``register_tolerance`` is flagged
  (``register_differs``) and listed in a warning;
* **unit price** = table price (unit, land use, position) × K (unit, land use); with
  ``floor_at_table_price``, a unit price below the table price is raised to it (Land Law 2024
  Art. 158: a price below the table price is replaced by it);
* **land compensation** = ``legal_take_m2 × unit price × price_factor``, where ``price_factor`` is 1,
  or, for the depth codes in position 1, ``f + (1 − f) × depth_factor`` with ``f`` the share of
  the take within ``depth_m`` of the road; land uses in ``not_compensated`` (state-managed land) get
  none;
* **job-change support** = ``job_multiple × table price × legal_take_m2`` on farmland, scaled by the
  household's cap (:mod:`landplan.rules.households`);
* **life-stabilisation support**: per household, shared among its farmland records in proportion to
  their legal area taken (whole đồng, adding up exactly);
* **conversion payment** = ``share × table price × legal_take_m2`` on the conversion codes, for
  projects not exempt; for all projects together, the sum over projects, at most once the land;
* **remnant candidates**: remaining pieces below a minimum (area or width), valued at
  ``legal area × unit price``, listed (``remnant_candidate_*``) and never added to any total.

Money is rounded to whole đồng per line; every total is the sum of the lines shown.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import landuse
from ..errors import PriceError
from . import households as _hh
from . import positions as _pos
from .holdings import read_land
from .prices import check_units
from .settings import CostSettings

if TYPE_CHECKING:
    from ..pipeline import Result
    from ..report import RunReport

log = logging.getLogger("landplan")

#: The ``project`` of the all-projects rows (land under two projects counted once).
ALL = "ALL"
#: ``landuse`` (and ``admin_unit``) of total rows in ``costs.csv``.
TOTAL = "TOTAL"
#: Money lines, in đồng, in the order tables print them.
MONEY = ["land_compensation_vnd", "job_support_vnd", "life_support_vnd", "conversion_vnd", "total_vnd"]
#: Columns the estimate adds to each parcel record (``parcels.csv``, ``affected_parcels.csv``).
PARCEL_COLUMNS = ["price_unit", "position", "road", "road_distance_m", "price_per_m2_vnd", "price_line", "k", "k_line",
                  "unit_price_per_m2_vnd", "price_factor", "register_area_m2", "register_differs", "legal_take_m2",
                  *MONEY, "remnant_candidate", "remnant_candidate_m2", "remnant_candidate_vnd", "cost_note"]
#: Columns of ``costs.csv``.
COST_COLUMNS = ["project", "admin_unit", "landuse", "area_m2", "legal_area_m2", "land_compensation_vnd", "job_support_vnd",
                "life_support_vnd", "support_vnd", "conversion_vnd", "total_vnd", "remnant_candidates_m2", "remnant_candidates_vnd",
                "households", "households_resettled", "plots_needed", "plots_m2"]


@dataclass
class Estimate:
    """A run's cost estimate: the cost columns of each parcel record, households, the cost table."""

    settings: CostSettings
    #: per affected parcel: unit, position, road, prices, K, register area (one row per parcel)
    facts: pd.DataFrame
    #: per parcel and project: ``parcel_id``, ``project`` and :data:`PARCEL_COLUMNS`
    parcels: pd.DataFrame
    #: per parcel, all projects together: ``parcel_id`` and :data:`PARCEL_COLUMNS`
    parcel_totals: pd.DataFrame
    #: ``households.csv``: each project's households, then all projects' (``project = "ALL"``)
    households: pd.DataFrame
    #: ``costs.csv``
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def budget(self, project: str | None = None) -> dict[str, float]:
        """The budget lines of a project (or of all projects, land under two counted once): land
        compensation, job and life support, conversion payment, total, remnant candidates (not in the
        total), households, households resettled, plots."""
        t = self.table
        row = t[(t["project"] == (project or ALL)) & (t["admin_unit"] == TOTAL) & (t["landuse"] == TOTAL)]
        if row.empty:
            return {c: 0.0 for c in COST_COLUMNS[3:]}
        return {c: float(row.iloc[0][c]) for c in COST_COLUMNS[3:]}

    def manifest(self) -> dict[str, Any]:
        """What the manifest records: each table with its checksum, instrument and dates, and every rule with its legal basis."""
        cs = self.settings
        tables = {}
        for key, spec, table in (("prices", cs.prices, cs.price_table), ("coefficients", cs.coefficients, cs.k_table)):
            tables[key] = {"path": str(spec.path), "sha256": table.sha256 if table is not None else None, "rows": len(table.rows) if table is not None else 0,
                           "instrument": spec.instrument, "legal_basis": spec.legal_basis, "valid_from": spec.valid_from.isoformat(),
                           "valid_to": spec.valid_to.isoformat(), "units": spec.units}
        p, s, c, r = cs.positions, cs.support, cs.conversion, cs.resettlement
        return {
            "date": cs.date.isoformat(), "admin": cs.admin, "admin_units": cs.admin_units, "illustrative": cs.illustrative(),
            "tables": tables,
            "rules": {
                "compensation": {"formula": "legal area taken × table price × K × price factor", "floor_at_table_price": cs.floor_at_table_price,
                                 "legal_basis": cs.prices.legal_basis, "floor_legal_basis": cs.floor_legal_basis,
                                 "not_compensated": list(cs.not_compensated), "not_compensated_basis": cs.not_compensated_basis},
                "legal_area": {"formula": "take × register area ÷ drawn area", "register_tolerance": cs.register_tolerance},
                "positions": {"roads": p.roads.label(), "bands_m": list(p.bands_m), "depth_m": p.depth_m, "depth_factor": p.depth_factor,
                              "depth_codes": list(p.depth_codes), "legal_basis": p.legal_basis},
                "job_support": {"multiple": s.job_multiple, "cap_m2": s.job_cap_m2, "farmland_groups": list(s.farmland_groups),
                                "legal_basis": s.job_legal_basis},
                "life_support": {"share_bands": list(s.life_share_bands), "months_stay": list(s.life_months_stay),
                                 "months_move": list(s.life_months_move), "rice_kg_per_person_month": s.rice_kg_per_person_month,
                                 "rice_price_vnd_kg": s.rice_price_vnd_kg, "persons_per_household": s.persons_per_household,
                                 "persons_column": s.persons_column, "legal_basis": s.life_legal_basis},
                "conversion": {"codes": list(c.codes), "share": c.share, "exempt_projects": list(c.exempt_projects), "legal_basis": c.legal_basis},
                "resettlement": {"codes": list(r.codes), "plots_per_household": r.plots_per_household, "plot_m2": r.plot_m2,
                                 "legal_basis": r.legal_basis},
                "remnants": cs.remnants,
                "share_bands": list(cs.share_bands),
            },
            "notes": list(self.notes),
        }


#: The budget lines a project's panel and sheet show: (key of :meth:`Estimate.budget`, Vietnamese, English), in
#: billions of đồng (tỷ đồng) but the household count.
BUDGET_LINES: tuple[tuple[str, str, str], ...] = (
    ("land_compensation_vnd", "Bồi thường về đất (tỷ đồng)", "Land compensation (billion VND)"),
    ("support_vnd", "Hỗ trợ (tỷ đồng)", "Support (billion VND)"),
    ("conversion_vnd", "Tiền bảo vệ đất lúa (tỷ đồng)", "Rice-land conversion (billion VND)"),
    ("total_vnd", "Tổng chi phí ước tính (tỷ đồng)", "Estimated total (billion VND)"),
    ("households_resettled", "Số hộ phải tái định cư", "Households to resettle"),
)


def budget_lines(est: Estimate, project: str | None, lang: str) -> list[tuple[str, str]]:
    """A project's (or all projects') budget lines as (label, figure) in ``lang``: money in billions of
    đồng with two decimals, households as a count; numbers as the language writes them."""
    from ..numfmt import format_number

    b = est.budget(project)
    en = lang == "en"
    return [(en_ if en else vi, format_number(b[key], 0, lang) if key == "households_resettled" else format_number(b[key] / 1e9, 2, lang))
            for key, vi, en_ in BUDGET_LINES]


# ------------------------------------------------------------------------------------------------
# geometry, once: where each affected parcel is priced


@dataclass
class Placed:
    """What the estimate needs from geometry, computed once: the roads, each parcel's unit and road
    distance (``place``), and every parcel of the owners (``land``, :func:`landplan.rules.holdings.read_land`)."""

    roads: gpd.GeoDataFrame
    place: pd.DataFrame
    land: pd.DataFrame


def place(parcels: gpd.GeoDataFrame, units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, cs: CostSettings, tolerance: Any) -> pd.DataFrame:
    """Each parcel's unit (the one holding most of it) and its distance to the nearest road: ``parcel_id``,
    ``price_unit``, ``road_distance_m`` (``inf`` beyond the last band, where it does not matter) and
    ``road_row`` (-1 there)."""
    geoms = np.asarray(parcels.geometry.values)
    bands = cs.positions.bands_m
    dist, road_row = _pos.road_distance(geoms, roads, tolerance, max_distance_m=bands[-1] + 1.0 if bands else None,
                                        depth_m=cs.positions.depth_m)
    return pd.DataFrame({"parcel_id": parcels["parcel_id"].to_numpy(), "price_unit": _pos.unit_of(geoms, units),
                         "road_distance_m": dist, "road_row": road_row})


def prepare(scenario: Any, parcels: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], *,
            scanned: Any = None, roads: gpd.GeoDataFrame | None = None) -> Placed:
    """The geometric part of the estimate, from the parcels a run read under the footprints (before it
    measures): the roads, each parcel placed, and every parcel of their owners read by attribute
    (``scanned``: the owner column already read, :func:`scan`, or its future; ``roads``: the roads layer
    as :func:`check_inputs` read it, read here when not given)."""
    cs: CostSettings = scenario.costs
    units = admin[cs.admin]
    if roads is None:
        roads = _pos.read_roads(cs.positions.roads, cs.positions.name_column, scenario.crs)
    main = parcels[~parcels["neighbour"].to_numpy(dtype=bool)] if "neighbour" in parcels else parcels
    placed = place(main, units, roads, cs, scenario.tolerance)
    owners = {str(o) for o in pd.unique(main["owner"].to_numpy(dtype=object)) if o} if "owner" in main else set()
    return Placed(roads, placed, read_land(scenario, owners, units, placed=placed, scanned=_ready(scanned)))


#: How much lower the estimate's threads run than the measurement (Linux's niceness, added to the
#: process's): where both want the cores, the measurement gets them, and the estimate fills the gaps.
THREAD_NICENESS = 10


def _yielding(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on a thread of lower priority (:data:`THREAD_NICENESS`; on Linux, where a
    thread has its own niceness: the thread is discarded after its one task)."""
    import contextlib
    import os
    import sys
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # not allowed here: run as it is
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + THREAD_NICENESS)
    return fn(*args, **kwargs)


def _ready(value: Any) -> Any:
    """``value``, or its result when it is a future (work started on a thread)."""
    return value.result() if isinstance(value, Future) else value


def _thread(fn: Any, *args: Any, **kwargs: Any) -> Future[Any]:
    pool = ThreadPoolExecutor(1, thread_name_prefix="landplan-costs")
    future = pool.submit(_yielding, fn, *args, **kwargs)
    pool.shutdown(wait=False)
    return future


def scan(scenario: Any) -> Future[Any] | None:
    """The parcel layer's owner column, every feature's, read on a thread from the start of a run
    (:func:`landplan.layers.text_column`: it does not depend on which owners are sought, so it need
    not wait for the parcels under the footprints); ``None`` without an owner column."""
    ref, column = scenario.parcels.source, scenario.parcels.owner_column
    if column is None:
        return None
    from ..layers import text_column

    return _thread(text_column, ref, column)


def start(scenario: Any, parcels: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], *, scanned: Any = None,
          roads: gpd.GeoDataFrame | None = None) -> Future[Placed]:
    """:func:`prepare` on a thread, so that reading the owners' land and placing the parcels overlap the
    run's measuring; :func:`estimate` takes the future."""
    return _thread(prepare, scenario, parcels, admin, scanned=scanned, roads=roads)


def parcel_facts(affected: gpd.GeoDataFrame, placed: pd.DataFrame, units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                 cs: CostSettings, tolerance: Any) -> pd.DataFrame:
    """One row per affected parcel: ``parcel_id``, ``landuse``, ``owner``, ``price_unit``, ``road_distance_m``
    (NaN beyond the last band), ``road`` (its name) and ``road_row``, ``position``, ``parcel_area_m2``,
    ``register_area_m2``, ``legal_ratio`` (register ÷ drawn, 1 without a register area) and
    ``register_differs``. ``placed`` is :func:`place`'s (parcels it lacks are placed here)."""
    at = _hh.rows_in(affected["parcel_id"], placed["parcel_id"])
    if (at < 0).any():
        placed = pd.concat([placed, place(affected[at < 0], units, roads, cs, tolerance)], ignore_index=True)
        at = _hh.rows_in(affected["parcel_id"], placed["parcel_id"])
    dist, road_row = placed["road_distance_m"].to_numpy(dtype="float64")[at], placed["road_row"].to_numpy(dtype="int64")[at]
    geoms = np.asarray(affected.geometry.values)
    drawn = affected["parcel_area_m2"].to_numpy(dtype="float64") if "parcel_area_m2" in affected else shapely.area(geoms)
    reg = (affected["register_area_m2"].to_numpy(dtype="float64") if "register_area_m2" in affected
           else np.full(len(affected), np.nan))
    has_reg = np.isfinite(reg) & (reg > 0) & (drawn > 0)
    ratio = np.where(has_reg, reg / np.where(drawn > 0, drawn, 1.0), 1.0)
    r_drawn, r_reg = tolerance.round_m2(drawn), tolerance.round_m2(np.where(has_reg, reg, 0.0))
    differs = has_reg & (np.abs(r_drawn - r_reg) > cs.register_tolerance * r_reg)
    names = _hh.texts([*roads["road"].to_numpy(dtype=object), ""])
    return pd.DataFrame({  # text taken as pandas holds it, not converted
        "parcel_id": affected["parcel_id"].array, "landuse": affected["landuse"].array,
        "owner": affected["owner"].array if "owner" in affected else "",
        "price_unit": placed["price_unit"].array.take(at), "road_distance_m": np.where(np.isfinite(dist), dist, np.nan), "road_row": road_row,
        "road": names.take(np.where(road_row >= 0, road_row, len(names) - 1)),
        "position": _pos.position(dist, cs.positions.bands_m).astype("int64"),
        "parcel_area_m2": drawn, "register_area_m2": np.where(has_reg, reg, np.nan), "legal_ratio": ratio,
        "register_differs": differs,
    })


def price_facts(facts: pd.DataFrame, cs: CostSettings) -> pd.DataFrame:
    """``facts`` with the table price and its line, K and its line, and the unit price; raises
    :class:`~landplan.errors.PriceError` naming every parcel of a compensated land use that finds no
    price or no K, with what was looked up."""
    assert cs.price_table is not None and cs.k_table is not None
    f = facts.copy()
    compensated = ~f["landuse"].isin(set(cs.not_compensated)).to_numpy()
    unit, code, pos = f["price_unit"].to_numpy(), f["landuse"].to_numpy(), f["position"].to_numpy()
    pidx, price = cs.price_table.lookup(unit, code, pos)
    kidx, k = cs.k_table.lookup(unit, code)
    missing = compensated & ((pidx < 0) | (kidx < 0))
    if missing.any():
        raise PriceError(_missing_message(f[missing], pidx[missing] < 0, kidx[missing] < 0, cs))
    prow, krow = cs.price_table.rows, cs.k_table.rows
    f["price_per_m2_vnd"] = np.where(compensated, price, 0.0)
    f["price_line"] = np.where(compensated & (pidx >= 0), prow["line"].to_numpy()[np.maximum(pidx, 0)], 0).astype("int64")
    f["price_ref"] = np.where(compensated & (pidx >= 0), prow["source_ref"].to_numpy()[np.maximum(pidx, 0)], "")
    f["k"] = np.where(compensated, k, 0.0)
    f["k_line"] = np.where(compensated & (kidx >= 0), krow["line"].to_numpy()[np.maximum(kidx, 0)], 0).astype("int64")
    raw = f["price_per_m2_vnd"].to_numpy() * f["k"].to_numpy()
    floored = compensated & cs.floor_at_table_price & (raw < f["price_per_m2_vnd"].to_numpy())
    f["unit_price_per_m2_vnd"] = np.where(floored, f["price_per_m2_vnd"], raw)
    f["compensated"] = compensated
    f["floored"] = floored
    return f


def _missing_message(rows: pd.DataFrame, no_price: np.ndarray, no_k: np.ndarray, cs: CostSettings) -> str:
    """Every parcel without a price or K row, grouped by what was looked up."""
    assert cs.price_table is not None and cs.k_table is not None
    parts = []
    looked = pd.DataFrame({"unit": rows["price_unit"].to_numpy(), "landuse": rows["landuse"].to_numpy(),
                           "position": rows["position"].to_numpy(), "no_price": no_price, "no_k": no_k,
                           "parcel_id": rows["parcel_id"].astype(str).to_numpy()})
    for (unit, code, pos, np_, nk), g in looked.groupby(["unit", "landuse", "position", "no_price", "no_k"], sort=True):
        where = f"unit {unit!r}" if unit else f"no unit of the layer {cs.admin!r} (the parcel lies outside every unit)"
        what = " and ".join(([f"no row in {cs.prices.path.name} for {unit or '(no unit)'} · {code} · position {pos}"] if np_ else [])
                            + ([f"no row in {cs.coefficients.path.name} for {unit or '(no unit)'} · {code} (nor * · {code})"] if nk else []))
        parts.append(f"{where}, {code}, position {pos}: {what}: parcel(s) {', '.join(g['parcel_id'])}")
    n = len(looked)
    return (f"no price for {n} parcel(s) taken; every one is listed with what was looked up: " + "; ".join(parts)
            + ". Add the rows to the tables, or list the land use in costs.not_compensated (land that is not compensated)")


# ------------------------------------------------------------------------------------------------
# table maths on the parcel records


@dataclass(frozen=True)
class Facts:
    """What the table maths of every scope reads of the affected parcels, made once (:func:`facts_of`):
    :func:`price_facts`' frame, and by its row, arrays of codes and flags, and the households' land."""

    frame: pd.DataFrame
    ids: pd.Index
    #: each parcel's household (-1 without an owner) and the households' land
    household: np.ndarray
    held: _hh.Holdings
    #: each parcel's unit and land use as numbers into ``unit_names`` and ``code_names`` (sorted: the tables' order)
    unit: np.ndarray
    unit_names: np.ndarray
    code: np.ndarray
    code_names: np.ndarray
    legal_ratio: np.ndarray
    price: np.ndarray
    unit_price: np.ndarray
    position: np.ndarray
    compensated: np.ndarray
    floored: np.ndarray
    has_register: np.ndarray
    #: farmland (and compensated), farmland by its code alone, residential land (the resettlement codes)
    farm: np.ndarray
    farm_code: np.ndarray
    residential: np.ndarray
    conversion: np.ndarray
    depth: np.ndarray
    #: legal area of the parcel where it is residential land of its owner (as read with the owner's land)
    residential_parcel_m2: np.ndarray
    #: each parcel's nearest road (a row of the roads layer, -1 beyond the last band)
    road_row: np.ndarray
    #: each household's unit as a number into ``unit_names`` (-1 for a unit no affected parcel lies in)
    held_unit: np.ndarray


def facts_of(facts: pd.DataFrame, land: pd.DataFrame, cs: CostSettings) -> Facts:
    """:class:`Facts` from :func:`price_facts`' frame and the owners' land (:func:`landplan.rules.holdings.read_land`)."""
    units, unit_names = _sorted_codes(facts["price_unit"].to_numpy(dtype=object))
    codes, code_names = _sorted_codes(facts["landuse"].to_numpy(dtype=object))
    held, household = _hh.holdings(facts["owner"].array, facts["price_unit"].array, land, cs)
    is_code = {name: np.asarray([c in set(among) for c in code_names] + [False], dtype=bool)[codes]
               for name, among in (("farm", _hh.farmland_codes(cs)), ("res", cs.resettlement.codes), ("conv", cs.conversion.codes),
                                   ("depth", cs.positions.depth_codes))}
    compensated = facts["compensated"].to_numpy(dtype=bool)
    ids = pd.Index(facts["parcel_id"].to_numpy(dtype=object))
    at = _hh.rows_in(facts["parcel_id"], land["parcel_id"]) if len(land) else np.full(len(ids), -1)
    l_area = land["area_m2"].to_numpy(dtype="float64")
    res_parcel = np.where(is_code["res"] & (at >= 0), l_area[np.maximum(at, 0)] if len(land) else 0.0, 0.0)
    return Facts(
        frame=facts, ids=ids, household=household, held=held, unit=units, unit_names=unit_names, code=codes, code_names=code_names,
        legal_ratio=facts["legal_ratio"].to_numpy(dtype="float64"), price=facts["price_per_m2_vnd"].to_numpy(dtype="float64"),
        unit_price=facts["unit_price_per_m2_vnd"].to_numpy(dtype="float64"), position=facts["position"].to_numpy(dtype="int64"),
        compensated=compensated, floored=facts["floored"].to_numpy(dtype=bool),
        has_register=np.isfinite(facts["register_area_m2"].to_numpy(dtype="float64")),
        farm=is_code["farm"] & compensated, farm_code=is_code["farm"], residential=is_code["res"], conversion=is_code["conv"] & compensated,
        depth=is_code["depth"], residential_parcel_m2=res_parcel, road_row=facts["road_row"].to_numpy(dtype="int64"),
        held_unit=np.asarray(pd.Index(unit_names).get_indexer(pd.Index(held.unit)), dtype="int64"))


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's number into the sorted distinct texts (code-point order, as pandas sorts text), and those texts."""
    codes, names = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return np.asarray(codes, dtype="int64"), np.asarray(names, dtype=object)


#: Columns of :func:`price_facts`' frame each record carries into ``parcels.csv``.
FACT_COLUMNS = ["parcel_id", "price_unit", "position", "road", "road_distance_m", "price_per_m2_vnd", "price_line", "k", "k_line",
                "unit_price_per_m2_vnd", "register_area_m2", "register_differs"]


@dataclass
class Lines:
    """One scope's records with their money: ``frame`` (``parcel_id``, ``project`` and
    :data:`PARCEL_COLUMNS`), and by record, arrays the cost table sums."""

    frame: pd.DataFrame
    scope: np.ndarray
    fact: np.ndarray
    values: dict[str, np.ndarray]
    households: pd.DataFrame
    household_row: np.ndarray


def scope_lines(records: pd.DataFrame, f: Facts, cs: CostSettings, *, scopes: list[str], pieces: gpd.GeoDataFrame,
                roads: gpd.GeoDataFrame, remnant_pieces: pd.DataFrame, per_project_conversion: np.ndarray | None = None,
                min_residential_m2: float, tolerance: Any) -> Lines:
    """The money of each record of one scope, with its households (see the module notes).

    ``records`` are parcel records (``parcel_id``, ``take_m2``, ``untouched_m2``): with ``project``,
    each project's own (``parcels.csv``); without, all projects together (:data:`ALL`), whose
    conversion payment is the sum over projects (``per_project_conversion``, by row of ``f``) at
    most once the land. ``pieces`` are the run's takes (the depth rule measures them against
    ``roads``); ``remnant_pieces`` the scope's remaining pieces (``small``/``narrow``, ``area_m2``).
    """
    n = len(records)
    fi = _hh.rows_in(records["parcel_id"], f.frame["parcel_id"])
    if "project" in records:
        scope = _hh.rows_in(records["project"], scopes)
    else:
        scope = np.full(n, scopes.index(ALL), dtype="int64")
    take = records["take_m2"].to_numpy(dtype="float64")
    legal = take * f.legal_ratio[fi]
    front = _front_shares(fi, scope if "project" in records else None, pieces, f, roads, cs, scopes=scopes)
    comp_ok, price = f.compensated[fi], f.price[fi]
    depth = cs.positions
    deep = f.depth[fi] & (f.position[fi] == 1) & (depth.depth_m is not None)
    factor = np.where(deep, front + (1.0 - front) * depth.depth_factor, 1.0)
    comp = np.where(comp_ok, np.round(legal * f.unit_price[fi] * factor), 0.0).astype("int64")
    farm = f.farm[fi]
    job_raw = np.where(farm, cs.support.job_multiple * price * legal, 0.0)
    once = np.round(np.where(f.conversion[fi], cs.conversion.share * price * legal, 0.0))
    exempt_scope = np.asarray([s in set(cs.conversion.exempt_projects) for s in scopes], dtype=bool)
    if "project" in records:
        conv = np.where(exempt_scope[scope], 0.0, once)
    else:
        conv = np.minimum(per_project_conversion[fi], once) if per_project_conversion is not None else once
    conv = conv.astype("int64")
    untouched = records["untouched_m2"].to_numpy(dtype="float64") if "untouched_m2" in records else np.zeros(n)
    candidate, usable = _remnant_areas(remnant_pieces, f, scopes, scope, fi)
    usable_left = usable + untouched * f.legal_ratio[fi]
    hh, row = _hh.households(scope, f.household[fi], f.held, scopes=scopes, take_m2=legal, usable_left_m2=usable_left,
                             is_farm=f.farm_code[fi], is_res=f.residential[fi], res_parcel_m2=f.residential_parcel_m2[fi], cs=cs,
                             min_residential_m2=min_residential_m2, tolerance=tolerance)
    # the household rules: job support after the cap, life support shared among the household's farmland records
    has = row >= 0
    job_factor = np.where(has, hh["job_factor"].to_numpy(dtype="float64")[np.maximum(row, 0)], 0.0) if len(hh) else np.zeros(n)
    job = np.round(job_raw * job_factor).astype("int64")
    life = np.zeros(n, dtype="int64")
    if has.any():
        idx = np.flatnonzero(has)
        life_total = hh["life_support_vnd"].to_numpy(dtype="int64")[row[idx]]
        life[idx] = _hh.apportion(life_total, np.where(farm, legal, 0.0)[idx], row[idx])
    total = comp + job + life + conv
    idx = np.flatnonzero(has)  # what each household's parcels receive
    for col, v in (("land_compensation_vnd", comp), ("job_support_vnd", job), ("life_support_vnd", life)):
        hh[col] = np.bincount(row[idx], weights=v[idx].astype("float64"), minlength=len(hh)).round().astype("int64")
    hh["total_vnd"] = hh["land_compensation_vnd"] + hh["job_support_vnd"] + hh["life_support_vnd"]
    listed = (candidate > 0) & comp_ok if cs.remnants == "list" else np.zeros(n, dtype=bool)
    cand_m2 = np.where(listed, candidate, 0.0)
    cand_vnd = np.where(listed, np.round(candidate * f.unit_price[fi]), 0.0).astype("int64")
    exempt = f.conversion[fi] & exempt_scope[scope]
    columns = {c: f.frame[c].array.take(fi) for c in FACT_COLUMNS}  # text taken as it is held, not converted
    columns.update({"project": _hh.texts(scopes).take(scope), "price_factor": factor, "legal_take_m2": legal, "land_compensation_vnd": comp,
                    "job_support_vnd": job, "life_support_vnd": life, "conversion_vnd": conv, "total_vnd": total, "remnant_candidate": listed,
                    "remnant_candidate_m2": cand_m2, "remnant_candidate_vnd": cand_vnd,
                    "cost_note": _notes([~comp_ok, f.floored[fi], factor < 1, f.has_register[fi], exempt, listed], cs)})
    frame = pd.DataFrame({c: columns[c] for c in ["parcel_id", "project", *PARCEL_COLUMNS]})
    values = {"area_m2": take, "legal_area_m2": legal, "remnant_candidates_m2": cand_m2, "land_compensation_vnd": comp,
              "job_support_vnd": job, "life_support_vnd": life, "conversion_vnd": conv, "total_vnd": total,
              "remnant_candidates_vnd": cand_vnd}
    return Lines(frame, scope, fi, values, hh, row)


def _remnant_areas(pieces: pd.DataFrame, f: Facts, scopes: list[str], scope: np.ndarray, fi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each record (``scope``, fact row ``fi``): the legal area of its parcel's remaining pieces below
    a minimum (candidates) and of the others (usable), in the record's scope."""
    n = len(scope)
    if len(pieces) == 0:
        return np.zeros(n), np.zeros(n)
    pf = _hh.rows_in(pieces["parcel_id"], f.frame["parcel_id"])
    ps = (_hh.rows_in(pieces["project"], scopes) if "project" in pieces
          else np.full(len(pieces), scopes.index(ALL), dtype="int64"))
    bad = pieces["small"].to_numpy(dtype=bool) | pieces["narrow"].to_numpy(dtype=bool)
    legal = pieces["area_m2"].to_numpy(dtype="float64") * np.where(pf >= 0, f.legal_ratio[np.maximum(pf, 0)], 1.0)
    width = len(f.ids) + 1
    keys, group = np.unique(ps * width + (pf + 1), return_inverse=True)
    group = group.reshape(-1)
    cand = np.bincount(group, weights=np.where(bad, legal, 0.0), minlength=len(keys))
    usable = np.bincount(group, weights=np.where(bad, 0.0, legal), minlength=len(keys))
    want = scope * width + (fi + 1)
    at = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    found = keys[at] == want
    return np.where(found, cand[at], 0.0), np.where(found, usable[at], 0.0)


def _notes(masks: list[np.ndarray], cs: CostSettings) -> pd.api.extensions.ExtensionArray:
    """For each line, the rules that set it beyond the plain formula (Vietnamese, as the tables' users read
    them): ``masks`` say where each applies (not compensated, raised to the table price, deeper than
    the front, register area, exempt from the conversion payment, remnant candidate)."""
    p = cs.positions
    texts = [f"không bồi thường về đất ({cs.not_compensated_basis})", "đơn giá nâng bằng giá trong bảng giá (K < 1)",
             f"phần sâu quá {p.depth_m or 0:g} m tính {p.depth_factor:g} × giá", "diện tích pháp lý theo sổ địa chính",
             "miễn tiền bảo vệ, phát triển đất trồng lúa",
             "phần còn lại dưới mức tối thiểu: có thể thu hồi nếu người sử dụng đất đề nghị (không cộng vào tổng)"]
    bits = np.zeros(len(masks[0]) if masks else 0, dtype="int64")
    for k, m in enumerate(masks):
        bits |= np.asarray(m, dtype=bool).astype("int64") << k
    combos, at = np.unique(bits, return_inverse=True)
    text = _hh.texts(["; ".join(t for k, t in enumerate(texts) if c >> k & 1) for c in combos])
    return text.take(at.reshape(-1)) if len(bits) else _hh.texts([])


def cost_table(lines: list[Lines], f: Facts, cs: CostSettings, scopes: list[str]) -> pd.DataFrame:
    """``costs.csv``: per scope (in ``scopes``' order), unit and land use; a subtotal per unit
    (``landuse = TOTAL``, with its households, those resettled and the plots needed), and the scope's
    total (``admin_unit = landuse = TOTAL``)."""
    scope = np.concatenate([ln.scope for ln in lines])
    fi = np.concatenate([ln.fact for ln in lines])
    unit, code = f.unit[fi], f.code[fi]
    values = {k: np.concatenate([ln.values[k] for ln in lines]).astype("float64") for k in lines[0].values}
    values["support_vnd"] = values["job_support_vnd"] + values["life_support_vnd"]
    h_scope = np.concatenate([ln.households["_scope"].to_numpy(dtype="int64") for ln in lines])
    h_unit = f.held_unit[np.concatenate([ln.households["_household"].to_numpy(dtype="int64") for ln in lines])]
    counts = {"households": np.ones(len(h_scope)),
              "households_resettled": np.concatenate([ln.households["resettle"].to_numpy(dtype="float64") for ln in lines]),
              "plots_needed": np.concatenate([ln.households["plots"].to_numpy(dtype="float64") for ln in lines])}
    n_u, n_c = len(f.unit_names), len(f.code_names)
    parts: list[dict[str, np.ndarray]] = []
    for kind in (0, 1, 2):
        key = (scope * n_u + unit) * n_c + code if kind == 0 else scope * n_u + unit if kind == 1 else scope
        keys, g = np.unique(key, return_inverse=True)
        g = g.reshape(-1)
        # each row's scope, unit (n_u: TOTAL) and land use (n_c: TOTAL) by number
        part = {"project": keys // (n_u * n_c) if kind == 0 else keys // n_u if kind == 1 else keys,
                "admin_unit": (keys // n_c) % n_u if kind == 0 else keys % n_u if kind == 1 else np.full(len(keys), n_u),
                "landuse": keys % n_c if kind == 0 else np.full(len(keys), n_c)}
        for name, v in values.items():
            part[name] = np.bincount(g, weights=v, minlength=len(keys))
        h_key = h_scope * n_u + h_unit if kind == 1 else h_scope
        at = np.minimum(np.searchsorted(keys, h_key), max(len(keys) - 1, 0))
        mine = (keys[at] == h_key) if len(keys) else np.zeros(len(h_key), dtype=bool)
        for name, v in counts.items():
            part[name] = np.bincount(at[mine], weights=v[mine], minlength=len(keys)) if kind > 0 else np.full(len(keys), np.nan)
        parts.append(part)
    col = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    # the tables' order: scope, its units (then its total), within a unit its land uses (then the unit's subtotal)
    col = {name: v[np.lexsort((col["landuse"], col["admin_unit"], col["project"]))] for name, v in col.items()}
    texts = {"project": _hh.texts(scopes), "admin_unit": _hh.texts([*f.unit_names, TOTAL]), "landuse": _hh.texts([*f.code_names, TOTAL])}
    out: dict[str, Any] = {name: t.take(col[name]) for name, t in texts.items()}
    out["plots_m2"] = col["plots_needed"] * cs.resettlement.plot_m2
    for c in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd", "support_vnd", "conversion_vnd", "total_vnd",
              "remnant_candidates_vnd"):
        out[c] = col[c].round().astype("int64")
    for c in ("households", "households_resettled"):
        out[c] = pd.array(col[c].round(), dtype="Int64")
    return pd.DataFrame({c: out.get(c, col.get(c)) for c in COST_COLUMNS})


# ------------------------------------------------------------------------------------------------
# the whole estimate


def _front_shares(fi: np.ndarray, scope: np.ndarray | None, pieces: gpd.GeoDataFrame, f: Facts, roads: gpd.GeoDataFrame,
                  cs: CostSettings, *, scopes: list[str]) -> np.ndarray:
    """For each record (its row ``fi`` of ``f``, and its project's number in ``scopes``, or ``None`` for all
    projects together), the share of its take within ``depth_m`` of its road (1 where the depth rule
    does not apply): only residential records in position 1 are measured. A project's record's take
    is its piece; all projects' is the union of the parcel's pieces (most parcels have one)."""
    p = cs.positions
    out = np.ones(len(fi))
    if p.depth_m is None or not p.depth_codes:
        return out
    want = np.flatnonzero(f.depth[fi] & (f.position[fi] == 1))
    if len(want) == 0:
        return out
    pf = _hh.rows_in(pieces["parcel_id"], f.frame["parcel_id"])
    geoms = np.asarray(pieces.geometry.values)
    if scope is not None:
        width = len(f.ids) + 1
        pk = _hh.rows_in(pieces["project"], scopes) * width + pf
        order = np.argsort(pk, kind="stable")
        at = order[np.searchsorted(pk[order], scope[want] * width + fi[want])]
        takes = geoms[at]
    else:
        sel = np.flatnonzero(np.isin(pf, fi[want]))
        order = sel[np.argsort(pf[sel], kind="stable")]
        ids, start, count = np.unique(pf[order], return_index=True, return_counts=True)
        union = np.array([geoms[order[a]] if c == 1 else shapely.union_all(geoms[order[a:a + c]]) for a, c in zip(start, count)],
                         dtype=object)
        takes = union[np.searchsorted(ids, fi[want])]
    out[want] = _pos.front_share(takes, np.asarray(roads.geometry.values)[f.road_row[fi[want]]], p.depth_m)
    return out


def affected_facts(scenario: Any, affected: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame],
                   prepared: Placed | Future[Placed]) -> tuple[pd.DataFrame, Facts]:
    """The affected parcels' facts (:func:`price_facts`' frame and :class:`Facts`): what the estimate
    needs of each parcel taken, whichever project takes it. Raises :class:`~landplan.errors.PriceError`
    when one has no price or coefficient row."""
    cs: CostSettings = scenario.costs
    got: Placed = _ready(prepared)
    facts = price_facts(parcel_facts(affected, got.place, admin[cs.admin], got.roads, cs, scenario.tolerance), cs)
    return facts, facts_of(facts, got.land, cs)


def start_facts(scenario: Any, affected: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame],
                prepared: Placed | Future[Placed]) -> Future[tuple[pd.DataFrame, Facts]]:
    """:func:`affected_facts` on a thread, once a run knows which parcels are taken (while it measures
    what remains of them); :func:`estimate` takes the future."""
    return _thread(affected_facts, scenario, affected, admin, prepared)


def _min_residential_m2(scenario: Any) -> float:
    """The smallest remnant of residential land a household may keep (the resettlement rule)."""
    cs: CostSettings = scenario.costs
    groups = {landuse.group(c) for c in cs.resettlement.codes}
    return max((float(scenario.rules.min_remnant_m2.get(g, 0.0)) for g in groups), default=0.0)


def project_lines(scenario: Any, records: pd.DataFrame, project_remnants: pd.DataFrame, pieces: gpd.GeoDataFrame,
                  prepared: Placed | Future[Placed], facts: tuple[pd.DataFrame, Facts] | Future[tuple[pd.DataFrame, Facts]]) -> Lines:
    """Each project's own records with their money (:func:`scope_lines`): ``records`` are the run's
    per-project parcel records, ``project_remnants`` what each project leaves of them."""
    cs: CostSettings = scenario.costs
    return scope_lines(records.reset_index(drop=True), _ready(facts)[1], cs, pieces=pieces, roads=_ready(prepared).roads,
                       remnant_pieces=project_remnants, scopes=_scopes(scenario), min_residential_m2=_min_residential_m2(scenario),
                       tolerance=scenario.tolerance)


def _scopes(scenario: Any) -> list[str]:
    """The estimate's scopes in the tables' order: each project, then all projects together."""
    return [p.id for p in scenario.projects] + [ALL]


def start_project_lines(scenario: Any, records: pd.DataFrame, project_remnants: pd.DataFrame, pieces: gpd.GeoDataFrame,
                        prepared: Placed | Future[Placed], facts: Any) -> Future[Lines]:
    """:func:`project_lines` on a thread, once a run has its per-project records (while it makes the
    all-projects ones); :func:`estimate` takes the future."""
    return _thread(project_lines, scenario, records, project_remnants, pieces, prepared, facts)


def estimate(result: Result, *, report: RunReport | None = None, prepared: Placed | Future[Placed] | None = None,
             facts: tuple[pd.DataFrame, Facts] | Future[tuple[pd.DataFrame, Facts]] | None = None,
             lines: Lines | Future[Lines] | None = None) -> Estimate:
    """The cost estimate of a run whose scenario has ``[costs]`` (see the module notes).

    ``prepared`` is :func:`prepare`'s (or :func:`start`'s future of it), made from the parcels the
    run read; made here from the affected parcels when not given. ``facts`` is
    :func:`affected_facts`' of ``result.affected`` (or :func:`start_facts`' future), made here when
    not given; ``lines`` :func:`project_lines`' of ``result.parcels`` (or its future), likewise.
    Raises :class:`~landplan.errors.PriceError` when a parcel taken has no price or coefficient row.
    """
    sc = result.scenario
    cs: CostSettings | None = getattr(sc, "costs", None)
    if cs is None:
        raise ValueError("the scenario has no [costs] table")
    tol = sc.tolerance
    placed: Placed = prepare(sc, result.affected, result.admin) if prepared is None else _ready(prepared)
    roads = placed.roads
    got: tuple[pd.DataFrame, Facts] = affected_facts(sc, result.affected, result.admin, placed) if facts is None else _ready(facts)
    pp: Lines = project_lines(sc, result.parcels, result.project_remnants, result.pieces, placed, got) if lines is None else _ready(lines)
    frame, f = got
    min_res = _min_residential_m2(sc)
    order = _scopes(sc)
    # all projects: the conversion payment summed over projects, at most once the land
    conv_pp = np.bincount(pp.fact, weights=pp.values["conversion_vnd"].astype("float64"), minlength=len(f.ids))
    totals = result.parcel_totals.reset_index(drop=True)
    all_lines = scope_lines(totals, f, cs, pieces=result.pieces, roads=roads, remnant_pieces=result.remnants, per_project_conversion=conv_pp,
                            scopes=order, min_residential_m2=min_res, tolerance=tol)
    table = cost_table([pp, all_lines], f, cs, order)
    households = pd.concat([pp.households, all_lines.households], ignore_index=True)[_hh.HOUSEHOLD_COLUMNS]
    notes = []
    differs = frame[frame["register_differs"]]
    if len(differs) and report is not None:
        shown = ", ".join(f"{r.parcel_id} ({r.parcel_area_m2:,.1f} m² drawn, {r.register_area_m2:,.1f} m² registered)"
                          for r in differs.head(5).itertuples())
        report.warn(f"costs: {len(differs)} affected parcel(s) whose drawn area differs from the register area by more than "
                    f"{cs.register_tolerance:.0%}: {shown}{' …' if len(differs) > 5 else ''}; paid on the register area "
                    f"(register_differs in parcels.csv)")
    if cs.illustrative():
        notes.append("the price or coefficient table is ILLUSTRATIVE (its instrument or source_ref says so): the figures show "
                     "how the estimate works, not what the land costs")
    for msg in notes:
        log.info("costs: %s", msg)
    return Estimate(settings=cs, facts=frame[[*FACT_COLUMNS, "landuse", "owner", "legal_ratio", "compensated"]],
                    parcels=pp.frame, parcel_totals=all_lines.frame.drop(columns="project"),
                    households=households, table=table, notes=notes)


def read_roads_soon(scenario: Any) -> Future[gpd.GeoDataFrame]:
    """The roads layer read on a thread from the start of a run (it depends on nothing else);
    :func:`check_inputs` takes the future, and says what is wrong with the layer, if anything."""
    cs: CostSettings = scenario.costs
    return _thread(_pos.read_roads, cs.positions.roads, cs.positions.name_column, scenario.crs)


def check_inputs(scenario: Any, admin: dict[str, gpd.GeoDataFrame], *,
                 roads: Future[gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame:
    """What the estimate checks before anything is measured (a run and ``landplan validate`` alike):
    that the tables' units are units of the ``[costs] admin`` layer, and that the roads layer reads;
    returns the roads layer (:func:`prepare` then need not read it again). ``roads``: the layer
    being read already (:func:`read_roads_soon`)."""
    from ..errors import ScenarioError
    from ..layers import _nfc

    cs: CostSettings = scenario.costs
    assert cs.price_table is not None and cs.k_table is not None
    names = list(_nfc(admin[cs.admin]["admin_unit"].astype(str)))
    problems = []
    for key, spec, table in (("prices", cs.prices, cs.price_table), ("coefficients", cs.coefficients, cs.k_table)):
        msg = check_units(table.units(), names, table=spec.path.name, admin=cs.admin)
        if msg:
            problems.append(f"costs.{key}: {msg}")
    if problems:
        raise ScenarioError(str(scenario.path), problems)
    if roads is not None:
        return _ready(roads)
    return _pos.read_roads(cs.positions.roads, cs.positions.name_column, scenario.crs)


def attach(result: Result, *, report: RunReport | None = None, prepared: Placed | Future[Placed] | None = None,
           facts: Any = None, lines: Any = None) -> None:
    """Make a run's estimate (:func:`estimate`) and put it in ``result``: ``result.costs``, and the cost
    columns beside each parcel record (``result.parcels``, ``result.parcel_totals``)."""
    result.costs = estimate(result, report=report, prepared=prepared, facts=facts, lines=lines)
    result.parcels = with_costs(result.parcels, result.costs.parcels, ["parcel_id", "project"])
    result.parcel_totals = with_costs(result.parcel_totals, result.costs.parcel_totals, ["parcel_id"])


def with_costs(records: pd.DataFrame, lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``records`` (parcel records) with the estimate's :data:`PARCEL_COLUMNS` beside them, matched on ``keys``
    (the estimate keeps the records' order: then they are put side by side)."""
    if len(records) == len(lines) and all(pd.Index(records[k]).equals(pd.Index(lines[k])) for k in keys):
        return pd.concat([records.reset_index(drop=True), lines.drop(columns=keys).reset_index(drop=True)], axis=1)
    return records.merge(lines, on=keys, how="left", validate="one_to_one")
