"""Scenario files (TOML): parsed once into validated, immutable objects, every problem reported at once."""

from __future__ import annotations

import itertools
import math
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyproj

from . import sources
from .crs import DEFAULT_WORKING_CRS, check_working_crs, parse_crs
from .errors import CRSError, ScenarioError
from .raster import LandcoverClass, LandcoverSpec
from .tolerance import Tolerance

if TYPE_CHECKING:
    from .rules.settings import CostSettings
    from .scale.partitions import Partition

Lang = Literal["vi", "en"]
LANGS: tuple[str, ...] = ("vi", "en")
ProjectKind = Literal["centreline", "polygon"]
PROJECT_KINDS: tuple[str, ...] = ("centreline", "polygon")

#: Default approval rule set (DESIGN.md §5): thresholds in ha of rice land and who decides in each band.
DEFAULT_APPROVAL_THRESHOLDS_HA: tuple[float, ...] = (10.0, 500.0)
DEFAULT_APPROVAL_AUTHORITIES: tuple[str, ...] = (
    "HĐND thành phố (dưới 10 ha)",
    "HĐND thành phố theo Nghị quyết 45/2022/QH15 (10 ha đến dưới 500 ha)",
    "Thủ tướng Chính phủ / Quốc hội (từ 500 ha)",
)
DEFAULT_APPROVAL_RULESET = "Luật Đất đai 2024 Đ.122(1) + NQ 45/2022/QH15 (cần đối chiếu văn bản)"

#: Illustrative minimum remnant areas in m² per land-use group (provinces set their own).
DEFAULT_MIN_REMNANT_M2: dict[str, float] = {
    "rice": 500.0,
    "other_agriculture": 300.0,
    "residential": 40.0,
    "infrastructure": 0.0,
    "water": 0.0,
    "other": 40.0,
}
#: Illustrative minimum remnant width in metres per land-use group.
DEFAULT_MIN_REMNANT_WIDTH_M: dict[str, float] = {
    "rice": 5.0,
    "other_agriculture": 4.0,
    "residential": 3.0,
    "infrastructure": 0.0,
    "water": 0.0,
    "other": 3.0,
}


@dataclass(frozen=True)
class LayerRef:
    """A vector layer: file path (absolute), layer name, and an optional attribute filter."""

    path: Path
    layer: str
    where: str | None = None

    def label(self) -> str:
        """``file:layer`` for messages."""
        return f"{self.path}:{self.layer}"


@dataclass(frozen=True)
class ParcelsSpec:
    """The land-use parcel layer and which columns hold the id, the land-use code and the owner."""

    source: LayerRef
    id_column: str
    landuse_column: str
    owner_column: str | None = None
    #: the legal (certificate / register) area in m², where the layer has it
    register_area_column: str | None = None
    #: the layer as several sources, each measured in its own CRS (:mod:`landplan.scale.partitions`);
    #: ``source`` is then the first of them
    partitions: tuple[Partition, ...] = ()

    def label(self) -> str:
        """The layer (or its sources) for messages and reports."""
        if not self.partitions:
            return self.source.label()
        return f"{len(self.partitions)} sources: " + ", ".join(f"{p.name} ({p.source.label()})" for p in self.partitions)


@dataclass(frozen=True)
class AdminSpec:
    """An administrative layer: its key in outputs and the column holding unit names."""

    key: str
    source: LayerRef
    name_column: str
    title: str | None = None

    def label(self) -> str:
        """How the layer is named on maps: its title, else its key."""
        return self.title or self.key


@dataclass(frozen=True)
class ProjectSpec:
    """A project: a centreline with a full right-of-way width, or an acquisition polygon."""

    id: str
    name_vi: str
    name_en: str
    kind: ProjectKind
    source: LayerRef
    width_m: float | None = None
    width_column: str | None = None
    declared_rice_ha: float | None = None
    hub: bool = False

    def name(self, lang: str) -> str:
        """Display name in ``lang``."""
        return self.name_vi if lang == "vi" else self.name_en


OverlapRule = Literal["id", "id_natural", "register_area"]
#: Land two parcels both claim goes to: the parcel whose id sorts first as text ("10" before "9"), or
#: in natural order ("9" before "10"), or the one drawn least larger than its register area (then by id).
OVERLAP_RULES: tuple[str, ...] = ("id", "id_natural", "register_area")
OffsetAction = Literal["error", "warn"]
OFFSET_ACTIONS: tuple[str, ...] = ("error", "warn")


