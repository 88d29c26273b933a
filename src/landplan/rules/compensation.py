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
    dist, road_row = _pos.road_distance(geoms, roads, tolerance, max_distance_m=bands[-1] + 1.0 if bands else None)
    return pd.DataFrame({"parcel_id": parcels["parcel_id"].to_numpy(), "price_unit": _pos.unit_of(geoms, units),
                         "road_distance_m": dist, "road_row": road_row})


def prepare(scenario: Any, parcels: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], *,
            scanned: Any = None) -> Placed:
    """The geometric part of the estimate, from the parcels a run read under the footprints (before it
    measures): the roads, each parcel placed, and every parcel of their owners read by attribute
    (``scanned``: the owner column already read, :func:`scan`, or its future)."""
    cs: CostSettings = scenario.costs
    units = admin[cs.admin]
    roads = _pos.read_roads(cs.positions.roads, cs.positions.name_column, scenario.crs)
    main = parcels[~parcels["neighbour"].to_numpy(dtype=bool)] if "neighbour" in parcels else parcels
    placed = place(main, units, roads, cs, scenario.tolerance)
    owners = {o for o in main["owner"].astype(str) if o} if "owner" in main else set()
    if isinstance(scanned, Future):
        scanned = scanned.result()
    return Placed(roads, placed, read_land(scenario, owners, units, placed=placed, scanned=scanned))


def _thread(fn: Any, *args: Any, **kwargs: Any) -> Future[Any]:
    pool = ThreadPoolExecutor(1, thread_name_prefix="landplan-costs")
    future = pool.submit(fn, *args, **kwargs)
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


def start(scenario: Any, parcels: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], *, scanned: Any = None) -> Future[Placed]:
    """:func:`prepare` on a thread, so that reading the owners' land and placing the parcels overlap the
    run's measuring; :func:`estimate` takes the future."""
    return _thread(prepare, scenario, parcels, admin, scanned=scanned)


