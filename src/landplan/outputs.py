"""Writing a run's outputs: tables, GeoPackage, map and manifest, into a folder, atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import platform
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import qgis
from .errors import LandplanError
from .outfolder import OutputFolder, disk_error, output_folder
from .parallel import workers
from .takes import OVERLAP_RULE_WORDS
from .tolerance import Tolerance

if TYPE_CHECKING:
    from .pipeline import Result

log = logging.getLogger("landplan")

#: GeoPackage layer names (shared with the QGIS styles in gis/).
LAYER_FOOTPRINTS, LAYER_REMNANTS, LAYER_TAKES, LAYER_AFFECTED = qgis.LAYERS

#: Folder of the per-project maps.
MAPS_DIR = "maps"
#: Folder of the print exports (maps in PNG/SVG/PDF, project sheets).
EXPORTS_DIR = "exports"
#: Written only when the scenario has a land-cover raster.
LANDCOVER_FILES = ("landcover.csv", "landcover_compare.csv")
#: Written only when the scenario has a cost estimate (``[costs]``).
COST_FILES = ("households.csv", "costs.csv")
#: Every file a run writes; only these (and the two folders) are replaced under ``overwrite``.
OUTPUT_FILES = ("summary.csv", "totals.csv", "parcels.csv", "affected_parcels.csv", "approvals.csv", "overlaps.csv", "slivers.csv",
                "landplan.gpkg", "landplan.qgs", "landplan.xlsx", "map.html", "manifest.json", *LANDCOVER_FILES, *COST_FILES)
OUTPUT_DIRS = (MAPS_DIR, EXPORTS_DIR)

def sha256(path: Path, *, stop: threading.Event | None = None) -> str:
    """SHA-256 of a file's bytes; given up (:class:`_Stopped`) between megabytes once ``stop`` is set."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                raise _Stopped(path)
            h.update(chunk)
    return h.hexdigest()


class _Stopped(Exception):
    """Hashing given up: the writing it served has failed or was interrupted."""


def rounded_table(df: pd.DataFrame, tolerance: Tolerance | None) -> pd.DataFrame:
    """A table's areas rounded by the rounding rule, as every CSV (and the map's downloads) gives them:
    ``*_m2`` columns to ``decimals_m2`` places, ``*_ha`` to four more; other floats untouched.
    ``tolerance=None`` keeps every area exact (slivers are all below the rounding)."""
    out = df.copy()
    for c in out.columns:
        if tolerance is None:
            break
        if pd.api.types.is_float_dtype(out[c]):
            if str(c).endswith("_m2"):
                out[c] = tolerance.round_m2(out[c].to_numpy()) + 0.0  # + 0.0: no "-0.0"
            elif str(c).endswith("_ha"):
                out[c] = np.round(out[c].to_numpy(dtype="float64"), tolerance.decimals_m2 + 4) + 0.0
    return out


def _write_csv(df: pd.DataFrame, path: Path, tolerance: Tolerance | None) -> None:
    """A table as CSV: UTF-8 with a BOM so Excel shows Vietnamese correctly; areas rounded
    (:func:`rounded_table`), other floats as their shortest exact repr; text that a spreadsheet would
    take for a formula made harmless (:func:`formula_safe`)."""
    out = rounded_table(df, tolerance)
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = formula_safe(out[c])
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


#: A cell a spreadsheet evaluates starts with one of these (OWASP's list), or with "-" before anything
#: but a plain number.
_FORMULA = re.compile(r"^(?:[=+@\t\r]|-(?!\d+(?:[.,]\d+)?$))")


def formula_safe(values: pd.Series) -> pd.Series:
    """Text values that Excel or LibreOffice would evaluate on opening a CSV (``=HYPERLINK(…)``,
    ``=1+1``, ``@SUM(…)``, ``+…``) prefixed with an apostrophe, which shows them as the text they are;
    everything else, and missing values, unchanged."""
    text = values.astype("string")
    risky = text.str.match(_FORMULA).fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky] = "'" + text[risky].astype(str)
    return out


