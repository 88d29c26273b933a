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


def parcel_facts(affected: gpd.GeoDataFrame, units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, cs: CostSettings,
                 tolerance: Any) -> pd.DataFrame:
    """One row per affected parcel: ``parcel_id``, ``landuse``, ``owner``, ``price_unit``, ``road_distance_m``,
    ``road`` (its name) and ``road_row``, ``position``, ``parcel_area_m2``, ``register_area_m2``,
    ``legal_ratio`` (register ÷ drawn, 1 without a register area) and ``register_differs``."""
    geoms = np.asarray(affected.geometry.values)
    dist, road_row = _pos.road_distance(geoms, roads, tolerance)
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
        "price_unit": _pos.unit_of(geoms, units), "road_distance_m": dist, "road_row": road_row,
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


def record_lines(records: pd.DataFrame, facts: pd.DataFrame, cs: CostSettings, *, scope: str,
                 front: np.ndarray | None = None, per_project_conversion: pd.Series | None = None) -> pd.DataFrame:
    """The money of each record of one scope (a project id, or :data:`ALL`), before household rules.

    ``records`` are parcel records (``parcel_id``, ``take_m2``, ``untouched_m2`` …); ``facts`` come
    from :func:`price_facts`. ``front`` is the share of each record's take within the depth of its
    road (1 where the depth rule does not apply). For :data:`ALL`, ``per_project_conversion`` (by
    parcel id) caps the conversion payment: the sum over projects, at most once the land.
    Returns one row per record with the facts, ``legal_take_m2``, ``price_factor``,
    ``land_compensation_vnd``, ``job_raw_vnd`` (before the cap) and ``conversion_vnd``.
    """
    f = facts.set_index("parcel_id").loc[records["parcel_id"].to_numpy()].reset_index()
    take = records["take_m2"].to_numpy(dtype="float64")
    legal = take * f["legal_ratio"].to_numpy(dtype="float64")
    depth = cs.positions
    if front is None:
        front = np.ones(len(records))
    factor = np.where(f["landuse"].isin(set(depth.depth_codes)).to_numpy() & (f["position"].to_numpy() == 1) & (depth.depth_m is not None),
                      front + (1.0 - front) * depth.depth_factor, 1.0)
    comp = np.where(f["compensated"], np.round(legal * f["unit_price_per_m2_vnd"].to_numpy() * factor), 0.0)
    farm = f["landuse"].map(lambda c: landuse.group(c) in set(cs.support.farmland_groups)).to_numpy(dtype=bool) & f["compensated"].to_numpy(dtype=bool)
    job_raw = np.where(farm, cs.support.job_multiple * f["price_per_m2_vnd"].to_numpy() * legal, 0.0)
    conv_codes = f["landuse"].isin(set(cs.conversion.codes)).to_numpy() & f["compensated"].to_numpy(dtype=bool)
    once = np.round(np.where(conv_codes, cs.conversion.share * f["price_per_m2_vnd"].to_numpy() * legal, 0.0))
    if scope == ALL:
        summed = (per_project_conversion.reindex(f["parcel_id"]).fillna(0.0).to_numpy() if per_project_conversion is not None else once)
        conv = np.minimum(summed, once)
    else:
        conv = once if scope not in cs.conversion.exempt_projects else np.zeros(len(f))
    out = f.assign(project=scope, take_m2=take, legal_take_m2=legal, price_factor=factor,
                   land_compensation_vnd=comp.astype("int64"), job_raw_vnd=job_raw, conversion_vnd=conv.astype("int64"),
                   farm=farm, untouched_m2=records["untouched_m2"].to_numpy(dtype="float64") if "untouched_m2" in records else 0.0)
    return out


def _remnant_pieces(pieces: gpd.GeoDataFrame | pd.DataFrame, ratio: pd.Series) -> pd.DataFrame:
    """Per parcel (and project, when ``pieces`` has one): the legal area of the pieces below a minimum
    (candidates) and of the others (usable)."""
    keys = ["project", "parcel_id"] if "project" in pieces else ["parcel_id"]
    if len(pieces) == 0:
        return pd.DataFrame(columns=[*keys, "candidate_m2", "usable_m2"])
    bad = (pieces["small"].to_numpy(dtype=bool) | pieces["narrow"].to_numpy(dtype=bool))
    legal = pieces["area_m2"].to_numpy(dtype="float64") * ratio.reindex(pieces["parcel_id"]).fillna(1.0).to_numpy()
    df = pd.DataFrame({**{k: pieces[k].to_numpy() for k in keys}, "candidate_m2": np.where(bad, legal, 0.0),
                       "usable_m2": np.where(bad, 0.0, legal)})
    return df.groupby(keys, sort=False).sum().reset_index()


