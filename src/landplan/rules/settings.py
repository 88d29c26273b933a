"""The scenario's ``[costs]`` table: every money rule as a setting, each with its legal basis, checked at once.

No figure of money is built in: prices and coefficients come from tables the user types (CSV files
named here, each row with its ``source_ref``), and every multiple, share, month count and price of
rice is a key of this table. Each rule keeps its legal basis beside it (``legal_basis``), and the
outputs repeat it. A sketch of the table (the sample's ``gis/scenarios/can_tho_sample.toml`` has a
complete, illustrative one)::

    [costs]
    date = 2026-03-01                 # valuation date: every table must be in force on it
    admin = "ward"                    # the [[admin]] layer whose unit names the tables use
    admin_units = "after_2025_07_01"  # which list of units that layer holds
    not_compensated = ["DGT", "DTL", "SON", "MNC"]
    register_tolerance = 0.05         # list parcels whose drawn area differs from the register by more
    remnants = "list"                 # remaining pieces below the minimum: listed with their value, never taken

    [costs.prices]        path, instrument, legal_basis, valid_from, valid_to, units
    [costs.coefficients]  the same, and floor_at_table_price
    [costs.positions]     path, layer, name (the roads), bands_m, legal_basis, depth_m, depth_factor, depth_codes
    [costs.support]       job_multiple, job_cap_m2, life_share_bands, life_months_stay, life_months_move, ...
    [costs.conversion]    codes, share, exempt_projects, legal_basis
    [costs.resettlement]  codes, plots_per_household, plot_m2, legal_basis
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..scenario import LayerRef
    from .prices import CoefficientTable, PriceTable

UnitList = Literal["before_2025_07_01", "after_2025_07_01"]
#: The two lists of administrative units a table's names may refer to: before the 1 July 2025 reform
#: (districts, old wards and communes) and after it (the merged wards and communes, no districts).
UNIT_LISTS: tuple[str, ...] = ("before_2025_07_01", "after_2025_07_01")
UNIT_LIST_WORDS: dict[str, tuple[str, str]] = {
    "before_2025_07_01": ("danh mục đơn vị hành chính trước 1/7/2025", "administrative units before 1 July 2025"),
    "after_2025_07_01": ("danh mục đơn vị hành chính từ 1/7/2025", "administrative units from 1 July 2025"),
}
RemnantMode = Literal["list", "off"]
#: ``list``: remaining pieces below a minimum are listed with their value ("may be acquired on the
#: owner's request"), never added to the take; ``off``: not listed.
REMNANT_MODES: tuple[str, ...] = ("list", "off")
#: Land-use groups a household's farmland is made of (support and share bands), unless set.
FARMLAND_GROUPS: tuple[str, ...] = ("rice", "other_agriculture")
#: Bands of the share of a household's farmland taken, as resettlement plans tabulate them (ADB, World Bank).
SHARE_BANDS: tuple[float, ...] = (0.1, 0.3, 0.7)


@dataclass(frozen=True)
class TableSpec:
    """A price or coefficient table: its CSV file, the instrument it comes from, the dates it is in
    force (inclusive) and which list of administrative units its unit names refer to."""

    path: Path
    instrument: str
    legal_basis: str
    valid_from: dt.date
    valid_to: dt.date
    units: UnitList

    def in_force(self, day: dt.date) -> bool:
        """Whether the table is in force on ``day``."""
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class PositionRule:
    """Positions (vị trí) by distance from named roads: position 1 within ``bands_m[0]`` metres of a
    road of the roads layer, 2 within ``bands_m[1]``, …, the last beyond the last band. For the
    ``depth_codes`` (residential land) in position 1, the part of a take deeper than ``depth_m``
    from the road is priced × ``depth_factor``."""

    roads: LayerRef
    name_column: str | None
    bands_m: tuple[float, ...]
    legal_basis: str
    depth_m: float | None = None
    depth_factor: float = 1.0
    depth_codes: tuple[str, ...] = ()

    @property
    def n_positions(self) -> int:
        """How many positions the bands make."""
        return len(self.bands_m) + 1


@dataclass(frozen=True)
class SupportRule:
    """Job-change and training support, and life-stabilisation support (see the module notes of
    :mod:`landplan.rules.compensation` for the formulas)."""

    job_multiple: float
    job_cap_m2: float
    job_legal_basis: str
    life_share_bands: tuple[float, float]
    life_months_stay: tuple[float, float]
    life_months_move: tuple[float, float]
    rice_kg_per_person_month: float
    rice_price_vnd_kg: float
    persons_per_household: float
    life_legal_basis: str
    persons_column: str | None = None
    farmland_groups: tuple[str, ...] = FARMLAND_GROUPS


@dataclass(frozen=True)
class ConversionRule:
    """The rice-land conversion payment: area of ``codes`` × rice-land table price × ``share``;
    ``exempt_projects`` pay none (e.g. public investment)."""

    codes: tuple[str, ...]
    share: float
    legal_basis: str
    exempt_projects: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResettlementRule:
    """Households whose residential land (``codes``) in the commune is wholly taken, or whose usable
    remaining residential land is below the residential minimum, must move: ``plots_per_household``
    plots of ``plot_m2`` each."""

    codes: tuple[str, ...]
    plots_per_household: float
    plot_m2: float
    legal_basis: str


@dataclass(frozen=True)
class CostSettings:
    """Everything ``[costs]`` says, checked; the price and coefficient tables read and checked too."""

    date: dt.date
    admin: str
    admin_units: UnitList
    prices: TableSpec
    coefficients: TableSpec
    positions: PositionRule
    support: SupportRule
    conversion: ConversionRule
    resettlement: ResettlementRule
    floor_at_table_price: bool = True
    floor_legal_basis: str = ""
    not_compensated: tuple[str, ...] = ()
    not_compensated_basis: str = ""
    register_tolerance: float = 0.05
    remnants: RemnantMode = "list"
    share_bands: tuple[float, ...] = SHARE_BANDS
    price_table: PriceTable | None = field(default=None, compare=False, repr=False)
    k_table: CoefficientTable | None = field(default=None, compare=False, repr=False)

    def files(self) -> list[Path]:
        """The input files the estimate reads: the two tables and the roads layer."""
        return [self.prices.path, self.coefficients.path, self.positions.roads.path]

    def illustrative(self) -> bool:
        """Whether a table says it is illustrative (its instrument or a row's ``source_ref``)."""
        words = ("illustrative", "minh họa", "minh hoạ")
        texts = [self.prices.instrument, self.coefficients.instrument]
        for t in (self.price_table, self.k_table):
            if t is not None:
                texts += list(t.rows["source_ref"])
        return any(w in str(x).casefold() for x in texts for w in words)


_KEYS = {"date", "admin", "admin_units", "prices", "coefficients", "positions", "support", "conversion", "resettlement",
         "not_compensated", "not_compensated_basis", "register_tolerance", "remnants", "share_bands"}
_TABLE_KEYS = {"path", "instrument", "legal_basis", "valid_from", "valid_to", "units"}
_K_KEYS = _TABLE_KEYS | {"floor_at_table_price", "floor_legal_basis"}
_POSITION_KEYS = {"path", "layer", "where", "name", "bands_m", "legal_basis", "depth_m", "depth_factor", "depth_codes"}
_SUPPORT_KEYS = {"job_multiple", "job_cap_m2", "job_legal_basis", "life_share_bands", "life_months_stay", "life_months_move",
                 "rice_kg_per_person_month", "rice_price_vnd_kg", "persons_per_household", "persons_column", "life_legal_basis",
                 "farmland_groups"}
_CONVERSION_KEYS = {"codes", "share", "exempt_projects", "legal_basis"}
_RESETTLEMENT_KEYS = {"codes", "plots_per_household", "plot_m2", "legal_basis"}


class _Reader:
    """Typed reads of one sub-table, each problem added to the scenario's checker with its key path."""

    def __init__(self, ck: Any, key: str, table: dict[str, Any]) -> None:
        self.ck, self.key, self.t, self.ok = ck, key, table, True

    def bad(self, name: str, message: str) -> None:
        self.ck.add(f"{self.key}.{name}", message)
        self.ok = False

    def text(self, name: str, *, required: bool = True) -> str:
        v = self.ck.string(self.key, self.t, name, required=required)
        if v is None and (required or name in self.t):
            self.ok = False
        return v or ""

    def number(self, name: str, *, low: float = 0.0, strict: bool = False, high: float | None = None,
               required: bool = True, default: float | None = None) -> float:
        v = self.t.get(name)
        if v is None:
            if required:
                self.bad(name, "missing; add it as a number")
            return float(default if default is not None else 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.bad(name, f"must be a finite number, got {v!r}")
            return 0.0
        if (strict and not v > low) or v < low or (high is not None and v > high):
            rng = f"{'>' if strict else '≥'} {low:g}" + (f" and ≤ {high:g}" if high is not None else "")
            self.bad(name, f"must be a number {rng}, got {v!r}")
            return 0.0
        return float(v)

    def numbers(self, name: str, *, n: int | None = None, increasing: bool = False, low: float = 0.0, high: float | None = None,
                required: bool = True, default: tuple[float, ...] = ()) -> tuple[float, ...]:
        v = self.t.get(name)
        if v is None:
            if required:
                self.bad(name, "missing; add it as a list of numbers")
            return default
        ok = isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                                         and x >= low and (high is None or x <= high) for x in v)
        if ok and n is not None and len(v) != n:
            ok = False
        if ok and increasing and not all(a < b for a, b in itertools.pairwise(v)):
            ok = False
        if not ok or not v:
            what = f"{n} " if n is not None else ""
            order = "increasing " if increasing else ""
            rng = f"≥ {low:g}" + (f" and ≤ {high:g}" if high is not None else "")
            self.bad(name, f"must be a list of {what}{order}numbers {rng}, got {v!r}")
            return default
        return tuple(float(x) for x in v)

    def codes(self, name: str, *, required: bool = True) -> tuple[str, ...]:
        from .. import landuse

        v = self.t.get(name)
        if v is None:
            if required:
                self.bad(name, "missing; add a list of land-use codes, e.g. [\"LUC\"]")
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.bad(name, f"must be a list of land-use codes, got {v!r}")
            return ()
        out = tuple(landuse.normalize_code(x) for x in v)
        unknown = [c for c in out if not landuse.is_known(c)]
        if unknown:
            self.bad(name, f"unknown land-use code(s) {', '.join(unknown)}; codes are {', '.join(x.code for x in landuse.LANDUSE_TABLE)}")
        return out

    def date(self, name: str) -> dt.date:
        v = self.t.get(name)
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v.strip())
            except ValueError:
                pass
        self.bad(name, "missing; add a date as YYYY-MM-DD" if v is None else f"must be a date (YYYY-MM-DD), got {v!r}")
        return dt.date.min

    def flag(self, name: str, default: bool) -> bool:
        v = self.t.get(name, default)
        if not isinstance(v, bool):
            self.bad(name, f"must be true or false, got {v!r}")
            return default
        return v

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        v = self.t.get(name, default)
        if v not in allowed:
            self.bad(name, ("missing; " if v is None else f"got {v!r}; ") + f"must be one of {', '.join(allowed)}")
            return allowed[0]
        return str(v)

    def sub(self, name: str, keys: set[str]) -> _Reader | None:
        v = self.t.get(name)
        if not isinstance(v, dict):
            self.bad(name, f"missing; add a [{self.key}.{name}] table" if v is None else "must be a table")
            return None
        r = _Reader(self.ck, f"{self.key}.{name}", v)
        self.ck.unknown_keys(r.key, v, keys)
        return r