def parcel_facts(affected: gpd.GeoDataFrame, placed: pd.DataFrame, units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                 cs: CostSettings, tolerance: Any) -> pd.DataFrame:
    """One row per affected parcel: ``parcel_id``, ``landuse``, ``owner``, ``price_unit``, ``road_distance_m``
    (NaN beyond the last band), ``road`` (its name) and ``road_row``, ``position``, ``parcel_area_m2``,
    ``register_area_m2``, ``legal_ratio`` (register ÷ drawn, 1 without a register area) and
    ``register_differs``. ``placed`` is :func:`place`'s (parcels it lacks are placed here)."""
    at = pd.Index(placed["parcel_id"]).get_indexer(affected["parcel_id"])
    if (at < 0).any():
        placed = pd.concat([placed, place(affected[at < 0], units, roads, cs, tolerance)], ignore_index=True)
        at = pd.Index(placed["parcel_id"]).get_indexer(affected["parcel_id"])
    pl = placed.iloc[at]
    dist, road_row = pl["road_distance_m"].to_numpy(dtype="float64"), pl["road_row"].to_numpy(dtype="int64")
    geoms = np.asarray(affected.geometry.values)
    drawn = affected["parcel_area_m2"].to_numpy(dtype="float64") if "parcel_area_m2" in affected else shapely.area(geoms)
    reg = (affected["register_area_m2"].to_numpy(dtype="float64") if "register_area_m2" in affected
           else np.full(len(affected), np.nan))
    has_reg = np.isfinite(reg) & (reg > 0) & (drawn > 0)
    ratio = np.where(has_reg, reg / np.where(drawn > 0, drawn, 1.0), 1.0)
    r_drawn, r_reg = tolerance.round_m2(drawn), tolerance.round_m2(np.where(has_reg, reg, 0.0))
    differs = has_reg & (np.abs(r_drawn - r_reg) > cs.register_tolerance * r_reg)
    names = roads["road"].to_numpy()
    return pd.DataFrame({
        "parcel_id": affected["parcel_id"].to_numpy(), "landuse": affected["landuse"].to_numpy(),
        "owner": affected["owner"].to_numpy() if "owner" in affected else "",
        "price_unit": pl["price_unit"].to_numpy(), "road_distance_m": np.where(np.isfinite(dist), dist, np.nan), "road_row": road_row,
        "road": np.where(road_row >= 0, names[np.maximum(road_row, 0)], ""),
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


def record_lines(records: pd.DataFrame, facts: pd.DataFrame, cs: CostSettings, *, front: np.ndarray | None = None,
                 per_project_conversion: pd.Series | None = None) -> pd.DataFrame:
    """The money of each record before the household rules.

    ``records`` are parcel records (``parcel_id``, ``take_m2``, ``untouched_m2`` …): with ``project``,
    each project's own (``parcels.csv``); without, all projects together (:data:`ALL`), whose
    conversion payment is the sum over projects (``per_project_conversion``, by parcel id) at most
    once the land. ``facts`` come from :func:`price_facts`; ``front`` is the share of each record's
    take within the depth of its road (1 where the depth rule does not apply). Returns one row per
    record with the facts, ``project``, ``legal_take_m2``, ``price_factor``, ``land_compensation_vnd``,
    ``job_raw_vnd`` (before the cap) and ``conversion_vnd``.
    """
    at = pd.Index(facts["parcel_id"]).get_indexer(records["parcel_id"])
    f = facts.iloc[at].reset_index(drop=True)
    scope = records["project"].to_numpy(dtype=object) if "project" in records else np.full(len(records), ALL, dtype=object)
    code = f["landuse"].to_numpy(dtype=object)
    comp_ok = f["compensated"].to_numpy(dtype=bool)
    price = f["price_per_m2_vnd"].to_numpy(dtype="float64")
    take = records["take_m2"].to_numpy(dtype="float64")
    legal = take * f["legal_ratio"].to_numpy(dtype="float64")
    depth = cs.positions
    if front is None:
        front = np.ones(len(records))
    deep = _hh.member(code, list(depth.depth_codes)) & (f["position"].to_numpy() == 1) & (depth.depth_m is not None)
    factor = np.where(deep, front + (1.0 - front) * depth.depth_factor, 1.0)
    comp = np.where(comp_ok, np.round(legal * f["unit_price_per_m2_vnd"].to_numpy(dtype="float64") * factor), 0.0)
    farm = _hh.member(code, list(_hh.farmland_codes(cs))) & comp_ok
    job_raw = np.where(farm, cs.support.job_multiple * price * legal, 0.0)
    once = np.round(np.where(_hh.member(code, list(cs.conversion.codes)) & comp_ok, cs.conversion.share * price * legal, 0.0))
    if "project" in records:
        conv = np.where(_hh.member(scope, list(cs.conversion.exempt_projects)), 0.0, once)
    else:
        summed = per_project_conversion.reindex(f["parcel_id"]).fillna(0.0).to_numpy() if per_project_conversion is not None else once
        conv = np.minimum(summed, once)
    untouched = records["untouched_m2"].to_numpy(dtype="float64") if "untouched_m2" in records else np.zeros(len(records))
    return f.assign(project=scope, take_m2=take, legal_take_m2=legal, price_factor=factor, land_compensation_vnd=comp.astype("int64"),
                    job_raw_vnd=job_raw, conversion_vnd=conv.astype("int64"), farm=farm, untouched_m2=untouched)


def _remnant_pieces(pieces: gpd.GeoDataFrame | pd.DataFrame, ratio: pd.Series) -> pd.DataFrame:
    """Per parcel (and project, when ``pieces`` has one): the legal area of the pieces below a minimum
    (candidates) and of the others (usable)."""
    keys = ["project", "parcel_id"] if "project" in pieces else ["parcel_id"]
    if len(pieces) == 0:
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "candidate_m2": pd.Series(dtype="float64"),
                             "usable_m2": pd.Series(dtype="float64")})
    bad = (pieces["small"].to_numpy(dtype=bool) | pieces["narrow"].to_numpy(dtype=bool))
    legal = pieces["area_m2"].to_numpy(dtype="float64") * ratio.reindex(pieces["parcel_id"]).fillna(1.0).to_numpy()
    df = pd.DataFrame({**{k: pieces[k].to_numpy() for k in keys}, "candidate_m2": np.where(bad, legal, 0.0),
                       "usable_m2": np.where(bad, 0.0, legal)})
    return df.groupby(keys, sort=False).sum().reset_index()