def _overlaps_table(result: Result) -> pd.DataFrame:
    """Overlaps between projects and between input parcels; for parcels, ``a`` keeps the land, ``b`` loses
    it, and ``rule`` says which rule decided it."""
    a = result.project_overlaps.rename(columns={"project_a": "a", "project_b": "b"}).assign(kind="project", rule="")
    b = result.parcel_overlaps.rename(columns={"parcel_id": "b", "overlaps_parcel_id": "a"}).assign(kind="parcel")
    if "rule" not in b:
        b = b.assign(rule="")
    return pd.concat([a, b], ignore_index=True)[["kind", "a", "b", "overlap_m2", "rule"]]


def _write_gpkg(result: Result, path: Path, lang: str, pages: gpd.GeoDataFrame | None = None) -> None:
    """Write the GeoPackage with its QGIS styles (``layer_styles``) and a QGIS project beside it."""
    fp = result.footprints.copy()
    names = {p.id: p for p in result.scenario.projects}
    fp["name"] = [names[p].name_vi for p in fp["project"]]
    fp["name_en"] = [names[p].name_en for p in fp["project"]]
    pieces = result.pieces.drop(columns=["parcel_row", "footprint_row"])
    # each affected parcel with its all-projects record (land under two projects counted once)
    record = result.parcel_totals.drop(columns=["landuse", "owner", "register_area_m2"], errors="ignore").set_index("parcel_id")
    affected = result.affected.drop(columns=["parcel_area_m2", "counted_area_m2"], errors="ignore").join(record, on="parcel_id")
    layers: dict[str, gpd.GeoDataFrame] = {LAYER_FOOTPRINTS: fp, LAYER_REMNANTS: result.remnants, LAYER_TAKES: pieces,
                                           LAYER_AFFECTED: affected}
    if pages is not None and len(pages):
        layers[qgis.LAYER_PAGES] = pages
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", promote_to_multi=True, geometry_type="MultiPolygon")
    projects = [(p.id, p.name(lang), p.hub) for p in result.scenario.projects]
    styles = qgis.styles_for(projects, lang)
    names_in_order: tuple[str, ...] = qgis.LAYERS
    atlas = None
    if qgis.LAYER_PAGES in layers:
        styles[qgis.LAYER_PAGES] = qgis.qml_pages(lang)
        names_in_order = (qgis.LAYER_PAGES, *qgis.LAYERS)
        first = layers[qgis.LAYER_PAGES].iloc[0]
        c = first.geometry.centroid
        atlas = qgis.AtlasLayout(qgis.LAYER_PAGES, (float(c.x), float(c.y)), float(first["scale"]))
    qgis.write_layer_styles(path, styles)
    x0, y0, x1, y1 = (float(v) for v in result.footprints.total_bounds)
    qgis.write_project(path.parent / "landplan.qgs", f"./{path.name}", names_in_order, result.scenario.crs, styles,
                       result.scenario.name, lang=lang, extent=(x0, y0, x1, y1), atlas=atlas)


def _unchanged_inputs(result: Result) -> list[Path]:
    """The run's input files, once checked unchanged since the run read them (so the checksums the
    manifest records are those of the files as read); a file changed meanwhile is an error naming it."""
    from .pipeline import input_stamps

    now = input_stamps(result.scenario)
    for path, stamp in result.inputs_read.items():
        if now.get(path) != stamp:
            raise LandplanError(f"input {path} changed while landplan was running (it was modified or replaced after the run "
                                f"read it), so the outputs could mix two versions of it; nothing was written: run again once "
                                f"the file is no longer being edited")
    return result.scenario.input_files()


def _versions() -> dict[str, str]:
    import folium
    import pyproj
    import shapely

    from . import __version__

    return {
        "landplan": __version__, "python": platform.python_version(), "geopandas": gpd.__version__,
        "shapely": shapely.__version__, "geos": shapely.geos_version_string, "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__, "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
        "pandas": pd.__version__, "numpy": np.__version__, "folium": folium.__version__,
    }