def parse_costs(ck: Any, table: Any, *, admin_keys: list[str], project_ids: list[str], parcels: Any = None) -> CostSettings | None:
    """Read ``[costs]`` with the scenario's checker ``ck`` (problems are added to it with their key
    paths); read and check the two tables. ``parcels`` is the scenario's parcel layer (its owner
    column makes the households; a persons column must be one of its columns). Returns ``None`` when
    anything is wrong."""
    from . import prices as _prices

    if not isinstance(table, dict):
        ck.add("costs", "must be a table")
        return None
    if parcels is not None and parcels.owner_column is None:
        ck.add("costs", "the estimate needs each parcel's owner (support and resettlement are per household): add "
               "owner = \"<column>\" to [parcels]")
    ck.unknown_keys("costs", table, _KEYS)
    r = _Reader(ck, "costs", table)
    day = r.date("date")
    admin = r.text("admin")
    if admin and admin not in admin_keys:
        r.bad("admin", f"must be the key of an [[admin]] layer ({', '.join(admin_keys) or 'none defined'}), got {admin!r}")
    admin_units = r.choice("admin_units", UNIT_LISTS)
    not_comp = r.codes("not_compensated", required=False)
    not_comp_basis = r.text("not_compensated_basis", required=bool(not_comp))
    reg_tol = r.number("register_tolerance", low=0.0, high=1.0, required=False, default=0.05)
    remnants = r.choice("remnants", REMNANT_MODES, "list")
    bands = r.numbers("share_bands", increasing=True, low=0.0, high=1.0, required=False, default=SHARE_BANDS)

    specs: dict[str, TableSpec] = {}
    floor, floor_basis = True, ""
    for name in ("prices", "coefficients"):
        s = r.sub(name, _K_KEYS if name == "coefficients" else _TABLE_KEYS)
        if s is None:
            continue
        path_s = s.text("path")
        path = None
        if path_s:
            from ..scenario import find_path

            path = find_path(ck.base, path_s)
            if not path.is_file():
                s.bad("path", f"file {path} does not exist" + (" (it is a directory)" if path.is_dir() else "")
                      + "; paths are relative to the scenario file")
        spec_units = s.choice("units", UNIT_LISTS)
        t = TableSpec(path or Path(), s.text("instrument"), s.text("legal_basis"), s.date("valid_from"), s.date("valid_to"),
                      spec_units)  # type: ignore[arg-type]
        if s.ok and t.valid_from > t.valid_to:
            s.bad("valid_to", f"the table's validity ends ({t.valid_to}) before it begins ({t.valid_from})")
        if s.ok and day != dt.date.min and not t.in_force(day):
            ck.add(f"costs.{name}", f"{path.name if path else name} ({t.instrument}) is not in force on the scenario's date "
                   f"{day.isoformat()} (costs.date): it is valid from {t.valid_from.isoformat()} to {t.valid_to.isoformat()}; "
                   f"use the table in force on that date, or change costs.date")
            s.ok = False
        if s.ok and t.units != admin_units:
            ck.add(f"costs.{name}.units", f"{path.name if path else name} names units from the list {t.units!r} "
                   f"({UNIT_LIST_WORDS[t.units][1]}), but costs.admin_units says the layer {admin!r} holds {admin_units!r} "
                   f"({UNIT_LIST_WORDS[admin_units][1]}); use a table for the same list of units, or another admin layer")
            s.ok = False
        if name == "coefficients":
            floor = s.flag("floor_at_table_price", True)
            floor_basis = s.text("floor_legal_basis", required=floor)
        if s.ok:
            specs[name] = t
        else:
            r.ok = False

    pos = r.sub("positions", _POSITION_KEYS)
    positions = None
    if pos is not None:
        name_col = pos.text("name", required=False) or None
        ref = ck.layer("costs.positions", pos.t, {"name": name_col})
        bands_m = pos.numbers("bands_m", increasing=True, low=0.0)
        basis = pos.text("legal_basis")
        depth = pos.number("depth_m", low=0.0, strict=True, required=False) if "depth_m" in pos.t else None
        factor = pos.number("depth_factor", low=0.0, strict=True, high=1.0, required=depth is not None, default=1.0)
        dcodes = pos.codes("depth_codes", required=depth is not None)
        if ref is None:
            pos.ok = False
        if pos.ok and ref is not None:
            positions = PositionRule(ref, name_col, bands_m, basis, depth, factor, dcodes)
        else:
            r.ok = False

    sup = r.sub("support", _SUPPORT_KEYS)
    support = None
    if sup is not None:
        from .. import landuse

        groups = sup.t.get("farmland_groups", list(FARMLAND_GROUPS))
        if not (isinstance(groups, list) and groups and all(g in landuse.GROUP_NAMES for g in groups)):
            sup.bad("farmland_groups", f"must be a list of land-use groups ({', '.join(landuse.GROUP_NAMES)}), got {groups!r}")
            groups = list(FARMLAND_GROUPS)
        persons_col = sup.text("persons_column", required=False) or None
        if persons_col and parcels is not None:
            from .. import sources

            have = sources.fields(parcels.source.path, parcels.source.layer)
            if persons_col not in have:
                sup.bad("persons_column", f"column {persons_col!r} is not in {parcels.source.label()}; it has {', '.join(have)}")
        support = SupportRule(
            job_multiple=sup.number("job_multiple", low=0.0),
            job_cap_m2=sup.number("job_cap_m2", low=0.0, strict=True),
            job_legal_basis=sup.text("job_legal_basis"),
            life_share_bands=sup.numbers("life_share_bands", n=2, increasing=True, low=0.0, high=1.0, default=(0.3, 0.7)),  # type: ignore[arg-type]
            life_months_stay=sup.numbers("life_months_stay", n=2, low=0.0, default=(0.0, 0.0)),  # type: ignore[arg-type]
            life_months_move=sup.numbers("life_months_move", n=2, low=0.0, default=(0.0, 0.0)),  # type: ignore[arg-type]
            rice_kg_per_person_month=sup.number("rice_kg_per_person_month", low=0.0),
            rice_price_vnd_kg=sup.number("rice_price_vnd_kg", low=0.0),
            persons_per_household=sup.number("persons_per_household", low=0.0, strict=True),
            life_legal_basis=sup.text("life_legal_basis"),
            persons_column=persons_col,
            farmland_groups=tuple(groups),
        )
        if not sup.ok:
            support, r.ok = None, False

    conv = r.sub("conversion", _CONVERSION_KEYS)
    conversion = None
    if conv is not None:
        exempt = conv.t.get("exempt_projects", [])
        if not isinstance(exempt, list) or not all(isinstance(x, str) for x in exempt):
            conv.bad("exempt_projects", f"must be a list of project ids, got {exempt!r}")
            exempt = []
        unknown = [x for x in exempt if x not in project_ids]
        if unknown:
            conv.bad("exempt_projects", f"no project {', '.join(map(repr, unknown))} in the scenario; projects are {', '.join(project_ids)}")
        conversion = ConversionRule(conv.codes("codes"), conv.number("share", low=0.0), conv.text("legal_basis"), tuple(exempt))
        if not conv.ok:
            conversion, r.ok = None, False

    res = r.sub("resettlement", _RESETTLEMENT_KEYS)
    resettlement = None
    if res is not None:
        resettlement = ResettlementRule(res.codes("codes"), res.number("plots_per_household", low=0.0),
                                        res.number("plot_m2", low=0.0), res.text("legal_basis"))
        if not res.ok:
            resettlement, r.ok = None, False

    if not r.ok or positions is None or support is None or conversion is None or resettlement is None or len(specs) < 2:
        return None
    settings = CostSettings(
        date=day, admin=admin, admin_units=admin_units,  # type: ignore[arg-type]
        prices=specs["prices"], coefficients=specs["coefficients"], positions=positions, support=support,
        conversion=conversion, resettlement=resettlement, floor_at_table_price=floor, floor_legal_basis=floor_basis,
        not_compensated=not_comp, not_compensated_basis=not_comp_basis, register_tolerance=reg_tol,
        remnants=remnants,  # type: ignore[arg-type]
        share_bands=bands,
    )
    price_table, problems = _prices.read_price_table(settings.prices, n_positions=positions.n_positions)
    for p in problems:
        ck.add("costs.prices", p)
    k_table, problems = _prices.read_coefficient_table(settings.coefficients)
    for p in problems:
        ck.add("costs.coefficients", p)
    if price_table is None or k_table is None:
        return None
    from dataclasses import replace

    return replace(settings, price_table=price_table, k_table=k_table)
