"""Alternatives side by side: several alignments or sites of a project measured by the same engine and rules.

An alternative is a project table (``[[projects]]``: a centreline with its right-of-way or an
acquisition polygon). Each is measured exactly as ``landplan run`` measures a project: a scenario
file is written for it (the scenario's own layers, rules and tolerance, with that one project) and
:func:`landplan.run` runs it, so ``landplan run`` on that file gives the same figures. The
comparison is a table (one row per alternative), a chart (bars per alternative by land use), a map
where the alternatives are switched and their figures read side by side, and a workbook sheet.

The alternatives file (``landplan compare SCENARIO --alternatives ALT.toml``)::

    project = "vanh_dai_tay"        # the scenario's project the alternatives stand for (optional)

    [prices]                        # optional: price per m² taken, by land-use code or group
    unit = "nghìn đồng/m²"
    LUC = 250
    residential = 4000

    [[alternatives]]
    id = "A"
    name = "Tuyến quy hoạch"
    from_scenario = true            # the project's own geometry from the scenario

    [[alternatives]]
    id = "B"
    name = "Tuyến tránh phía tây"
    path = "tuyen_b.gpkg"           # relative to ALT.toml
    layer = "centreline"
    kind = "centreline"             # default: the project's kind
    width_m = 80                    # default: the project's width
"""

from __future__ import annotations

import logging
import math
import tempfile
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .. import landuse
from ..errors import LandplanError, ScenarioError
from ..palette import PROJECT_COLORS

if TYPE_CHECKING:
    import folium
    from matplotlib.figure import Figure

    from ..outfolder import OutputFolder
    from ..pipeline import Result
    from ..scenario import Scenario

log = logging.getLogger("landplan")

#: Files a comparison writes into its folder (only these are replaced under ``overwrite``).
COMPARE_FILES: tuple[str, ...] = ("alternatives.csv", "alternatives.xlsx", "alternatives_chart.png", "alternatives_chart.svg",
                                  "alternatives_chart.pdf", "alternatives_map.html", "candidates.gpkg")
#: Folder of the scenario files, one per alternative (``landplan run`` measures each the same).
SCENARIOS_DIR = "scenarios"
#: The GeoPackage of generated candidates (routes, sites): one layer per candidate.
CANDIDATES_GPKG = "candidates.gpkg"

_ALT_TOP_KEYS = {"project", "prices", "alternatives"}
_ALT_KEYS = {"id", "name", "name_en", "from_scenario", "path", "layer", "where", "kind", "width_m", "width_column"}

#: Column headers of the comparison table (Vietnamese, English).
HEADERS: dict[str, tuple[str, str]] = {
    "alternative": ("Phương án", "Alternative"), "name": ("Tên phương án", "Name"), "project": ("Dự án", "Project"),
    "length_m": ("Chiều dài tuyến (m)", "Length (m)"), "footprint_ha": ("Diện tích chiếm đất (ha)", "Footprint (ha)"),
    "take_ha": ("Đất thu hồi (ha)", "Land taken (ha)"), "rice_ha": ("Đất lúa (ha)", "Rice land (ha)"),
    "luc_ha": ("Đất chuyên trồng lúa LUC (ha)", "LUC (ha)"), "luk_ha": ("Đất lúa còn lại LUK (ha)", "LUK (ha)"),
    "parcels_affected": ("Số thửa bị ảnh hưởng", "Parcels affected"),
    "households_affected": ("Số người sử dụng đất bị ảnh hưởng", "Land users affected"),
    "remnants_flagged": ("Số thửa có phần còn lại dưới mức", "Parcels with a remnant below a minimum"),
    "approval_authority": ("Thẩm quyền chấp thuận", "Approval"), "cost": ("Chi phí ước tính", "Estimated cost"),
    "distance_road_m": ("Khoảng cách tới đường (m)", "Distance to the road (m)"),
    "rice_saved_ha": ("Đất lúa tiết kiệm so với phương án đầu (ha)", "Rice land saved vs the first (ha)"),
    "extra_length_m": ("Chiều dài tăng thêm so với phương án đầu (m)", "Extra length vs the first (m)"),
    "estimated_rice_ha": ("Đất lúa ước tính khi tìm kiếm (ha)", "Rice estimated by the search (ha)"),
}
for _g, (_vi, _en) in landuse.GROUP_NAMES.items():
    HEADERS.setdefault(f"{_g}_ha", (f"{_vi} (ha)", f"{_en} (ha)"))  # rice_ha keeps its own