def manifest(result: Result, files: dict[str, str], *, map_public: bool = False,
             input_sums: dict[Path, str] | None = None) -> dict[str, Any]:
    """What an auditor needs to reproduce a figure: inputs with checksums, CRS, parameters, versions,
    and what the maps leave out (``map_public``). ``input_sums``: the inputs' checksums already taken
    (:func:`_input_sums`); the inputs are checked unchanged since the run read them after those were
    taken, so they are the files as read."""
    from .webmap import PERSONAL_COLUMNS

    sc = result.scenario
    rules = sc.rules
    sums = input_sums or {}
    return {
        "landplan_manifest": 1,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scenario": {"path": str(sc.path), "sha256": sha256(sc.path) if sc.path.is_file() else None, "name": sc.name},
        "inputs": [{"path": str(p), "sha256": sums.get(p) or sha256(p), "size_bytes": p.stat().st_size} for p in _unchanged_inputs(result)],
        "inputs_checked": "each input unchanged from when the run read it to when this manifest was written (size, "
                          "modification time, inode): the checksums are those of the files as read",
        "crs": {"working": sc.crs.to_string(), "name": sc.crs.name, "wkt": sc.crs.to_wkt()},
        "area_method": (
            f"planar area in {'each parcel source’s own CRS (parcels.csv measured_crs)' if sc.parcels.partitions else 'the working CRS'}, "
            "float64 m² (reported); ellipsoidal area of each piece on the CRS's ellipsoid as a check (take_ellipsoidal_m2 in approvals.csv)"
        ),
        "parameters": {
            "lang": sc.lang,
            "projects": [
                {"id": p.id, "kind": p.kind, "layer": p.source.label(), "where": p.source.where,
                 "width_m": p.width_m, "width_column": p.width_column, "declared_rice_ha": p.declared_rice_ha, "hub": p.hub}
                for p in sc.projects
            ],
            "parcels": {"layer": sc.parcels.label(), "id": sc.parcels.id_column, "landuse": sc.parcels.landuse_column,
                        **({"sources": [p.describe() for p in sc.parcels.partitions]} if sc.parcels.partitions else {})},
            "admin": [{"key": a.key, "layer": a.source.label(), "name": a.name_column} for a in sc.admin],
            "approval_ruleset": rules.approval_ruleset,
            "approval_thresholds_ha": list(rules.approval_thresholds_ha),
            "approval_authorities": list(rules.approval_authorities),
            "min_remnant_m2": rules.min_remnant_m2,
            "min_remnant_width_m": rules.min_remnant_width_m,
            "parcel_overlap_rule": {"rule": rules.parcel_overlap_rule,
                                    "says": f"land in two parcels is counted in the parcel {OVERLAP_RULE_WORDS[rules.parcel_overlap_rule]}"},
            "tolerance": sc.tolerance.describe(),
            "checks": {"layer_offset": sc.checks.layer_offset, "offset_alarm_m": sc.checks.offset_alarm_m},
        },
        "versions": _versions(),
        **result.report.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "map": {
            "public": map_public,
            "personal_columns_left_out": list(PERSONAL_COLUMNS) if map_public else [],
            "note": ("map.html and maps/ hold no owners' names or other personal columns; the tables, GeoPackage and "
                     "workbook still do: share only the maps" if map_public else "the maps show owners' names"),
        },
        "outputs": files,
        **({"costs": result.costs.manifest()} if result.costs is not None else {}),
    }


def write_outputs(result: Result, out: Path, *, overwrite: bool = False, lang: str | None = None,
                  self_contained: bool = False, project_maps: bool = False, exports: str | bool = "all",
                  papers: tuple[str, ...] = ("A4", "A3"), public: bool = False, processes: int | None = None,
                  folder: OutputFolder | None = None) -> Path:
    """Write every output into ``out``; return ``out``.

    Files are first written to a temporary folder beside ``out`` and swapped into place only when all
    are complete (:func:`_swap_in`). A folder that already holds files is refused unless ``overwrite``;
    then only landplan's own files (:data:`OUTPUT_FILES` and :data:`OUTPUT_DIRS`) are replaced and the
    user's other files are kept. ``project_maps`` adds ``maps/map_<project>.html``, one per project.
    ``exports`` chooses the print exports in ``exports/``: ``"figures"`` (print maps on ``papers`` and
    report figures in PNG, SVG and PDF, a PDF sheet per project), ``"atlas"`` (strip maps: a PDF per
    project and a PNG per page, in ``exports/atlas/``), ``"all"`` (both; also ``True``) or ``"none"``
    (also ``False``). They are drawn in ``processes`` worker processes (default: one per core) while
    this process writes the other files. Each stage is logged as ``outputs [k/n] …``.
    ``public`` leaves owners' names out of the maps (the manifest says so; the tables keep them).
    The folder is checked, locked and recovered by :func:`landplan.outfolder.output_folder` (pass
    ``folder`` when the caller already holds it, as the command line does before it measures).
    """
    if folder is None:
        with output_folder(out, overwrite=overwrite, inputs=result.scenario.input_files()) as held:
            return write_outputs(result, held.path, overwrite=overwrite, lang=lang, self_contained=self_contained,
                                 project_maps=project_maps, exports=exports, papers=papers, public=public,
                                 processes=processes, folder=held)
    try:
        with _collector_relaxed():
            return _write_into(result, folder, lang=lang, self_contained=self_contained, project_maps=project_maps,
                               exports=exports, papers=papers, public=public, processes=processes)
    except OSError as exc:
        raise disk_error(exc, folder.path) from exc