def finish_lines(lines: pd.DataFrame, hh: pd.DataFrame, cs: CostSettings) -> pd.DataFrame:
    """Job support after the household cap, life support shared among the household's farmland records,
    remnant candidates valued, totals and the note of the rules that set each line."""
    key = pd.MultiIndex.from_arrays([lines["owner"].astype(str), lines["price_unit"].astype(str)])
    hkey = pd.MultiIndex.from_arrays([hh["owner"].astype(str), hh["admin_unit"].astype(str)])
    at = hkey.get_indexer(key)
    has = at >= 0
    factor = np.where(has, hh["job_factor"].to_numpy(dtype="float64")[np.maximum(at, 0)], 0.0) if len(hh) else np.zeros(len(lines))
    job = np.round(lines["job_raw_vnd"].to_numpy() * factor).astype("int64")
    life_total = np.where(has, hh["life_support_vnd"].to_numpy(dtype="int64")[np.maximum(at, 0)], 0) if len(hh) else np.zeros(len(lines), dtype="int64")
    weight = np.where(lines["farm"].to_numpy(dtype=bool), lines["legal_take_m2"].to_numpy(dtype="float64"), 0.0)
    life = np.zeros(len(lines), dtype="int64")
    if has.any():
        idx = np.flatnonzero(has)
        life[idx] = _hh.apportion(life_total[idx], weight[idx], at[idx])
    out = lines.assign(job_support_vnd=job, life_support_vnd=life)
    out["total_vnd"] = out["land_compensation_vnd"] + out["job_support_vnd"] + out["life_support_vnd"] + out["conversion_vnd"]
    cand = out["candidate_m2"].to_numpy(dtype="float64") if cs.remnants == "list" else np.zeros(len(out))
    listed = (cand > 0) & out["compensated"].to_numpy(dtype=bool)
    out["remnant_candidate"] = listed
    out["remnant_candidate_m2"] = np.where(listed, cand, 0.0)
    out["remnant_candidate_vnd"] = np.where(listed, np.round(cand * out["unit_price_per_m2_vnd"].to_numpy()), 0.0).astype("int64")
    out["cost_note"] = _notes(out, cs)
    return out


def _notes(lines: pd.DataFrame, cs: CostSettings) -> list[str]:
    """For each line, the rules that set it beyond the plain formula (Vietnamese, as the tables' users read them)."""
    notes = []
    p = cs.positions
    for comp, floored, factor, reg, cand, conv_code, project in zip(
            lines["compensated"], lines["floored"], lines["price_factor"], lines["register_area_m2"], lines["remnant_candidate"],
            lines["landuse"].isin(set(cs.conversion.codes)), lines["project"]):
        n = []
        if not comp:
            n.append(f"không bồi thường về đất ({cs.not_compensated_basis})")
        if floored:
            n.append("đơn giá nâng bằng giá trong bảng giá (K < 1)")
        if factor < 1:
            n.append(f"phần sâu quá {p.depth_m:g} m tính {p.depth_factor:g} × giá")
        if np.isfinite(reg):
            n.append("diện tích pháp lý theo sổ địa chính")
        if conv_code and comp and project in cs.conversion.exempt_projects:
            n.append("miễn tiền bảo vệ, phát triển đất trồng lúa")
        if cand:
            n.append("phần còn lại dưới mức tối thiểu: có thể thu hồi nếu người sử dụng đất đề nghị (không cộng vào tổng)")
        notes.append("; ".join(n))
    return notes