#: The keys of a household within a scope.
HOUSEHOLD_KEYS = ["project", "owner", "admin_unit"]


def finish_lines(lines: pd.DataFrame, hh: pd.DataFrame, cs: CostSettings) -> pd.DataFrame:
    """Job support after the household cap, life support shared among the household's farmland records,
    remnant candidates valued, totals and the note of the rules that set each line; ``hh`` gains what
    each household's parcels receive (land compensation, job and life support, their total)."""
    key = pd.MultiIndex.from_arrays([lines["project"].astype(str), lines["owner"].astype(str), lines["price_unit"].astype(str)])
    hkey = pd.MultiIndex.from_arrays([hh[k].astype(str) for k in HOUSEHOLD_KEYS])
    at = np.asarray(hkey.get_indexer(key), dtype="int64") if len(hh) else np.full(len(lines), -1, dtype="int64")
    has = at >= 0
    factor = np.where(has, hh["job_factor"].to_numpy(dtype="float64")[np.maximum(at, 0)], 0.0) if len(hh) else np.zeros(len(lines))
    job = np.round(lines["job_raw_vnd"].to_numpy() * factor).astype("int64")
    life_total = (np.where(has, hh["life_support_vnd"].to_numpy(dtype="int64")[np.maximum(at, 0)], 0) if len(hh)
                  else np.zeros(len(lines), dtype="int64"))
    weight = np.where(lines["farm"].to_numpy(dtype=bool), lines["legal_take_m2"].to_numpy(dtype="float64"), 0.0)
    life = np.zeros(len(lines), dtype="int64")
    if has.any():
        idx = np.flatnonzero(has)
        life[idx] = _hh.apportion(life_total[idx], weight[idx], at[idx])
    out = lines.assign(job_support_vnd=job, life_support_vnd=life)
    out["total_vnd"] = out["land_compensation_vnd"] + out["job_support_vnd"] + out["life_support_vnd"] + out["conversion_vnd"]
    # what each household's parcels receive
    if len(hh):
        idx = np.flatnonzero(has)
        for col in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd"):
            hh[col] = np.bincount(at[idx], weights=out[col].to_numpy(dtype="float64")[idx], minlength=len(hh)).round().astype("int64")
        hh["total_vnd"] = hh["land_compensation_vnd"] + hh["job_support_vnd"] + hh["life_support_vnd"]
    cand = out["candidate_m2"].to_numpy(dtype="float64") if cs.remnants == "list" else np.zeros(len(out))
    listed = (cand > 0) & out["compensated"].to_numpy(dtype=bool)
    out["remnant_candidate"] = listed
    out["remnant_candidate_m2"] = np.where(listed, cand, 0.0)
    out["remnant_candidate_vnd"] = np.where(listed, np.round(cand * out["unit_price_per_m2_vnd"].to_numpy()), 0.0).astype("int64")
    out["cost_note"] = _notes(out, cs)
    return out