@dataclass(frozen=True)
class Alternative:
    """One alternative: its id and names, and the ``[[projects]]`` table that describes it (paths absolute)."""

    id: str
    name_vi: str
    name_en: str
    project: dict[str, Any]
    #: figures the search that proposed it knew (e.g. ``estimated_rice_ha``, ``distance_road_m``)
    extra: dict[str, float] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        """Display name in ``lang``."""
        return self.name_vi if lang == "vi" else self.name_en


@dataclass(frozen=True)
class Alternatives:
    """The alternatives to compare, the project they stand for, and an optional price table (per m²)."""

    items: tuple[Alternative, ...]
    project: str | None = None
    prices: dict[str, float] = field(default_factory=dict)
    price_unit: str = ""


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario's TOML tables with every layer path made absolute (so the tables can be written anywhere)."""
    if not scenario.path.is_file():
        raise LandplanError("comparing alternatives needs a scenario read from a file (landplan.load_scenario(path))")
    data = tomllib.loads(scenario.path.read_text(encoding="utf-8"))
    data["parcels"]["path"] = str(scenario.parcels.source.path)
    for table, spec in zip(data.get("admin", []), scenario.admin):
        table["path"] = str(spec.source.path)
    if scenario.landcover is not None:
        data["landcover"]["path"] = str(scenario.landcover.path)
    for table, p in zip(data.get("projects", []), scenario.projects):
        table["path"] = str(p.source.path)
    if scenario.costs is not None:  # the price and coefficient tables and the roads layer
        c = data["costs"]
        c["prices"]["path"] = str(scenario.costs.prices.path)
        c["coefficients"]["path"] = str(scenario.costs.coefficients.path)
        c["positions"]["path"] = str(scenario.costs.positions.roads.path)
    return data


def project_table(scenario: Scenario, project: str) -> dict[str, Any]:
    """The ``[[projects]]`` table of ``project`` in the scenario (paths absolute)."""
    ids = [p.id for p in scenario.projects]
    if project not in ids:
        raise LandplanError(f"no project {project!r} in the scenario; projects are {', '.join(ids)}")
    return dict(scenario_data(scenario)["projects"][ids.index(project)])