def cost_table(lines: pd.DataFrame, hh: pd.DataFrame, cs: CostSettings) -> pd.DataFrame:
    """``costs.csv`` rows of one scope: per unit and land use, a subtotal per unit (``landuse = TOTAL``,
    with its households, those resettled and the plots needed), and the scope's total
    (``admin_unit = landuse = TOTAL``)."""
    scope = str(lines["project"].iloc[0]) if len(lines) else ""
    keys = ["admin_unit", "landuse"]
    money = ["land_compensation_vnd", "job_support_vnd", "life_support_vnd", "conversion_vnd", "total_vnd", "remnant_candidate_vnd"]
    df = lines.rename(columns={"price_unit": "admin_unit"}).assign(
        area_m2=lines["take_m2"], legal_area_m2=lines["legal_take_m2"], remnant_candidates_m2=lines["remnant_candidate_m2"])
    rows = df.groupby(keys, sort=True)[["area_m2", "legal_area_m2", "remnant_candidates_m2", *money]].sum().reset_index()
    rows = rows.rename(columns={"remnant_candidate_vnd": "remnant_candidates_vnd"})
    rows["support_vnd"] = rows["job_support_vnd"] + rows["life_support_vnd"]
    per_unit = (hh.groupby("admin_unit").agg(households=("owner", "size"), households_resettled=("resettle", "sum"),
                                             plots_needed=("plots", "sum"))
                if len(hh) else pd.DataFrame(columns=["households", "households_resettled", "plots_needed"]))
    out = []
    sums = [c for c in rows.columns if c not in keys]
    for unit, g in rows.groupby("admin_unit", sort=True):
        out.append(g)
        sub = g[sums].sum().to_frame().T.assign(admin_unit=unit, landuse=TOTAL)
        counts = per_unit.reindex([unit]).fillna(0)
        out.append(sub.assign(households=counts["households"].to_numpy(), households_resettled=counts["households_resettled"].to_numpy(),
                              plots_needed=counts["plots_needed"].to_numpy()))
    out.append(rows[sums].sum().to_frame().T.assign(admin_unit=TOTAL, landuse=TOTAL, households=len(hh),
                                                    households_resettled=int(hh["resettle"].sum()) if len(hh) else 0,
                                                    plots_needed=float(hh["plots"].sum()) if len(hh) else 0.0))
    table = pd.concat(out, ignore_index=True).assign(project=scope)
    table["plots_m2"] = table["plots_needed"] * cs.resettlement.plot_m2
    for c in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd", "support_vnd", "conversion_vnd", "total_vnd",
              "remnant_candidates_vnd"):
        table[c] = table[c].astype("int64")
    for c in ("area_m2", "legal_area_m2", "remnant_candidates_m2", "plots_needed", "plots_m2"):
        table[c] = table[c].astype("float64")
    for c in ("households", "households_resettled"):
        table[c] = table[c].astype("Int64")
    return table[COST_COLUMNS]


def _household_rows(hh: pd.DataFrame, lines: pd.DataFrame, scope: str) -> pd.DataFrame:
    """``households.csv`` rows of one scope: the household table with the money its parcels receive."""
    if hh.empty:
        return pd.DataFrame(columns=_hh.HOUSEHOLD_COLUMNS)
    keyed = lines[lines["owner"].astype(str) != ""].rename(columns={"price_unit": "admin_unit"})
    money = keyed.groupby(["owner", "admin_unit"])[["land_compensation_vnd", "job_support_vnd", "life_support_vnd"]].sum()
    out = hh.drop(columns=["life_support_vnd"]).join(money, on=["owner", "admin_unit"])
    for c in ("land_compensation_vnd", "job_support_vnd", "life_support_vnd"):
        out[c] = out[c].fillna(0).astype("int64")
    out["total_vnd"] = out["land_compensation_vnd"] + out["job_support_vnd"] + out["life_support_vnd"]
    return out.assign(project=scope)[_hh.HOUSEHOLD_COLUMNS]


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
    want = np.flatnonzero(records["landuse"].isin(set(p.depth_codes)).to_numpy() & pos1)
    if len(want) == 0:
        return out
    rec = records.iloc[want]
    if by_project:
        geo = pieces.set_index(["project", "parcel_id"]).geometry
        takes = geo.reindex(pd.MultiIndex.from_arrays([rec["project"], rec["parcel_id"]])).to_numpy()
    else:  # all projects: the union of the parcel's pieces
        geo = pieces[pieces["parcel_id"].isin(set(rec["parcel_id"]))]
        union = {pid: shapely.union_all(np.asarray(g.geometry.values)) for pid, g in geo.groupby("parcel_id")}
        takes = np.array([union.get(pid) for pid in rec["parcel_id"]], dtype=object)
    rows = fx["road_row"].reindex(rec["parcel_id"]).to_numpy()
    road_geoms = np.asarray(roads.geometry.values)[rows]
    out[want] = _pos.front_share(takes, road_geoms, p.depth_m)
    return out