@contextmanager
def _collector_relaxed() -> Iterator[None]:
    """Collect reference cycles less eagerly while outputs are written, and restore the collector after.

    Writing makes hundreds of thousands of short-lived objects (table cells, GeoJSON features, map
    elements); with Python's default thresholds each burst ran a collection over every live object,
    the run's results included (about a tenth of the outputs' time in this process on the realistic
    benchmark). What exists when writing starts is frozen (:func:`gc.freeze`: never scanned until
    thawed here) and young objects are collected less often (:data:`landplan.printjobs.WORKER_GC_THRESHOLDS`,
    as the export workers do); cycles are still collected, so drawing in this process stays bounded.
    """
    import gc

    from .printjobs import WORKER_GC_THRESHOLDS

    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _write_into(result: Result, folder: OutputFolder, *, lang: str | None, self_contained: bool, project_maps: bool,
                exports: str | bool, papers: tuple[str, ...], public: bool, processes: int | None) -> Path:

    from . import atlas, printjobs

    mode = printjobs.check_mode(exports)
    lang = lang or result.scenario.lang
    out = folder.path
    tmp = folder.new_temporary()
    stages = ["tables (CSV)", "landplan.gpkg, landplan.qgs", "landplan.xlsx", "map.html" + (f", {MAPS_DIR}/" if project_maps else "")]
    if mode != "none":
        stages.append(f"{EXPORTS_DIR}/ ({mode})")
    stages.append("manifest.json")
    progress = _Stages(stages)
    tol = result.scenario.tolerance
    map_options: dict[str, Any] = {"lang": lang, "self_contained": self_contained, "project_maps": project_maps, "public": public}
    maps: _MapProcess | None = None
    hashing, stop = ThreadPoolExecutor(1), threading.Event()
    try:
        pages = atlas.atlas_pages(result)
        jobs = printjobs.plan(result, mode, papers=papers, pages=pages) if mode != "none" else []
        if processes != 0 and _map_elsewhere(mode):  # forked before any thread of this function starts
            maps = _MapProcess(result, tmp, map_options)
        with printjobs.Exports(result, jobs, tmp / EXPORTS_DIR, lang=lang, pages=pages, processes=processes) as drawing:
            input_sums = hashing.submit(_input_sums, result.scenario.input_files(), stop)  # after the workers fork
            with progress():
                _write_csv(result.summary, tmp / "summary.csv", tol)
                _write_csv(result.totals, tmp / "totals.csv", tol)
                _write_csv(result.parcels, tmp / "parcels.csv", tol)
                _write_csv(result.parcel_totals, tmp / "affected_parcels.csv", tol)
                _write_csv(result.approvals, tmp / "approvals.csv", tol)
                _write_csv(_overlaps_table(result), tmp / "overlaps.csv", tol)
                _write_csv(result.slivers, tmp / "slivers.csv", None)
                if result.landcover is not None and result.landcover_compare is not None:
                    _write_csv(result.landcover, tmp / "landcover.csv", tol)
                    _write_csv(result.landcover_compare, tmp / "landcover_compare.csv", tol)
                if result.costs is not None:
                    _write_csv(result.costs.households, tmp / "households.csv", tol)
                    _write_csv(result.costs.table, tmp / "costs.csv", tol)
            with progress():
                names = {p.id: p.name(lang) for p in result.scenario.projects}
                _write_gpkg(result, tmp / "landplan.gpkg", lang, atlas.pages_frame(pages, result.scenario.crs, lang=lang, names=names))
            with progress():
                from .workbook import write_workbook

                write_workbook(result, tmp / "landplan.xlsx", lang=lang)
            with progress("drawn in a process of its own beside the tables" if maps is not None else ""):
                if maps is None:
                    _save_maps(result, tmp, **map_options)
                else:
                    maps.wait()
            if mode != "none":
                with progress(f"{len(jobs)} jobs"):
                    drawing.wait()
        with progress():
            paths = [f for f in sorted(tmp.rglob("*")) if f.is_file()]
            with ThreadPoolExecutor(workers()) as pool:  # hashlib lets go of the GIL: the files hashed on every core
                files = dict(zip((str(f.relative_to(tmp)) for f in paths), pool.map(sha256, paths)))
            (tmp / "manifest.json").write_text(json.dumps(manifest(result, files, map_public=public, input_sums=input_sums.result()),
                                                          ensure_ascii=False, indent=2), encoding="utf-8")
        folder.swap_in(tmp, set(OUTPUT_FILES) | set(OUTPUT_DIRS))
    except BaseException:
        stop.set()  # the helpers stop before the temporary folder is removed: nothing writes into it after
        hashing.shutdown(wait=True, cancel_futures=True)
        if maps is not None:
            maps.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)
    return out