def _notes(lines: pd.DataFrame, cs: CostSettings) -> np.ndarray:
    """For each line, the rules that set it beyond the plain formula (Vietnamese, as the tables' users read them)."""
    p = cs.positions
    has_reg = np.isfinite(lines["register_area_m2"].to_numpy(dtype="float64"))
    exempt = (_hh.member(lines["landuse"].to_numpy(dtype=object), list(cs.conversion.codes))
              & _hh.member(lines["project"].to_numpy(dtype=object), list(cs.conversion.exempt_projects)))
    parts = [
        (~lines["compensated"].to_numpy(dtype=bool), f"không bồi thường về đất ({cs.not_compensated_basis})"),
        (lines["floored"].to_numpy(dtype=bool), "đơn giá nâng bằng giá trong bảng giá (K < 1)"),
        (lines["price_factor"].to_numpy(dtype="float64") < 1, f"phần sâu quá {p.depth_m or 0:g} m tính {p.depth_factor:g} × giá"),
        (has_reg, "diện tích pháp lý theo sổ địa chính"),
        (exempt & lines["compensated"].to_numpy(dtype=bool), "miễn tiền bảo vệ, phát triển đất trồng lúa"),
        (lines["remnant_candidate"].to_numpy(dtype=bool),
         "phần còn lại dưới mức tối thiểu: có thể thu hồi nếu người sử dụng đất đề nghị (không cộng vào tổng)"),
    ]
    notes = np.full(len(lines), "", dtype=object)
    for mask, text in parts:
        notes[mask] = np.where(notes[mask] == "", text, notes[mask] + "; " + text)
    return notes


def cost_table(lines: pd.DataFrame, hh: pd.DataFrame, cs: CostSettings, order: list[str]) -> pd.DataFrame:
    """``costs.csv``: per scope (``project``, in ``order``), unit and land use; a subtotal per unit
    (``landuse = TOTAL``, with its households, those resettled and the plots needed), and the scope's
    total (``admin_unit = landuse = TOTAL``)."""
    scope, unit = lines["project"].to_numpy(dtype=object), lines["price_unit"].to_numpy(dtype=object)
    code = lines["landuse"].to_numpy(dtype=object)
    values = {"area_m2": lines["take_m2"].to_numpy(dtype="float64"), "legal_area_m2": lines["legal_take_m2"].to_numpy(dtype="float64"),
              "remnant_candidates_m2": lines["remnant_candidate_m2"].to_numpy(dtype="float64"),
              **{m: lines[m].to_numpy(dtype="float64") for m in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd",
                                                                 "conversion_vnd", "total_vnd")},
              "remnant_candidates_vnd": lines["remnant_candidate_vnd"].to_numpy(dtype="float64")}
    values["support_vnd"] = values["job_support_vnd"] + values["life_support_vnd"]
    h_scope, h_unit = hh["project"].to_numpy(dtype=object), hh["admin_unit"].to_numpy(dtype=object)
    counts = {"households": np.ones(len(hh)), "households_resettled": hh["resettle"].to_numpy(dtype="float64"),
              "plots_needed": hh["plots"].to_numpy(dtype="float64")}
    n_lines = len(lines)
    parts = []
    for kind, cols in ((0, (scope, unit, code)), (1, (scope, unit)), (2, (scope,))):
        h_cols = (h_scope, h_unit, np.full(len(hh), "", dtype=object))[:len(cols)]
        g, n = _hh.keys(*(np.concatenate([c, hc]) for c, hc in zip(cols, h_cols)))
        gl, gh = g[:n_lines], g[n_lines:]
        first = np.full(n, -1, dtype="int64")
        first[gl[::-1]] = np.arange(n_lines)[::-1]
        keep = first >= 0  # groups the lines hold
        part = pd.DataFrame({"project": scope[first[keep]], "admin_unit": unit[first[keep]] if kind < 2 else TOTAL,
                             "landuse": code[first[keep]] if kind == 0 else TOTAL})
        for name, v in values.items():
            part[name] = np.bincount(gl, weights=v, minlength=n)[keep]
        for name, v in counts.items():
            part[name] = np.bincount(gh, weights=v, minlength=n)[keep] if kind > 0 else np.nan
        parts.append(part.assign(_k=kind))
    table = pd.concat(parts, ignore_index=True)
    table["_p"] = table["project"].map({p: i for i, p in enumerate(order)})
    table["_u"] = (table["_k"] == 2).astype(int)
    table = table.sort_values(["_p", "_u", "admin_unit", "_k", "landuse"], kind="stable").drop(columns=["_k", "_p", "_u"])
    table["plots_m2"] = table["plots_needed"].to_numpy(dtype="float64") * cs.resettlement.plot_m2
    for c in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd", "support_vnd", "conversion_vnd", "total_vnd",
              "remnant_candidates_vnd"):
        table[c] = table[c].round().astype("int64")
    for c in ("households", "households_resettled"):
        table[c] = table[c].round().astype("Int64")
    return table[COST_COLUMNS].reset_index(drop=True)