def estimate(result: Result, *, report: RunReport | None = None, land: pd.DataFrame | None = None) -> Estimate:
    """The cost estimate of a run whose scenario has ``[costs]`` (see the module notes).

    ``land`` is every parcel of the affected owners (:func:`landplan.rules.households.read_land`);
    read here when not given. Raises :class:`~landplan.errors.PriceError` when a parcel taken has no
    price or coefficient row.
    """
    sc = result.scenario
    cs: CostSettings | None = getattr(sc, "costs", None)
    if cs is None:
        raise ValueError("the scenario has no [costs] table")
    tol = sc.tolerance
    units = result.admin[cs.admin]
    roads = _pos.read_roads(cs.positions.roads, cs.positions.name_column, sc.crs)
    facts = price_facts(parcel_facts(result.affected, units, roads, cs, tol), cs)
    if land is None:
        owners = {o for o in facts["owner"].astype(str) if o}
        land = _hh.read_land(sc, owners, units)
    res_groups = {landuse.group(c) for c in cs.resettlement.codes}
    min_res = max((float(sc.rules.min_remnant_m2.get(g, 0.0)) for g in res_groups), default=0.0)
    ratio = facts.set_index("parcel_id")["legal_ratio"]
    fcols = ["parcel_id", "price_unit", "position", "road", "road_distance_m", "price_per_m2_vnd", "price_line", "k", "k_line",
             "unit_price_per_m2_vnd", "register_area_m2", "register_differs"]

    def scope_lines(records: pd.DataFrame, scope: str, pieces_left: pd.DataFrame, front: np.ndarray,
                    conv: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        lines = record_lines(records, facts, cs, scope=scope, front=front, per_project_conversion=conv)
        left = pieces_left.set_index("parcel_id") if len(pieces_left) else pd.DataFrame(columns=["candidate_m2", "usable_m2"])
        lines["candidate_m2"] = left["candidate_m2"].reindex(lines["parcel_id"]).fillna(0.0).to_numpy() if len(left) else 0.0
        usable = left["usable_m2"].reindex(lines["parcel_id"]).fillna(0.0).to_numpy() if len(left) else np.zeros(len(lines))
        lines["usable_left_m2"] = usable + lines["untouched_m2"].to_numpy() * lines["legal_ratio"].to_numpy()
        hh = _hh.households(lines.rename(columns={"price_unit": "admin_unit"}), land, cs, min_residential_m2=min_res, tolerance=tol)
        return finish_lines(lines, hh, cs), hh

    per_lines, per_tables, per_hh = [], [], []
    rem_pp = _remnant_pieces(result.project_remnants, ratio)
    front_pp = _front_shares(result.parcels, result.pieces, facts, roads, cs, by_project=True)
    for p in sc.projects:
        sel = (result.parcels["project"] == p.id).to_numpy()
        recs = result.parcels[sel].reset_index(drop=True)
        left = rem_pp[rem_pp["project"] == p.id].drop(columns="project") if len(rem_pp) else rem_pp
        lines, hh = scope_lines(recs, p.id, left, front_pp[sel])
        per_lines.append(lines)
        per_tables.append(cost_table(lines, hh, cs))
        per_hh.append(_household_rows(hh, lines, p.id))
    pp = pd.concat(per_lines, ignore_index=True) if per_lines else pd.DataFrame()
    conv_pp = pp.groupby("parcel_id")["conversion_vnd"].sum() if len(pp) else pd.Series(dtype="float64")
    totals = result.parcel_totals
    front_all = _front_shares(totals, result.pieces, facts, roads, cs, by_project=False)
    all_lines, all_hh = scope_lines(totals.reset_index(drop=True), ALL, _remnant_pieces(result.remnants, ratio), front_all, conv_pp)
    table = pd.concat([*per_tables, cost_table(all_lines, all_hh, cs)], ignore_index=True)
    households = pd.concat([*per_hh, _household_rows(all_hh, all_lines, ALL)], ignore_index=True)
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

    empty = pd.DataFrame(columns=["parcel_id", "project", *PARCEL_COLUMNS])
    return Estimate(settings=cs, facts=facts[[*fcols, "landuse", "owner", "legal_ratio", "compensated"]],
                    parcels=pp[["parcel_id", "project", *PARCEL_COLUMNS]].reset_index(drop=True) if len(pp) else empty,
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
    """``records`` (parcel records) with the estimate's :data:`PARCEL_COLUMNS` beside them, matched on ``keys``."""
    return records.merge(lines, on=keys, how="left", validate="one_to_one")