def load_alternatives(path: str | Path, scenario: Scenario) -> Alternatives:
    """Read and check an alternatives file (see the module's docstring); every problem is reported at once."""
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise ScenarioError(label, ["file does not exist" if not path.exists() else "is not a file; name an alternatives .toml file"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(label, [f"is not valid UTF-8 TOML: {exc}"]) from exc
    problems: list[str] = []
    for k in sorted(set(data) - _ALT_TOP_KEYS):
        problems.append(f"{k}: unknown key; allowed keys are {', '.join(sorted(_ALT_TOP_KEYS))}")
    ids = [p.id for p in scenario.projects]
    base_id = data.get("project")
    base: dict[str, Any] | None = None
    if base_id is not None:
        if base_id not in ids:
            problems.append(f"project: no project {base_id!r} in the scenario; projects are {', '.join(ids)}")
        else:
            base = project_table(scenario, base_id)
    prices: dict[str, float] = {}
    unit = ""
    pt = data.get("prices", {})
    if not isinstance(pt, dict):
        problems.append("prices: must be a table of land-use code or group = price per m²")
        pt = {}
    for k, v in pt.items():
        if k == "unit":
            unit = str(v)
        elif landuse.normalize_code(k) not in {lu.code for lu in landuse.LANDUSE_TABLE} and k not in landuse.GROUP_NAMES:
            problems.append(f"prices.{k}: not a land-use code or group; groups are {', '.join(landuse.GROUP_NAMES)}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            problems.append(f"prices.{k}: must be a number ≥ 0 (price per m²), got {v!r}")
        else:
            prices[k if k in landuse.GROUP_NAMES else landuse.normalize_code(k)] = float(v)
    raw = data.get("alternatives")
    items: list[Alternative] = []
    if not isinstance(raw, list) or not raw:
        problems.append("alternatives: missing; add at least one [[alternatives]] table")
        raw = []
    seen: set[str] = set()
    for i, a in enumerate(raw):
        key = f"alternatives[{i}]"
        if not isinstance(a, dict):
            problems.append(f"{key}: must be a table")
            continue
        for k in sorted(set(a) - _ALT_KEYS):
            problems.append(f"{key}.{k}: unknown key; allowed keys are {', '.join(sorted(_ALT_KEYS))}")
        aid = a.get("id")
        if not isinstance(aid, str) or not aid.strip():
            problems.append(f"{key}.id: missing; give each alternative an id")
            continue
        aid = unicodedata.normalize("NFC", aid)
        if aid in seen:
            problems.append(f"{key}.id: duplicate alternative id {aid!r}")
        seen.add(aid)
        name = unicodedata.normalize("NFC", str(a.get("name", aid)))
        name_en = unicodedata.normalize("NFC", str(a.get("name_en", name)))
        if a.get("from_scenario"):
            if base is None:
                problems.append(f"{key}.from_scenario: needs project = \"<id>\" at the top of the file")
                continue
            items.append(Alternative(aid, name, name_en, dict(base)))
            continue
        if "path" not in a:
            problems.append(f"{key}: give path and layer (its geometry), or from_scenario = true")
            continue
        table = {k: a[k] for k in ("kind", "layer", "where", "width_m", "width_column") if k in a}
        table.setdefault("kind", (base or {}).get("kind", "centreline"))
        ok = True
        p = (path.parent / str(a["path"])).resolve()
        if not p.exists():
            problems.append(f"{key}.path: file {p} does not exist; paths are relative to the alternatives file")
            ok = False
        if table["kind"] == "centreline" and "width_m" not in table and "width_column" not in table:
            if base is not None and ("width_m" in base or "width_column" in base):
                table.update({k: base[k] for k in ("width_m", "width_column") if k in base})
            else:
                problems.append(f"{key}.width_m: a centreline needs its full right-of-way width in metres")
                ok = False
        if ok:
            table["path"] = str(p)
            items.append(Alternative(aid, name, name_en, table))
    if problems:
        raise ScenarioError(label, problems)
    return Alternatives(tuple(items), base_id, prices, unit)


def alternative_scenario(scenario: Scenario, alt: Alternative, folder: Path) -> Path:
    """Write the scenario file that measures ``alt`` (the scenario's layers and rules, with ``alt`` as its
    one project) into ``folder``/``scenarios``; return its path. Paths to ``folder``'s own files
    (:data:`CANDIDATES_GPKG`) are written relative, so the folder can be moved."""
    import tomli_w

    data = scenario_data(scenario)
    table = {k: v for k, v in alt.project.items() if k not in ("declared_rice_ha",)}
    table["id"] = alt.id
    table["name"] = alt.name_vi
    table["name_en"] = alt.name_en
    p = Path(str(table["path"]))
    if p.parent == folder.resolve():
        table["path"] = f"../{p.name}"
    data["projects"] = [table]
    data.setdefault("scenario", {})["name"] = f"{data.get('scenario', {}).get('name', scenario.name)} – {alt.name_vi}"
    out = folder / SCENARIOS_DIR
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{_file_stem(alt.id)}.toml"
    path.write_text("# Written by landplan (planning): one alternative measured as any project; "
                    "`landplan run` on this file gives the same figures.\n" + tomli_w.dumps(data), encoding="utf-8")
    return path


def _file_stem(text: str) -> str:
    """A file name from an id: letters, digits, ``-`` and ``_`` kept, the rest ``_``."""
    return "".join(ch if (ch.isalnum() or ch in "-_") else "_" for ch in text) or "alt"


def write_candidates(frames: Mapping[str, gpd.GeoDataFrame], folder: Path) -> Path:
    """Write generated candidates into ``folder``/:data:`CANDIDATES_GPKG`, one layer per candidate; return the path."""
    path = folder / CANDIDATES_GPKG
    for layer, gdf in frames.items():
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", append=path.exists())
    return path


def measure(scenario: Scenario, alternatives: Alternatives, folder: Path) -> dict[str, Result]:
    """Measure every alternative exactly: write its scenario file into ``folder`` and run it (:func:`landplan.run`)."""
    from ..pipeline import run
    from ..scenario import load_scenario

    results: dict[str, Result] = {}
    for k, alt in enumerate(alternatives.items, start=1):
        log.info("alternative %d/%d: %s …", k, len(alternatives.items), alt.id)
        results[alt.id] = run(load_scenario(alternative_scenario(scenario, alt, folder)))
    return results


def _length_m(result: Result) -> float:
    """The length of a centreline project's features (m); NaN for an acquisition polygon."""
    from .. import layers

    p = result.scenario.projects[0]
    if p.kind != "centreline":
        return float("nan")
    return float(shapely.length(np.asarray(layers.read_project(p, result.scenario.crs).geometry.values)).sum())


def compare_results(results: Mapping[str, Result], *, prices: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per alternative and project: footprint, land taken by land-use group, rice (LUC/LUK),
    parcels and land users affected, remnants flagged, approval authority, centreline length and,
    with ``prices`` (per m² taken, by land-use code or group), the estimated cost; without them, where the
    scenario has a ``[costs]`` estimate, the cost is its total (compensation, support and conversion, VND).

    ``results`` maps an alternative's label (e.g. "Tuyến A") to its :class:`~landplan.Result`.
    Areas in ha, lengths in m.
    """
    rows = []
    for label, r in results.items():
        flagged = r.parcels[r.parcels["remnant_flag"] != ""].groupby("project")["parcel_id"].nunique()
        pieces = r.pieces.assign(group=r.pieces["landuse"].map(landuse.group))
        by_group = pieces.groupby(["project", "group"])["take_m2"].sum()
        owners = r.parcels[r.parcels["owner"].astype(str).str.strip() != ""].groupby("project")["owner"].nunique() \
            if "owner" in r.parcels else pd.Series(dtype=float)
        lengths = {p.id: p for p in r.scenario.projects}
        for a in r.approvals.to_dict("records"):
            pid = a["project"]
            row: dict[str, Any] = {
                "alternative": label, "project": pid,
                "length_m": _length_m(_only(r, pid)) if lengths[pid].kind == "centreline" else float("nan"),
                "footprint_ha": a["footprint_m2"] / landuse.M2_PER_HA, "take_ha": a["take_m2"] / landuse.M2_PER_HA,
                "rice_ha": a["rice_ha"], "luc_ha": a["rice_luc_m2"] / landuse.M2_PER_HA, "luk_ha": a["rice_luk_m2"] / landuse.M2_PER_HA,
            }
            for g in landuse.GROUP_NAMES:
                row[f"{g}_ha"] = float(by_group.get((pid, g), 0.0)) / landuse.M2_PER_HA
            row.update({
                "parcels_affected": int(a["parcels_affected"]), "households_affected": int(owners.get(pid, 0)),
                "remnants_flagged": int(flagged.get(pid, 0)), "approval_authority": a["approval_authority"],
            })
            if not prices and getattr(r, "costs", None) is not None:  # the scenario's [costs] estimate: its total
                row["cost"] = float(r.costs.budget(pid)["total_vnd"])
            elif prices:
                mine = pieces[pieces["project"] == pid]
                unit = [prices.get(c, prices.get(g, 0.0)) for c, g in zip(mine["landuse"], mine["group"])]
                row["cost"] = float(np.dot(mine["take_m2"].to_numpy(dtype=float), np.asarray(unit, dtype=float)))
            rows.append(row)
    return pd.DataFrame(rows)


def _only(result: Result, project: str) -> Result:
    """``result`` seen through one project's spec (for its length)."""
    if len(result.scenario.projects) == 1:
        return result
    from dataclasses import replace

    return replace(result, scenario=replace(result.scenario, projects=tuple(p for p in result.scenario.projects if p.id == project)))


@dataclass
class Comparison:
    """Alternatives measured side by side: the alternatives, each one's :class:`~landplan.Result`, and the
    table (one row per alternative, :func:`compare_results` plus the search's own figures and the
    differences from the first alternative: rice saved, extra length)."""

    scenario: Scenario
    alternatives: Alternatives
    results: dict[str, Result]
    table: pd.DataFrame
    folder: Path
    _tmp: Any = field(default=None, repr=False)

    def chart(self, *, lang: str | None = None) -> Figure:
        """Bars per alternative by land-use group (ha), the rice figure written at each bar."""
        return comparison_chart(self.table, lang=lang or self.scenario.lang)

    def map(self, *, lang: str | None = None, self_contained: bool = False) -> folium.Map:
        """The map where the alternatives are switched and their figures read side by side."""
        from .altmap import comparison_map

        return comparison_map(self, lang=lang or self.scenario.lang, self_contained=self_contained)

    def write(self, out: str | Path, *, overwrite: bool = False, lang: str | None = None, self_contained: bool = False,
              folder: OutputFolder | None = None) -> Path:
        """Write the comparison into ``out`` (see :func:`write_comparison`)."""
        return write_comparison(self, Path(out), overwrite=overwrite, lang=lang or self.scenario.lang, self_contained=self_contained,
                                folder=folder)


def compare(scenario: Scenario | str | Path, alternatives: Alternatives | str | Path | Sequence[Alternative], *,
            folder: Path | None = None) -> Comparison:
    """Measure each alternative exactly (:func:`measure`) and tabulate them side by side.

    ``alternatives`` is an :class:`Alternatives`, a list of :class:`Alternative` or the path of an
    alternatives file. The scenario files (and generated candidates) are kept in ``folder`` (a
    temporary folder by default), from which :meth:`Comparison.write` copies them.
    """
    from ..scenario import load_scenario

    if not isinstance(scenario, (str, Path)):
        sc = scenario
    else:
        sc = load_scenario(scenario)
    if isinstance(alternatives, (str, Path)):
        alts = load_alternatives(alternatives, sc)
    elif isinstance(alternatives, Alternatives):
        alts = alternatives
    else:
        alts = Alternatives(tuple(alternatives))
    if not alts.items:
        raise LandplanError("no alternatives to compare")
    if not alts.prices and sc.costs is not None and not alts.price_unit:  # the cost column is the scenario's estimate
        from dataclasses import replace as _replace

        alts = _replace(alts, price_unit="VND")
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="landplan-compare-")
        folder = Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    results = measure(sc, alts, folder)
    return Comparison(sc, alts, results, comparison_table(results, alts), folder, tmp)


def comparison_table(results: Mapping[str, Result], alternatives: Alternatives) -> pd.DataFrame:
    """One row per alternative: :func:`compare_results`, the alternative's name and the search's own figures,
    and what each saves against the first: ``rice_saved_ha`` (first − this) and ``extra_length_m`` (this − first)."""
    table = compare_results(results, prices=alternatives.prices or None)
    by_id = {a.id: a for a in alternatives.items}
    table.insert(1, "name", [by_id[a].name_vi for a in table["alternative"]])
    table.insert(2, "name_en", [by_id[a].name_en for a in table["alternative"]])
    for key in sorted({k for a in alternatives.items for k in a.extra}):
        table[key] = [by_id[a].extra.get(key, np.nan) for a in table["alternative"]]
    if len(table):
        table["rice_saved_ha"] = float(table["rice_ha"].iloc[0]) - table["rice_ha"]
        table["extra_length_m"] = table["length_m"] - float(table["length_m"].iloc[0])
        if "distance_road_m" in table:
            table["extra_distance_m"] = table["distance_road_m"] - float(table["distance_road_m"].iloc[0])
    return table


#: Land-use groups in the order bars are stacked, with one colour each (the group's first code's colour).
def _group_colors() -> dict[str, str]:
    out: dict[str, str] = {}
    for lu in landuse.LANDUSE_TABLE:
        out.setdefault(lu.group, lu.color)
    out.setdefault("other", "#cccccc")
    return out


def comparison_chart(table: pd.DataFrame, *, lang: str = "vi", width_mm: float = 160.0) -> Figure:
    """Horizontal bars, one per alternative, stacked by land-use group (ha taken), the rice land written
    at each bar; 16 cm wide for a report. Returns a matplotlib Figure (not managed by pyplot)."""
    from .. import printing

    lang = "en" if lang == "en" else "vi"
    groups = [g for g in landuse.GROUP_NAMES if f"{g}_ha" in table]
    colors = _group_colors()
    n = len(table)
    height = 40.0 + 9.0 * n
    with printing.drawing():
        fig = printing.new_figure(width_mm, height)
        ax = fig.add_axes((0.30, 18.0 / height, 0.66, 1.0 - 30.0 / height))
        y = np.arange(n)[::-1]
        left = np.zeros(n)
        for g in groups:
            vals = table[f"{g}_ha"].to_numpy(dtype=float)
            if not (vals > 0).any():
                continue
            ax.barh(y, vals, left=left, color=colors.get(g, "#cccccc"), edgecolor="#333333", linewidth=0.3, height=0.6,
                    label=landuse.GROUP_NAMES[g][0 if lang == "vi" else 1])
            left += vals
        for yi, total, rice in zip(y, left, table["rice_ha"].to_numpy(dtype=float)):
            word = "lúa" if lang == "vi" else "rice"
            ax.text(total, yi, f"  {word} {printing.fmt_number(rice, 2, lang)} ha", va="center", fontsize=7)
        labels = [f"{a} – {nm}" if nm and nm != a else str(a) for a, nm in
                  zip(table["alternative"], table["name" if lang == "vi" else "name_en"] if "name" in table else table["alternative"])]
        ax.set_yticks(y, [printing.wrap_to_width(s, 0.28 * width_mm, 7) for s in labels], fontsize=7)
        ax.set_xlabel("Diện tích thu hồi (ha)" if lang == "vi" else "Land taken (ha)", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_formatter(_ha_formatter(lang))
        ax.set_xlim(0, max(float(left.max()) if n else 1.0, 1e-9) * 1.35)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.legend(loc="lower center", ncols=min(3, max(1, len(groups))), fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.0))
        title = "Đất thu hồi theo phương án và loại đất" if lang == "vi" else "Land taken by alternative and land use"
        fig.suptitle(title, fontsize=9, y=1.0 - 3.0 / height, va="top")
    return fig


def _ha_formatter(lang: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    from .. import printing

    return FuncFormatter(lambda v, _pos: printing.fmt_number(v, 0 if abs(v) >= 10 or v == 0 else 1, lang))


def write_sheet(table: pd.DataFrame, path: Path, *, lang: str = "vi", title: str = "", price_unit: str = "") -> Path:
    """The comparison as a workbook sheet (one column per alternative, one row per figure), Vietnamese headers
    and number formats in Vietnamese, A4 landscape."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from ..workbook import FORMULA_START, _fmt, _print_setup

    lang = "en" if lang == "en" else "vi"
    i = 0 if lang == "vi" else 1
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "So sánh phương án" if lang == "vi" else "Alternatives"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    ws.append([title or ("So sánh các phương án" if lang == "vi" else "Alternatives compared")])
    ws["A1"].font = Font(bold=True, size=12)
    names = table["name" if lang == "vi" else "name_en"] if "name" in table else table["alternative"]
    ws.append([HEADERS["alternative"][i], *[f"{a} – {n}" if n != a else str(a) for a, n in zip(table["alternative"], names)]])
    for c in ws[2]:
        c.font, c.fill, c.alignment = bold, fill, Alignment(wrap_text=True, vertical="top")
    skip = {"alternative", "name", "name_en", "project"}
    for col in [c for c in table.columns if c not in skip]:
        head = HEADERS.get(col, (col, col))[i]
        if col == "cost" and price_unit:
            head = f"{head} ({price_unit})"
        values: list[Any] = []
        for v in table[col]:
            if isinstance(v, (float, np.floating)) and not np.isfinite(v):
                values.append(None)
            elif isinstance(v, np.generic):
                values.append(v.item())
            else:
                values.append(v)
        ws.append([head, *values])
        row = ws.max_row
        ws.cell(row, 1).font = bold
        fmt = "#,##0" if col.endswith("_m") or col in ("parcels_affected", "households_affected", "remnants_flagged", "cost") else "#,##0.0000"
        for j, v in enumerate(values, start=2):
            c = ws.cell(row, j)
            if isinstance(v, str) and v.startswith(FORMULA_START):
                c.data_type = "s"
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                c.number_format = _fmt(fmt, lang)
    ws.column_dimensions["A"].width = 46
    for j in range(len(table)):
        ws.column_dimensions[get_column_letter(j + 2)].width = 24
    ws.freeze_panes = "B3"
    _print_setup(ws, "1:2")
    wb.properties.creator = "landplan"
    wb.save(path)
    return path


def write_comparison(comparison: Comparison, out: Path, *, overwrite: bool = False, lang: str = "vi",
                     self_contained: bool = False, folder: OutputFolder | None = None) -> Path:
    """Write a comparison into ``out``: ``alternatives.csv`` (the table, areas rounded as every CSV),
    ``alternatives.xlsx`` (the sheet), ``alternatives_chart.png/svg/pdf``, ``alternatives_map.html``,
    ``scenarios/<id>.toml`` (one scenario file per alternative: ``landplan run`` measures it the same)
    and, for generated candidates, ``candidates.gpkg``. Written into a temporary folder and swapped in
    when complete; a folder that is not empty is refused unless ``overwrite`` (then only these files
    are replaced)."""
    import shutil

    from .. import outputs, printing
    from ..webmap import save_map

    def body(tmp: Path) -> None:
        outputs._write_csv(comparison.table, tmp / "alternatives.csv", comparison.scenario.tolerance)
        write_sheet(outputs.rounded_table(comparison.table, comparison.scenario.tolerance), tmp / "alternatives.xlsx", lang=lang,
                    price_unit=comparison.alternatives.price_unit)
        fig = comparison.chart(lang=lang)
        with printing.drawing():
            printing.save(fig, tmp / "alternatives_chart", ("png", "svg", "pdf"), dpi=200,
                          title="So sánh phương án" if lang == "vi" else "Alternatives")
        save_map(comparison.map(lang=lang, self_contained=self_contained), tmp / "alternatives_map.html")
        if (comparison.folder / CANDIDATES_GPKG).exists():
            shutil.copy2(comparison.folder / CANDIDATES_GPKG, tmp / CANDIDATES_GPKG)
        if (comparison.folder / SCENARIOS_DIR).is_dir():
            shutil.copytree(comparison.folder / SCENARIOS_DIR, tmp / SCENARIOS_DIR)

    return write_folder(out, body, own=(*COMPARE_FILES, SCENARIOS_DIR), overwrite=overwrite,
                        inputs=comparison.scenario.input_files(), folder=folder)


def write_folder(out: Path, body: Any, *, own: Sequence[str], overwrite: bool, inputs: Sequence[Path] = (),
                 folder: OutputFolder | None = None) -> Path:
    """Run ``body(tmp)`` to write files into a temporary folder beside ``out``, then swap it in place, as a
    run's outputs are (:mod:`landplan.outfolder`: the folder checked, locked and recovered first; only
    ``own`` replaced, the user's other files kept). A folder that is not empty is refused unless
    ``overwrite``. Pass ``folder`` when the caller already holds it (the command line does, before it searches)."""
    import shutil

    from ..outfolder import disk_error, output_folder

    if folder is None:
        with output_folder(out, overwrite=overwrite, inputs=inputs) as held:
            return write_folder(held.path, body, own=own, overwrite=overwrite, folder=held)
    tmp = folder.new_temporary()
    try:
        body(tmp)
        folder.swap_in(tmp, own)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise disk_error(exc, folder.path) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder.path


def compare_map(results: Mapping[str, Result], *, lang: str = "vi", self_contained: bool = False) -> folium.Map:
    """A map of ``results`` (label → Result, one or more projects each) where the alternatives are switched
    and their figures read side by side (see :mod:`landplan.planning.altmap`)."""
    from .altmap import results_map

    return results_map(results, compare_results(results), lang=lang, self_contained=self_contained)


#: Outline colours of alternatives on the map and chart, in order.
ALT_COLORS: tuple[str, ...] = PROJECT_COLORS