def _household_rows(hh: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """``households.csv``: the households (with what their parcels receive, :func:`finish_lines`), scopes in ``order``."""
    if hh.empty:
        return pd.DataFrame(columns=_hh.HOUSEHOLD_COLUMNS)
    out = hh.assign(_p=hh["project"].map({p: i for i, p in enumerate(order)}))
    return out.sort_values(["_p", "owner", "admin_unit"], kind="stable")[_hh.HOUSEHOLD_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# the whole estimate


def _front_shares(records: pd.DataFrame, pieces: gpd.GeoDataFrame, facts: pd.DataFrame, roads: gpd.GeoDataFrame,
                  cs: CostSettings, *, by_project: bool) -> np.ndarray:
    """For each record, the share of its take within ``depth_m`` of its road (1 where the depth rule
    does not apply): only residential records in position 1 are measured."""
    p = cs.positions
    out = np.ones(len(records))
    if p.depth_m is None or not p.depth_codes:
        return out
    fx = facts.set_index("parcel_id")
    pos1 = fx["position"].reindex(records["parcel_id"]).to_numpy() == 1
    want = np.flatnonzero(_hh.member(records["landuse"].to_numpy(dtype=object), list(p.depth_codes)) & pos1)
    if len(want) == 0:
        return out
    rec = records.iloc[want]
    rid = rec["parcel_id"].to_numpy(dtype=object)
    pid = pieces["parcel_id"].to_numpy(dtype=object)
    geoms = np.asarray(pieces.geometry.values)
    if by_project:  # a record's take is its piece
        code, _ = _hh.keys(np.concatenate([pid, rid]), np.concatenate([pieces["project"].to_numpy(dtype=object),
                                                                       rec["project"].to_numpy(dtype=object)]))
        takes = geoms[pd.Index(code[:len(pid)]).get_indexer(code[len(pid):])]
    else:  # all projects: the union of the parcel's pieces (most parcels have one)
        sel = np.flatnonzero(_hh.member(pid, rid))
        order = sel[np.argsort(pid[sel], kind="stable")]
        ids, start, count = np.unique(pid[order], return_index=True, return_counts=True)
        union = np.array([geoms[order[a]] if c == 1 else shapely.union_all(geoms[order[a:a + c]]) for a, c in zip(start, count)],
                         dtype=object)
        takes = union[pd.Index(ids).get_indexer(rid)]
    rows = fx["road_row"].reindex(rec["parcel_id"]).to_numpy()
    road_geoms = np.asarray(roads.geometry.values)[rows]
    out[want] = _pos.front_share(takes, road_geoms, p.depth_m)
    return out


def estimate(result: Result, *, report: RunReport | None = None, prepared: Placed | Future[Placed] | None = None) -> Estimate:
    """The cost estimate of a run whose scenario has ``[costs]`` (see the module notes).

    ``prepared`` is :func:`prepare`'s (or :func:`start`'s future of it), made from the parcels the
    run read; made here from the affected parcels when not given. Raises
    :class:`~landplan.errors.PriceError` when a parcel taken has no price or coefficient row.
    """
    sc = result.scenario
    cs: CostSettings | None = getattr(sc, "costs", None)
    if cs is None:
        raise ValueError("the scenario has no [costs] table")
    tol = sc.tolerance
    if prepared is None:
        prepared = prepare(sc, result.affected, result.admin)
    elif isinstance(prepared, Future):
        prepared = prepared.result()
    roads, land = prepared.roads, prepared.land
    facts = price_facts(parcel_facts(result.affected, prepared.place, result.admin[cs.admin], roads, cs, tol), cs)
    res_groups = {landuse.group(c) for c in cs.resettlement.codes}
    min_res = max((float(sc.rules.min_remnant_m2.get(g, 0.0)) for g in res_groups), default=0.0)
    ratio = facts.set_index("parcel_id")["legal_ratio"]
    fcols = ["parcel_id", "price_unit", "position", "road", "road_distance_m", "price_per_m2_vnd", "price_line", "k", "k_line",
             "unit_price_per_m2_vnd", "register_area_m2", "register_differs"]

    def scope_lines(records: pd.DataFrame, pieces_left: pd.DataFrame, front: np.ndarray,
                    conv: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        lines = record_lines(records, facts, cs, front=front, per_project_conversion=conv)
        keys = ["project", "parcel_id"] if "project" in pieces_left else ["parcel_id"]
        left = pieces_left.set_index(keys)
        at = left.index.get_indexer(pd.MultiIndex.from_frame(lines[keys]) if len(keys) > 1 else pd.Index(lines["parcel_id"]))
        found = at >= 0
        lines["candidate_m2"] = np.where(found, left["candidate_m2"].to_numpy(dtype="float64")[np.maximum(at, 0)], 0.0) if len(left) else 0.0
        usable = np.where(found, left["usable_m2"].to_numpy(dtype="float64")[np.maximum(at, 0)], 0.0) if len(left) else np.zeros(len(lines))
        lines["usable_left_m2"] = usable + lines["untouched_m2"].to_numpy() * lines["legal_ratio"].to_numpy()
        hh = _hh.households(lines.rename(columns={"price_unit": "admin_unit"}), land, cs, min_residential_m2=min_res, tolerance=tol)
        return finish_lines(lines, hh, cs), hh

    order = [p.id for p in sc.projects] + [ALL]
    front_pp = _front_shares(result.parcels, result.pieces, facts, roads, cs, by_project=True)
    pp, pp_hh = scope_lines(result.parcels.reset_index(drop=True), _remnant_pieces(result.project_remnants, ratio), front_pp)
    conv_pp = pp.groupby("parcel_id")["conversion_vnd"].sum() if len(pp) else pd.Series(dtype="float64")
    totals = result.parcel_totals.reset_index(drop=True)
    front_all = _front_shares(totals, result.pieces, facts, roads, cs, by_project=False)
    all_lines, all_hh = scope_lines(totals, _remnant_pieces(result.remnants, ratio), front_all, conv_pp)
    lines = pd.concat([pp, all_lines], ignore_index=True)
    hh = pd.concat([pp_hh, all_hh], ignore_index=True)
    table = cost_table(lines, hh, cs, order)
    households = _household_rows(hh, order)
    notes = []
    differs = facts[facts["register_differs"]]
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
    return Estimate(settings=cs, facts=facts[[*fcols, "landuse", "owner", "legal_ratio", "compensated"]],
                    parcels=pp[["parcel_id", "project", *PARCEL_COLUMNS]].reset_index(drop=True),
                    parcel_totals=all_lines[["parcel_id", *PARCEL_COLUMNS]].reset_index(drop=True),
                    households=households, table=table, notes=notes)


def check_inputs(scenario: Any, admin: dict[str, gpd.GeoDataFrame]) -> None:
    """What the estimate checks before anything is measured (a run and ``landplan validate`` alike):
    that the tables' units are units of the ``[costs] admin`` layer, and that the roads layer reads."""
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
    _pos.read_roads(cs.positions.roads, cs.positions.name_column, scenario.crs)


def with_costs(records: pd.DataFrame, lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``records`` (parcel records) with the estimate's :data:`PARCEL_COLUMNS` beside them, matched on ``keys``
    (the estimate keeps the records' order: then they are put side by side)."""
    if len(records) == len(lines) and all(np.array_equal(records[k].to_numpy(dtype=object), lines[k].to_numpy(dtype=object)) for k in keys):
        return pd.concat([records.reset_index(drop=True), lines.drop(columns=keys).reset_index(drop=True)], axis=1)
    return records.merge(lines, on=keys, how="left", validate="one_to_one")