@dataclass(frozen=True)
class Checks:
    """Consistency checks between layers (``[checks]``): what to do when two layers that should coincide
    (parcels and administrative units, two administrative layers) are offset by a constant vector."""

    layer_offset: OffsetAction = "error"
    offset_alarm_m: float = 5.0


@dataclass(frozen=True)
class Rules:
    """Approval thresholds and remnant minimums (settings, never buried constants)."""

    approval_thresholds_ha: tuple[float, ...] = DEFAULT_APPROVAL_THRESHOLDS_HA
    approval_authorities: tuple[str, ...] = DEFAULT_APPROVAL_AUTHORITIES
    approval_ruleset: str = DEFAULT_APPROVAL_RULESET
    min_remnant_m2: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_REMNANT_M2))
    min_remnant_width_m: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_REMNANT_WIDTH_M))
    #: which parcel keeps land that two parcels both claim (:data:`OVERLAP_RULES`)
    parcel_overlap_rule: OverlapRule = "id"


#: Scales a strip map (bình đồ) may be printed at (the denominator of 1:N).
STRIP_SCALES: tuple[int, ...] = (500, 1000, 2000, 5000, 10000)


@dataclass(frozen=True)
class OutputSettings:
    """What the print outputs show (``[outputs]``): which administrative layer labels maps and sheets
    (``admin_labels``, an admin key; by default ``ward`` when there is one, else the first layer), the
    strip maps' scale (``strip_scale``, 1:N, one of :data:`STRIP_SCALES`) and the coordinate grid (``grid``)."""

    admin_labels: str | None = None
    strip_scale: int = 2000
    grid: bool = False

    def label_layer(self, keys: list[str] | tuple[str, ...]) -> str | None:
        """The admin key whose units label the maps, among ``keys``."""
        if self.admin_labels is not None:
            return self.admin_labels
        return "ward" if "ward" in keys else (keys[0] if keys else None)


@dataclass(frozen=True)
class Scenario:
    """A whole scenario, validated: layers, working CRS, projects, rules, language."""

    path: Path
    name: str
    crs: pyproj.CRS
    lang: Lang
    parcels: ParcelsSpec
    admin: tuple[AdminSpec, ...]
    projects: tuple[ProjectSpec, ...]
    rules: Rules
    landcover: LandcoverSpec | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    checks: Checks = field(default_factory=lambda: Checks())
    outputs: OutputSettings = field(default_factory=OutputSettings)
    #: the cost estimate's rules and tables (``[costs]``, :mod:`landplan.rules.settings`), when asked for
    costs: CostSettings | None = None

    def input_files(self) -> list[Path]:
        """Every distinct input file the scenario reads."""
        refs = [self.parcels.source, *(p.source for p in self.parcels.partitions)] + [a.source for a in self.admin] + [p.source for p in self.projects]
        seen: dict[Path, None] = {}
        for r in refs:
            seen.setdefault(r.path, None)
        if self.landcover is not None:
            seen.setdefault(self.landcover.path, None)
        for p in self.costs.files() if self.costs is not None else []:
            seen.setdefault(p, None)
        return list(seen)


_TOP_KEYS = {"scenario", "parcels", "admin", "projects", "rules", "landcover", "tolerance", "checks", "outputs", "costs"}
_TOLERANCE_KEYS = {"sliver_m2", "sliver_width_m", "decimals_m2"}
_CHECK_KEYS = {"layer_offset", "offset_alarm_m"}
_LANDCOVER_KEYS = {"path", "band", "nodata", "classes", "memory_mb"}
_CLASS_KEYS = {"value", "code", "group", "name", "name_en"}
_SCENARIO_KEYS = {"name", "crs", "lang"}
_PARCEL_KEYS = {"path", "layer", "where", "id", "landuse", "owner", "register_area", "sources"}
_ADMIN_KEYS = {"key", "path", "layer", "where", "name", "title"}
_PROJECT_KEYS = {
    "id", "name", "name_en", "kind", "path", "layer", "where",
    "width_m", "width_column", "declared_rice_ha", "hub",
}
_RULE_KEYS = {"approval_thresholds_ha", "approval_authorities", "approval_ruleset", "min_remnant_m2", "min_remnant_width_m",
              "parcel_overlap_rule"}