def _input_sums(paths: list[Path], stop: threading.Event) -> dict[Path, str]:
    """The input files' checksums for :func:`manifest`, taken on a thread while the outputs are written
    (hashlib lets go of the GIL; a million parcels' GeoPackage is a quarter of a gigabyte)."""
    return {p: sha256(p, stop=stop) for p in paths}


def _map_elsewhere(mode: str) -> bool:
    """Whether the map is built in a process of its own while this one writes the tables: when no
    export workers take the cores (``mode`` none), another core is free, and fork lets the process
    inherit the results without copying them."""
    return mode == "none" and workers() > 1 and "fork" in multiprocessing.get_all_start_methods()


def _save_maps(result: Result, folder: Path, *, lang: str, self_contained: bool, project_maps: bool, public: bool) -> None:
    """``map.html`` (and, with ``project_maps``, one map per project in ``maps/``) in ``folder``."""
    from .webmap import save_map

    save_map(result.map(lang=lang, self_contained=self_contained, public=public), folder / "map.html")
    if project_maps:
        (folder / MAPS_DIR).mkdir()
        for p in result.scenario.projects:
            save_map(result.map(lang=lang, self_contained=self_contained, project=p.id, public=public),
                     folder / MAPS_DIR / f"map_{p.id}.html")


#: What the forked map process draws (set just before it forks; it inherits it without a copy).
_MAP_JOB: dict[str, Any] = {}


class _MapProcess:
    """The maps (:func:`_save_maps`) drawn in a forked process while this one writes other files:
    :meth:`wait` for them (their error, if any, raised here), or :meth:`stop` the process."""

    def __init__(self, result: Result, folder: Path, options: dict[str, Any]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.answer, send = ctx.Pipe(duplex=False)
        _MAP_JOB.update(result=result, folder=folder, options=options, send=send)
        try:
            self.process = ctx.Process(target=_forked_maps, name="landplan-map", daemon=True)
            self.process.start()
        finally:
            send.close()  # the child holds its own end
            _MAP_JOB.clear()

    def wait(self) -> None:
        try:
            error = self.answer.recv()
        except EOFError:  # the process ended without answering (killed)
            error = LandplanError("the map could not be drawn: its process ended without finishing (out of memory?)")
        self.process.join()
        if error is not None:
            raise error

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()


def _forked_maps() -> None:
    """In the forked process: draw the maps, then send ``None`` or the error."""
    job = _MAP_JOB
    send = job["send"]
    try:
        _save_maps(job["result"], job["folder"], **job["options"])
        answer: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - every error goes back to the writing process
        answer = exc
    try:
        send.send(answer)
    except Exception:  # noqa: BLE001 - an error that cannot be pickled goes back as its message
        send.send(LandplanError(f"the map could not be drawn: {answer}"))
    finally:
        send.close()


class _Stages:
    """Logs each output stage as ``outputs [k/n] name`` and its time when done."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.k = names, 0

    @contextmanager
    def __call__(self, detail: str = "") -> Iterator[None]:
        name = self.names[self.k]
        self.k += 1
        log.info("outputs [%d/%d] %s%s …", self.k, len(self.names), name, f" ({detail})" if detail else "")
        t0 = time.perf_counter()
        yield
        log.debug("outputs [%d/%d] %s: %.2f s", self.k, len(self.names), name, time.perf_counter() - t0)