class _Checker:
    """Collects problems with their key paths while a scenario is read."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[str] = []
        self._layers: dict[Path, list[str] | None] = {}
        self._fields: dict[tuple[Path, str], list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def unknown_keys(self, key: str, table: dict[str, Any], allowed: set[str]) -> None:
        for k in sorted(set(table) - allowed):
            self.add(f"{key}.{k}" if key else k, f"unknown key; allowed keys are {', '.join(sorted(allowed))}")

    def string(self, key: str, table: dict[str, Any], name: str, *, required: bool = True, nfc: bool = True) -> str | None:
        """A non-empty string; display text (names, titles, ids) in Unicode NFC, so "Nguyễn" typed with
        combining marks and with precomposed letters is one name in every output."""
        value = table.get(name)
        full = f"{key}.{name}"
        if value is None:
            if required:
                self.add(full, "missing; add it as a string")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(full, f"must be a non-empty string, got {value!r}")
            return None
        return unicodedata.normalize("NFC", value) if nfc else value

    def number(self, key: str, table: dict[str, Any], name: str, *, positive: bool = True) -> float | None:
        value = table.get(name)
        if value is None:
            return None
        full = f"{key}.{name}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.add(full, f"must be a finite number, got {value!r}")
            return None
        if positive and not value > 0:
            self.add(full, f"must be a positive number, got {value!r}")
            return None
        return float(value)

    def layer(self, key: str, table: dict[str, Any], columns: dict[str, str | None]) -> LayerRef | None:
        """Check ``path``/``layer`` exist and that each named column is in the layer."""
        path_s = self.string(key, table, "path", nfc=False)
        layer = self.string(key, table, "layer", required=not str(table.get("path", "")).lower().endswith(sources.PARQUET_SUFFIXES),
                            nfc=False)
        where = self.string(key, table, "where", required=False, nfc=False)
        if path_s is None:
            return None
        path = find_path(self.base, path_s)
        if not path.exists():
            near = _similar_files(path)
            self.add(f"{key}.path", f"file {path} does not exist; paths are relative to the scenario file"
                     + (f"; the folder has {', '.join(near)}" if near else ""))
            return None
        if path.is_dir() and path.suffix.lower() not in {".gdb"}:
            self.add(f"{key}.path", f"{path} is a directory; name the layer's file")
            return None
        if path not in self._layers:
            try:
                self._layers[path] = sources.list_layers(path)
            except sources.SourceError as exc:
                self._layers[path] = None
                self.add(f"{key}.path", f"{path} cannot be read as a vector file ({exc})")
        names = self._layers[path]
        if names is not None and layer is None and sources.is_parquet(path):
            layer = names[0]  # a GeoParquet file has one layer; naming it is optional
        if names is None or layer is None:
            return None
        if layer not in names:
            self.add(f"{key}.layer", f"no layer {layer!r} in {path.name}; it has {', '.join(names)}")
            return None
        fkey = (path, layer)
        if fkey not in self._fields:
            self._fields[fkey] = sources.fields(path, layer)
        fields = self._fields[fkey]
        if not fields and any(c is not None for c in columns.values()) and _empty_layer(path, layer):
            self.add(f"{key}.layer", f"the layer {layer!r} of {path.name} has no features at all (an empty file?)")
            return None
        for ckey, col in columns.items():
            if col is not None and col not in fields:
                self.add(f"{key}.{ckey}", f"column {col!r} is not in {path.name}:{layer}; {_why_no_column(path, layer, fields)}")
        return LayerRef(path=path, layer=layer, where=where)


def find_path(base: Path, name: str) -> Path:
    """``base / name`` resolved; where no such file exists, the same name in the other Unicode form
    (a scenario typed in NFC naming a file saved in NFD, as macOS does, or the reverse)."""
    path = (base / name).resolve()
    if path.exists():
        return path
    for form in ("NFC", "NFD"):
        alt = (base / unicodedata.normalize(form, name)).resolve()
        if alt.exists():
            return alt
    # component by component: each folder's entries compared in NFC
    cur = Path(path.anchor)
    for part in path.relative_to(path.anchor).parts:
        nxt = cur / part
        if not nxt.exists() and cur.is_dir():
            want = unicodedata.normalize("NFC", part)
            match = [e for e in cur.iterdir() if unicodedata.normalize("NFC", e.name) == want]
            if len(match) != 1:
                return path
            nxt = match[0]
        cur = nxt
    return cur


def _similar_files(path: Path) -> list[str]:
    """Files beside a missing ``path`` that look like it (the same name in another case, or the same stem)."""
    folder = path.parent
    if not folder.is_dir():
        return []
    want = unicodedata.normalize("NFC", path.name).casefold()
    stem = unicodedata.normalize("NFC", path.stem).casefold()
    out = [e.name for e in sorted(folder.iterdir()) if unicodedata.normalize("NFC", e.name).casefold() == want
           or unicodedata.normalize("NFC", e.stem).casefold() == stem]
    return out[:5]


def _empty_layer(path: Path, layer: str) -> bool:
    try:
        return int(sources.feature_count(path, layer)) == 0
    except Exception:  # noqa: BLE001 - the count is only a hint
        return False


def _why_no_column(path: Path, layer: str, fields: list[str]) -> str:
    """Say what a layer without the named column has instead, or why it has nothing."""
    if fields:
        return f"it has {', '.join(fields)}"
    if path.suffix.lower() == ".shp":
        dbf = [p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()]
        if not dbf:
            return f"it has no attribute columns at all: its attribute file {path.with_suffix('.dbf').name} is missing beside it"
    return "it has no attribute columns at all"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` listing every problem found.

    Paths inside the file are relative to the file's folder.
    """
    path = Path(path)
    label = str(path)
    if not path.exists():
        raise ScenarioError(label, [f"file does not exist (looked in {path.resolve().parent})"])
    if path.is_dir():
        raise ScenarioError(label, ["is a directory; name a .toml scenario file"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(label, ["is not UTF-8 text; save it as UTF-8"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(label, [f"is not valid TOML: {exc}"]) from exc
    return parse_scenario(data, base=path.resolve().parent, path=path)


def parse_scenario(data: dict[str, Any], *, base: Path, path: Path | None = None) -> Scenario:
    """Validate an already-parsed scenario mapping (see :func:`load_scenario`)."""
    label = str(path) if path else "<scenario>"
    ck = _Checker(base)
    ck.unknown_keys("", data, _TOP_KEYS)

    meta = data.get("scenario", {})
    if not isinstance(meta, dict):
        ck.add("scenario", "must be a table")
        meta = {}
    ck.unknown_keys("scenario", meta, _SCENARIO_KEYS)
    name = ck.string("scenario", meta, "name", required=False) or (path.stem if path else "scenario")
    crs: pyproj.CRS | None = None
    crs_s = ck.string("scenario", meta, "crs", required=False) or DEFAULT_WORKING_CRS
    try:
        crs = parse_crs(crs_s)
        check_working_crs(crs)
    except CRSError as exc:
        ck.add("scenario.crs", str(exc))
        crs = None
    lang = meta.get("lang", "vi")
    if lang not in LANGS:
        ck.add("scenario.lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
        lang = "vi"

    parcels: ParcelsSpec | None = None
    pt = data.get("parcels")
    if not isinstance(pt, dict):
        ck.add("parcels", "missing; add a [parcels] table with path, layer, id and landuse")
    else:
        ck.unknown_keys("parcels", pt, _PARCEL_KEYS)
        id_col = ck.string("parcels", pt, "id")
        lu_col = ck.string("parcels", pt, "landuse")
        owner_col = ck.string("parcels", pt, "owner", required=False)
        reg_col = ck.string("parcels", pt, "register_area", required=False, nfc=False)
        columns = {"id": id_col, "landuse": lu_col, "owner": owner_col, "register_area": reg_col}
        from .scale import partitions as _partitions

        parts = _partitions.parse_sources(ck, pt, columns) if _partitions.is_partitioned(ck.base, pt) else None
        ref = ck.layer("parcels", pt, columns) if parts is None else (parts[0].source if parts else None)
        if ref and id_col and lu_col:
            parcels = ParcelsSpec(ref, id_col, lu_col, owner_col, reg_col, partitions=tuple(parts or ()))

    admins: list[AdminSpec] = []
    at = data.get("admin", [])
    if not isinstance(at, list):
        ck.add("admin", "must be an array of tables ([[admin]])")
        at = []
    for i, a in enumerate(at):
        key = f"admin[{i}]"
        if not isinstance(a, dict):
            ck.add(key, "must be a table")
            continue
        ck.unknown_keys(key, a, _ADMIN_KEYS)
        akey = ck.string(key, a, "key")
        name_col = ck.string(key, a, "name")
        title = ck.string(key, a, "title", required=False)
        ref = ck.layer(key, a, {"name": name_col})
        if akey and akey in {x.key for x in admins}:
            ck.add(f"{key}.key", f"duplicate admin key {akey!r}")
        elif ref and akey and name_col:
            admins.append(AdminSpec(akey, ref, name_col, title))

    projects: list[ProjectSpec] = []
    prj = data.get("projects")
    if not isinstance(prj, list) or not prj:
        ck.add("projects", "missing; add at least one [[projects]] table")
        prj = []
    seen_ids: set[str] = set()
    for i, p in enumerate(prj):
        key = f"projects[{i}]"
        if not isinstance(p, dict):
            ck.add(key, "must be a table")
            continue
        ck.unknown_keys(key, p, _PROJECT_KEYS)
        pid = ck.string(key, p, "id")
        if pid is not None:
            if pid in seen_ids:
                ck.add(f"{key}.id", f"duplicate project id {pid!r}")
            seen_ids.add(pid)
        pname = ck.string(key, p, "name", required=False) or pid or ""
        pname_en = ck.string(key, p, "name_en", required=False) or pname
        kind = p.get("kind")
        if kind not in PROJECT_KINDS:
            ck.add(f"{key}.kind", f"must be one of {', '.join(PROJECT_KINDS)}, got {kind!r}")
        width = ck.number(key, p, "width_m")
        width_col = ck.string(key, p, "width_column", required=False)
        if kind == "centreline":
            if width is None and width_col is None and "width_m" not in p:
                ck.add(f"{key}.width_m", "a centreline needs the full right-of-way width in metres (width_m) or a width_column")
            if width is not None and width_col is not None:
                ck.add(f"{key}.width_m", "give either width_m or width_column, not both")
        elif kind == "polygon" and ("width_m" in p or width_col):
            ck.add(f"{key}.width_m", "an acquisition polygon takes no width; remove width_m / width_column")
        declared = ck.number(key, p, "declared_rice_ha", positive=False)
        if declared is not None and declared < 0:
            ck.add(f"{key}.declared_rice_ha", f"must not be negative, got {declared}")
        hub = p.get("hub", False)
        if not isinstance(hub, bool):
            ck.add(f"{key}.hub", f"must be true or false, got {hub!r}")
            hub = False
        ref = ck.layer(key, p, {"width_column": width_col})
        if ref and pid and kind in PROJECT_KINDS:
            projects.append(
                ProjectSpec(pid, pname, pname_en, kind, ref, width, width_col, declared, hub)
            )

    rules = _parse_rules(ck, data.get("rules", {}))
    landcover = _parse_landcover(ck, data["landcover"]) if "landcover" in data else None
    tolerance = _parse_tolerance(ck, data.get("tolerance", {}))
    checks = _parse_checks(ck, data.get("checks", {}))
    outputs = _parse_outputs(ck, data.get("outputs", {}), [a.key for a in admins])
    costs = None
    if "costs" in data:  # the cost estimate (its own module reads it: landplan.rules.settings)
        from .rules.settings import parse_costs

        costs = parse_costs(ck, data["costs"], admin_keys=[a.key for a in admins], project_ids=[p.id for p in projects], parcels=parcels)

    if rules is not None and rules.parcel_overlap_rule == "register_area" and parcels is not None and parcels.register_area_column is None:
        ck.add("rules.parcel_overlap_rule", "the register_area rule needs the register area: add register_area = \"<column>\" to [parcels]")
    if ck.problems:
        raise ScenarioError(label, ck.problems)
    assert parcels is not None and crs is not None and rules is not None and tolerance is not None and checks is not None
    return Scenario(
        path=(path.resolve() if path else base), name=name, crs=crs, lang=lang,
        parcels=parcels, admin=tuple(admins), projects=tuple(projects), rules=rules, landcover=landcover,
        tolerance=tolerance, checks=checks,
        outputs=outputs, costs=costs,
    )


def _parse_tolerance(ck: _Checker, tt: Any) -> Tolerance | None:
    """``[tolerance]``: the noise and rounding policy (:mod:`landplan.tolerance`)."""
    if not isinstance(tt, dict):
        ck.add("tolerance", "must be a table with sliver_m2, sliver_width_m and decimals_m2")
        return None
    ck.unknown_keys("tolerance", tt, _TOLERANCE_KEYS)
    d = Tolerance()
    ok = True
    values: dict[str, float] = {}
    for name in ("sliver_m2", "sliver_width_m"):
        v = tt.get(name, getattr(d, name))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            ck.add(f"tolerance.{name}", f"must be a finite number ≥ 0, got {v!r}")
            ok = False
        else:
            values[name] = float(v)
    dec = tt.get("decimals_m2", d.decimals_m2)
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 6:
        ck.add("tolerance.decimals_m2", f"must be a whole number of decimal places from 0 to 6, got {dec!r}")
        ok = False
    return Tolerance(values["sliver_m2"], values["sliver_width_m"], int(dec)) if ok else None


def _parse_checks(ck: _Checker, ct: Any) -> Checks | None:
    """``[checks]``: what a constant offset between layers that should coincide does (error or warn)."""
    if not isinstance(ct, dict):
        ck.add("checks", "must be a table")
        return None
    ck.unknown_keys("checks", ct, _CHECK_KEYS)
    d = Checks()
    action = ct.get("layer_offset", d.layer_offset)
    ok = True
    if action not in OFFSET_ACTIONS:
        ck.add("checks.layer_offset", f"must be one of {', '.join(OFFSET_ACTIONS)}, got {action!r}")
        ok = False
    alarm = ck.number("checks", ct, "offset_alarm_m")
    if "offset_alarm_m" in ct and alarm is None:
        ok = False
    return Checks(action, alarm if alarm is not None else d.offset_alarm_m) if ok else None


def _parse_landcover(ck: _Checker, lt: Any) -> LandcoverSpec | None:
    """``[landcover]``: a classified raster, its band, nodata and ``[[landcover.classes]]``."""
    from . import landuse

    if not isinstance(lt, dict):
        ck.add("landcover", "must be a table with path, band and [[landcover.classes]]")
        return None
    ck.unknown_keys("landcover", lt, _LANDCOVER_KEYS)
    ok = True
    path_s = ck.string("landcover", lt, "path", nfc=False)
    path = find_path(ck.base, path_s) if path_s else None
    if path is not None and not path.is_file():
        ck.add("landcover.path", f"file {path} does not exist" + (" (it is a directory)" if path.is_dir() else "")
               + "; paths are relative to the scenario file")
        ok = False
    band = lt.get("band", 1)
    if isinstance(band, bool) or not isinstance(band, int) or band < 1:
        ck.add("landcover.band", f"must be a band number from 1, got {band!r}")
        ok = False
    nodata = lt.get("nodata")
    if nodata is not None and (isinstance(nodata, bool) or not isinstance(nodata, (int, float))):
        ck.add("landcover.nodata", f"must be a number, got {nodata!r}")
        ok = False
    classes: list[LandcoverClass] = []
    raw = lt.get("classes")
    if not isinstance(raw, list) or not raw:
        ck.add("landcover.classes", "missing; add a [[landcover.classes]] table per pixel value (value, code, name)")
        return None
    groups = {"rice", "other_agriculture", "residential", "infrastructure", "water", "other"}
    seen: set[int] = set()
    for i, c in enumerate(raw):
        key = f"landcover.classes[{i}]"
        if not isinstance(c, dict):
            ck.add(key, "must be a table")
            ok = False
            continue
        ck.unknown_keys(key, c, _CLASS_KEYS)
        value = c.get("value")
        if isinstance(value, bool) or not isinstance(value, int):
            ck.add(f"{key}.value", f"must be a whole number (the pixel value), got {value!r}")
            ok = False
            continue
        if value in seen:
            ck.add(f"{key}.value", f"pixel value {value} is listed twice")
            ok = False
        seen.add(value)
        code = landuse.normalize_code(c.get("code", ""))
        group = c.get("group")
        if code and not landuse.is_known(code):
            ck.add(f"{key}.code", f"unknown land-use code {code!r}; use one of landplan's codes or give a group instead")
            ok = False
            continue
        if not code and group not in groups:
            ck.add(f"{key}", f"give a land-use code (e.g. \"LUC\") or a group ({', '.join(sorted(groups))})")
            ok = False
            continue
        g = landuse.lookup(code).group if code else str(group)
        name = c.get("name") or (landuse.name(code, "vi") if code else g)
        name_en = c.get("name_en") or (landuse.name(code, "en") if code else g)
        classes.append(LandcoverClass(value, code or g.upper(), g, str(name), str(name_en)))
    if not ok or path is None:
        return None
    memory = ck.number("landcover", lt, "memory_mb")
    if "memory_mb" in lt and memory is None:
        return None
    return LandcoverSpec(path, int(band), float(nodata) if nodata is not None else None, tuple(classes),
                         memory_mb=memory if memory is not None else 512.0)


def _parse_rules(ck: _Checker, rt: Any) -> Rules | None:
    if not isinstance(rt, dict):
        ck.add("rules", "must be a table")
        return None
    ck.unknown_keys("rules", rt, _RULE_KEYS)
    defaults = Rules()
    th = rt.get("approval_thresholds_ha", list(defaults.approval_thresholds_ha))
    auth = rt.get("approval_authorities", list(defaults.approval_authorities))
    ok = True
    if not (isinstance(th, list) and th and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0 for x in th)
            and all(a < b for a, b in itertools.pairwise(th))):
        ck.add("rules.approval_thresholds_ha", f"must be a list of increasing, finite, positive numbers, got {th!r}")
        ok = False
    if not (isinstance(auth, list) and all(isinstance(x, str) for x in auth)):
        ck.add("rules.approval_authorities", "must be a list of strings")
        ok = False
    elif ok and len(auth) != len(th) + 1:
        ck.add("rules.approval_authorities", f"needs one authority per band: {len(th) + 1} for {len(th)} thresholds, got {len(auth)}")
        ok = False
    ruleset = rt.get("approval_ruleset", defaults.approval_ruleset)
    if not isinstance(ruleset, str):
        ck.add("rules.approval_ruleset", "must be a string")
        ok = False
    mins: list[dict[str, float]] = []
    for name, dflt in (("min_remnant_m2", defaults.min_remnant_m2), ("min_remnant_width_m", defaults.min_remnant_width_m)):
        given = rt.get(name, {})
        merged = dict(dflt)
        if not isinstance(given, dict):
            ck.add(f"rules.{name}", "must be a table of land-use group = number")
            ok = False
        else:
            for g, v in given.items():
                if g not in dflt:
                    ck.add(f"rules.{name}.{g}", f"unknown land-use group; groups are {', '.join(dflt)}")
                    ok = False
                elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    ck.add(f"rules.{name}.{g}", f"must be a finite number ≥ 0, got {v!r}")
                    ok = False
                else:
                    merged[g] = float(v)
        mins.append(merged)
    rule = rt.get("parcel_overlap_rule", defaults.parcel_overlap_rule)
    if rule not in OVERLAP_RULES:
        ck.add("rules.parcel_overlap_rule", f"must be one of {', '.join(OVERLAP_RULES)}, got {rule!r}")
        ok = False
    if not ok:
        return None
    return Rules(
        approval_thresholds_ha=tuple(float(x) for x in th),
        approval_authorities=tuple(auth),
        approval_ruleset=ruleset,
        min_remnant_m2=mins[0],
        min_remnant_width_m=mins[1],
        parcel_overlap_rule=rule,
    )


def _parse_outputs(ck: _Checker, table: Any, admin_keys: list[str]) -> OutputSettings:
    """``[outputs]``: admin_labels (an admin key), strip_scale (one of STRIP_SCALES), grid (bool)."""
    if not isinstance(table, dict):
        ck.add("outputs", "must be a table")
        return OutputSettings()
    ck.unknown_keys("outputs", table, {"admin_labels", "strip_scale", "grid"})
    labels = table.get("admin_labels")
    if labels is not None and labels not in admin_keys:
        ck.add("outputs.admin_labels", f"must be the key of an [[admin]] layer ({', '.join(admin_keys) or 'none defined'}), got {labels!r}")
        labels = None
    scale = table.get("strip_scale", OutputSettings.strip_scale)
    if isinstance(scale, bool) or scale not in STRIP_SCALES:
        ck.add("outputs.strip_scale", f"must be one of {', '.join(map(str, STRIP_SCALES))} (1:N), got {scale!r}")
        scale = OutputSettings.strip_scale
    grid = table.get("grid", False)
    if not isinstance(grid, bool):
        ck.add("outputs.grid", f"must be true or false, got {grid!r}")
        grid = False
    return OutputSettings(admin_labels=labels, strip_scale=int(scale), grid=grid)
