"""One call from a scenario to results: read, build footprints, measure, tabulate."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import approvals as _approvals
from . import layers, remnants, tables, takes
from .arrays import unique
from .errors import LandplanError, LayerError
from .footprints import buffer_centrelines, check_centrelines, corridor_widths, dissolve_footprints, merge_lines, polygonal
from .report import RunReport
from .scenario import Scenario, load_scenario
from .tolerance import DEFAULT_TOLERANCE, Tolerance

if TYPE_CHECKING:
    import folium

log = logging.getLogger("landplan")


@dataclass
class Result:
    """Everything a run computed: tables (pandas) and frames (GeoPandas, working CRS).

    ``summary``, ``totals`` and ``parcels`` follow the output contract (DESIGN.md §6);
    ``approvals`` has one row per project; ``project_overlaps`` and ``parcel_overlaps`` list land
    that would otherwise be counted twice. ``parcels`` has one record per affected parcel and
    project, ``parcel_totals`` one per affected parcel for all projects together (land under two
    projects counted once); ``project_remnants`` and ``remnants`` hold their remaining pieces;
    ``slivers`` lists what the tolerance set aside as noise (:mod:`landplan.tolerance`).
    """

    scenario: Scenario
    footprints: gpd.GeoDataFrame
    pieces: gpd.GeoDataFrame
    affected: gpd.GeoDataFrame
    admin: dict[str, gpd.GeoDataFrame]
    summary: pd.DataFrame
    totals: pd.DataFrame
    parcels: pd.DataFrame
    approvals: pd.DataFrame
    project_overlaps: pd.DataFrame
    parcel_overlaps: pd.DataFrame
    report: RunReport
    timings_s: dict[str, float] = field(default_factory=dict)
    landcover: pd.DataFrame | None = None
    landcover_compare: pd.DataFrame | None = None
    parcel_totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    remnants: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    project_remnants: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    slivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: each input file as the run found it (size, modification time, inode), so writing can tell a
    #: file that changed during the run (:func:`input_stamps`)
    inputs_read: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    #: the cost estimate (``[costs]``; :class:`landplan.rules.compensation.Estimate`), or None
    costs: Any = None

    def view(self, project: str | None = None) -> ResultView:
        """The part of the results every project (or ``project``) touches, as a map or print map shows it."""
        return ResultView(self, project)

    def map(self, *, lang: str | None = None, self_contained: bool = False, project: str | None = None,
            public: bool = False) -> folium.Map:
        """The planner's map of every project, or of ``project`` (see :func:`landplan.webmap.result_map`)."""
        from .webmap import result_map

        return result_map(self, lang=lang or self.scenario.lang, self_contained=self_contained, project=project, public=public)

    def write(self, out: str | Path, *, overwrite: bool = False, lang: str | None = None,
              self_contained: bool = False, project_maps: bool = False, exports: str | bool = "all",
              papers: tuple[str, ...] = ("A4", "A3"), public: bool = False, folder: Any = None) -> Path:
        """Write every output file into ``out`` (see :func:`landplan.outputs.write_outputs`; ``folder``: an
        :class:`landplan.outfolder.OutputFolder` the caller already holds)."""
        from .outputs import write_outputs

        return write_outputs(self, Path(out), overwrite=overwrite, lang=lang, self_contained=self_contained,
                             project_maps=project_maps, exports=exports, papers=papers, public=public, folder=folder)


class ResultView:
    """The part of a :class:`Result` that every project, or one, touches: its projects, footprints,
    pieces, parcel-table rows, approvals and affected parcels (indexes reset)."""

    def __init__(self, result: Result, project: str | None = None) -> None:
        ids = [p.id for p in result.scenario.projects]
        if project is not None and project not in ids:
            raise LandplanError(f"no project {project!r} in the scenario; projects are {', '.join(ids)}")
        keep = ids if project is None else [project]
        self.projects = [p for p in result.scenario.projects if p.id in keep]
        self.footprints = result.footprints[result.footprints["project"].isin(keep)].reset_index(drop=True)
        self.pieces = result.pieces[result.pieces["project"].isin(keep)].reset_index(drop=True)
        self.parcels = result.parcels[result.parcels["project"].isin(keep)].reset_index(drop=True)
        self.approvals = result.approvals[result.approvals["project"].isin(keep)].reset_index(drop=True)
        self.affected = result.affected[result.affected["parcel_id"].isin(set(self.pieces["parcel_id"]))].reset_index(drop=True)
        if project is None:
            #: one record per parcel, all projects together, and what remains after them all
            self.parcel_totals = result.parcel_totals
            self.remnants = result.remnants
        else:  # one project: its own records
            self.parcel_totals = self.parcels.rename(columns={"project": "projects"})
            rem = result.project_remnants
            self.remnants = rem[rem["project"] == project].drop(columns="project").reset_index(drop=True)


class _Steps:
    """Logs each step with its duration (the CLI shows these as progress)."""

    def __init__(self, total: int) -> None:
        self.total, self.n, self.timings = total, 0, {}  # type: ignore[var-annotated]

    def __call__(self, name: str) -> _Step:
        self.n += 1
        return _Step(self, name)


class _Step:
    def __init__(self, steps: _Steps, name: str) -> None:
        self.steps, self.name = steps, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()
        log.info("[%d/%d] %s …", self.steps.n, self.steps.total, self.name)

    def __exit__(self, *exc: Any) -> None:
        self.steps.timings[self.name] = time.perf_counter() - self.t0


def build_footprints(scenario: Scenario, *, report: RunReport) -> gpd.GeoDataFrame:
    """Every project's footprint, dissolved, in the working CRS (one row per project)."""
    ids: list[np.ndarray] = []
    polys: list[np.ndarray] = []
    features = layers.read_projects(scenario.projects, scenario.crs)
    for p in scenario.projects:  # arrays, not frames, per project: 256 corridors cost milliseconds here
        gdf = features[p.id]
        label = f"{p.source.label()} (project {p.id})"
        if p.kind == "centreline":
            widths = corridor_widths(gdf, width_m=p.width_m, width_column=p.width_column, source=label)
            lines = np.asarray(gdf.geometry.values)
            check_centrelines(lines, gdf.index.to_numpy(), source=label)  # each feature as drawn
            merged, keys = merge_lines(lines, widths if p.width_column else None)
            geoms = buffer_centrelines(merged, np.asarray(keys, dtype="float64") if keys is not None else np.full(len(merged), widths[0]))
        else:
            types = shapely.get_type_id(gdf.geometry.values)
            if not np.isin(types, [3, 6]).all():
                raise LayerError(f"{label}: kind = \"polygon\" needs polygon features; use kind = \"centreline\" for lines")
            gdf = gdf.assign(parcel_id=[str(i) for i in gdf.index])
            geoms = np.asarray(layers.repair_polygons(gdf, layer=label, id_column="parcel_id", report=report).geometry.values)
        polys.append(np.asarray(geoms, dtype=object))
        ids.append(np.full(len(geoms), p.id, dtype=object))
    pieces = gpd.GeoDataFrame({"project": np.concatenate(ids)}, geometry=np.concatenate(polys), crs=scenario.crs)
    fp = dissolve_footprints(pieces, crs=scenario.crs)
    for r in fp.itertuples():
        if not scenario.tolerance.is_noise_area(np.array([r.self_overlap_m2]))[0]:
            report.warn(f"project {r.project}: its features overlap each other by {r.self_overlap_m2:,.2f} m²; "
                        f"the footprint is dissolved so that land is counted once")
    return fp


def project_overlaps(footprints: gpd.GeoDataFrame, tolerance: Tolerance = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """Pairs of projects whose footprints overlap, with the overlap area in m² and whether it is noise
    under ``tolerance`` (two corridors drawn edge to edge)."""
    g = np.asarray(footprints.geometry.values)
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inter = polygonal(shapely.intersection(g[a], g[b])) if len(a) else np.zeros(0, dtype=object)
    area = np.asarray(shapely.area(inter), dtype="float64")
    pid = footprints["project"].to_numpy()
    df = pd.DataFrame({"project_a": pid[a], "project_b": pid[b], "overlap_m2": area, "noise": tolerance.is_noise(inter)})
    return df[df["overlap_m2"] > 0].reset_index(drop=True)


def run(scenario: Scenario | str | Path) -> Result:
    """Run a scenario (an object or a path to its TOML file) and return its :class:`Result`."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.parcels.partitions:  # parcels in several sources, each measured in its own CRS
        from .scale.engine import run_partitioned

        return run_partitioned(scenario)
    with _cycle_collector_paused():
        return _run(scenario)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the engine runs, and restore it as it was.

    The engine makes and frees hundreds of thousands of short-lived objects (a shapely geometry per
    piece, remnant and centroid), none of them in reference cycles; each burst of allocations
    triggers a collection that walks every live object, about a tenth of a 1M-parcel run. Reference
    counting still frees everything at once; cycles made meanwhile are collected after the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Inputs:
    """What a run has read and checked before it measures anything."""

    footprints: gpd.GeoDataFrame
    tiles: tuple[np.ndarray, np.ndarray]
    project_overlaps: pd.DataFrame
    parcels: gpd.GeoDataFrame
    admin: dict[str, gpd.GeoDataFrame]
    #: the cost estimate's roads layer, read when it was checked (``[costs]``), else None
    roads: gpd.GeoDataFrame | None = None
    #: what ``_prepare``'s ``on_read`` returned (the cost estimate's work on a thread), else None
    started: Any = None


#: Overlapping pairs of projects named one by one; beyond this, one message counts them (overlaps.csv lists all).
PROJECT_OVERLAPS_SHOWN = 5


def _warn_project_overlaps(overlaps: pd.DataFrame, report: RunReport) -> None:
    """Say which projects overlap: a line a pair for a few, one message for many (a city's network of
    roads crosses itself hundreds of times)."""
    if len(overlaps) <= PROJECT_OVERLAPS_SHOWN:
        for r in overlaps.itertuples():
            report.warn(f"projects {r.project_a} and {r.project_b} overlap by {r.overlap_m2:,.2f} m²; "
                        f"all-projects totals count that land once")
        return
    shown = ", ".join(f"{r.project_a} and {r.project_b} ({r.overlap_m2:,.2f} m²)"
                      for r in overlaps.head(PROJECT_OVERLAPS_SHOWN).itertuples())
    report.warn(f"{len(overlaps):,} pairs of projects overlap, {overlaps['overlap_m2'].sum():,.2f} m² in all ({shown} …); "
                f"all-projects totals count that land once (overlaps.csv lists every pair)")


def _prepare(scenario: Scenario, report: RunReport, steps: _Steps, *, pixels: bool = False,
             footprints: gpd.GeoDataFrame | None = None, on_read: Callable[[_Inputs], Any] | None = None,
             roads: Any = None) -> _Inputs:
    """Read and check every input (everything a run does before measuring): footprints, parcels under
    them, administrative layers, layers that should coincide, and the land-cover raster (its header
    and extent; with ``pixels``, also the pixel values under the footprints, which a run checks
    while it measures). ``footprints``: built by the caller (see :func:`_run`). ``on_read`` is
    called with the inputs as soon as the layers are read, before the checks that only compare
    them (layers that should coincide, the raster), so that work on threads can start; what it
    returns is the inputs' ``started``. ``roads``: the cost estimate's roads layer being read
    (:func:`landplan.rules.compensation.read_roads_soon`)."""
    tol = scenario.tolerance
    with steps("footprints"):
        fp = build_footprints(scenario, report=report) if footprints is None else footprints
        tiles = takes.tile_footprints(np.asarray(fp.geometry.values))
        all_overlaps = project_overlaps(fp, tol)
        if footprints is None:
            _warn_project_overlaps(all_overlaps[~all_overlaps["noise"]], report)
    with steps("reading parcels"):
        parcels = layers.read_parcels(scenario.parcels, scenario.crs, mask=tiles[0], report=report)
        if parcels.empty and footprints is None:
            _check_extents_meet(scenario, fp, report)
        admin = {a.key: takes.resolve_admin_overlaps(layers.read_admin(a, scenario.crs, mask=None, report=report),
                                                     admin_layer=a.key, report=report, tolerance=tol) for a in scenario.admin}
        if scenario.costs is not None:  # the price tables' units against the admin layer, the roads layer
            from .rules.compensation import check_inputs

            roads = check_inputs(scenario, admin, roads=roads)
        inputs = _Inputs(fp, tiles, all_overlaps, parcels, admin, roads)
        if on_read is not None:
            inputs.started = on_read(inputs)
        check_alignment(scenario, fp, admin, report)
        if scenario.landcover is not None:
            from .raster import check_raster

            check_raster(scenario.landcover, fp, crs=scenario.crs, pixels=pixels)
    return inputs


def check(scenario: Scenario | str | Path) -> RunReport:
    """Run every check a run makes before measuring (``landplan validate``): the scenario file, each
    layer and its CRS, every project's features and widths, the parcels under the footprints, the
    administrative layers, layers that should coincide, and the raster (with the pixel values under
    the footprints). Raises the error a run would raise; returns the warnings and repairs a run would
    report."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.parcels.partitions:
        from .scale.engine import check_partitioned

        return check_partitioned(scenario)
    report = RunReport()
    with _cycle_collector_paused():
        _prepare(scenario, report, _Steps(2), pixels=True)
    return report


def input_stamps(scenario: Scenario) -> dict[str, tuple[int, int, int]]:
    """Size, modification time (ns) and inode of every input file (a shapefile's companions included)."""
    out: dict[str, tuple[int, int, int]] = {}
    for p in scenario.input_files():
        files = [p]
        if p.suffix.lower() == ".shp":
            files += [q for q in p.parent.glob(p.stem + ".*") if q != p]
        for f in files:
            if f.is_file():
                st = f.stat()
                out[str(f)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def _run(scenario: Scenario, *, footprints: gpd.GeoDataFrame | None = None) -> Result:
    """A run. ``footprints`` (in the scenario's CRS) are built by the caller when the parcels are one
    partition of a larger layer (:mod:`landplan.scale`): what concerns the footprints as a whole
    (project overlaps, land in no parcel, no parcel under any footprint) is then the caller's to say."""
    stamps = input_stamps(scenario)
    report = RunReport()
    tol = scenario.tolerance
    steps = _Steps(6 + (scenario.landcover is not None) + (scenario.costs is not None))
    owners_column = roads_soon = None
    if scenario.costs is not None:  # the owner column read on a thread from the start (landplan.rules.compensation)
        from .rules import compensation

        owners_column = compensation.scan(scenario)
        roads_soon = compensation.read_roads_soon(scenario)
    start_costs = None
    if scenario.costs is not None:  # the estimate's geometry and the owners' land, on a thread from when the layers are read
        def start_costs(got: _Inputs) -> Any:
            return compensation.start(scenario, got.parcels, got.admin, scanned=owners_column, roads=got.roads)
    inputs = _prepare(scenario, report, steps, footprints=footprints, on_read=start_costs, roads=roads_soon)
    costs_geometry = inputs.started
    fp, tiles, parcels, admin = inputs.footprints, inputs.tiles, inputs.parcels, inputs.admin
    all_overlaps = inputs.project_overlaps
    overlaps = all_overlaps[~all_overlaps["noise"]].drop(columns="noise").reset_index(drop=True)
    with steps("parcel overlaps"):
        parcels, all_parcel_overlaps = takes.resolve_parcel_overlaps(parcels, report=report, tolerance=tol,
                                                                     rule=scenario.rules.parcel_overlap_rule)
        # the neighbours read for the overlap rule have done their part
        parcels = parcels[~parcels["neighbour"].to_numpy(dtype=bool)].drop(columns="neighbour").reset_index(drop=True)
        parcel_overlaps = all_parcel_overlaps[~all_parcel_overlaps["noise"]].drop(columns="noise").reset_index(drop=True)
    with steps("take table"):
        pieces, noise = takes.split_noise(takes.take_table(parcels, fp, crs=scenario.crs, tiles=tiles), tol)
        if pieces.empty and not parcels.empty and footprints is None:
            _check_extents_meet(scenario, fp, report)
        affected = parcels.iloc[unique(pieces["parcel_row"].to_numpy())].reset_index(drop=True)
        costs_facts = None
        if costs_geometry is not None:  # what the estimate needs of each parcel taken, on a thread while the run measures the rest
            costs_facts = compensation.start_facts(scenario, affected, admin, costs_geometry)
    with steps("administrative units"):
        if admin:
            split = pd.concat([takes.split_by_admin(pieces, g, admin_layer=k, tolerance=tol) for k, g in admin.items()],
                              ignore_index=True)
        else:
            split = pieces[["project", "parcel_id", "landuse"]].assign(admin_layer="", admin_unit="", area_m2=pieces["take_m2"])
        for k in admin:
            out = split[(split["admin_layer"] == k) & (split["admin_unit"] == takes.OUTSIDE_ADMIN)]["area_m2"].sum()
            if out > 0:
                report.warn(f"admin layer {k}: {out:,.2f} m² of the takes lie outside every unit (reported as {takes.OUTSIDE_ADMIN})")
    with steps("tables"):
        minimums = remnants.Minimums(scenario.rules.min_remnant_m2, scenario.rules.min_remnant_width_m, tol)
        (ptable, project_rest, project_slivers), (ttable, rest, _) = remnants.records(pieces, parcels, fp, tiles=tiles,
                                                                                       minimums=minimums)
        costs_lines = None
        if costs_facts is not None:  # each project's money, on a thread while the run sums the tables up
            costs_lines = compensation.start_project_lines(scenario, ptable, project_rest, pieces, costs_geometry, costs_facts)
        summary = tables.summary(split)
        totals = tables.totals(ttable, pieces)
        appr = _approvals.approvals(pieces, scenario.projects, fp, scenario.rules, tolerance=tol, noise=noise)
        for pid, gap, whole in zip(appr["project"], appr["not_in_parcels_m2"].to_numpy(dtype=float),
                                   appr["footprint_m2"].to_numpy(dtype=float)):
            if not tol.is_noise_area(np.array([gap]))[0] and footprints is None:
                report.warn(_gap_message(scenario, fp, str(pid), gap, whole))
        slivers = _slivers(noise, project_slivers, all_parcel_overlaps, all_overlaps)
        if len(slivers):
            named = slivers.sort_values("area_m2", ascending=False).head(3)
            shown = ", ".join(f"{k} {p or o}" + (f"/{q}" if q else "") for k, p, o, q in
                              zip(named["kind"], named["parcel_id"], named["project"], named["other"]))
            msg = (f"{len(slivers)} sliver(s) below the tolerance ({slivers['area_m2'].sum():,.6f} m² in all; the largest: {shown}) "
                   f"set aside as noise (not land taken, not remnant pieces, not overlaps): listed in slivers.csv")
            if tol.round_m2(slivers["area_m2"].sum()) > 0:
                report.warn(msg)
            else:  # float noise too small to show in any table
                log.info(msg)
    landcover = compare = None
    if scenario.landcover is not None:
        from . import raster

        with steps("land-cover raster"):
            landcover, compare, piece_rice = raster.landcover_tables(
                scenario.landcover, fp, admin, pieces, appr, crs=scenario.crs, warn=report.warn, tolerance=tol)
            ptable = with_raster_rice(ptable, piece_rice)
    result = Result(
        scenario=scenario, footprints=fp, pieces=pieces, affected=affected, admin=admin,
        summary=summary, totals=totals, parcels=ptable, approvals=appr,
        project_overlaps=overlaps, parcel_overlaps=parcel_overlaps, report=report, timings_s=steps.timings,
        landcover=landcover, landcover_compare=compare, parcel_totals=ttable, remnants=rest,
        project_remnants=project_rest, slivers=slivers, inputs_read=stamps,
    )
    log.info("measured %d pieces of %d parcels for %d projects", len(pieces), len(affected), len(fp))
    if scenario.costs is not None:  # the estimate: table maths on the parcel records (landplan.rules.compensation)
        from .rules import compensation

        with steps("costs"):
            compensation.attach(result, report=report, prepared=costs_geometry, facts=costs_facts, lines=costs_lines)
    return result


def with_raster_rice(ptable: pd.DataFrame, piece_rice: pd.DataFrame) -> pd.DataFrame:
    """The parcel table with the rice the land-cover raster sees in each take (``raster_rice_m2``, m²) and
    its share of the take (``raster_rice_share``, 0–1)."""
    ptable = ptable.merge(piece_rice, on=["project", "parcel_id"], how="left")
    ptable["raster_rice_m2"] = ptable["raster_rice_m2"].fillna(0.0)
    ptable["raster_rice_share"] = np.divide(ptable["raster_rice_m2"], ptable["take_m2"],
                                            out=np.zeros(len(ptable)), where=ptable["take_m2"].to_numpy() > 0).clip(0, 1)
    return ptable


#: A footprint missing parcels on more than this share of it, with parcels near it, suggests misaligned layers.
MISALIGNED_SHARE = 0.5
#: How far around a footprint parcels are looked for before calling its gaps a misalignment (m).
NEAR_M = 300.0


def _gap_message(scenario: Scenario, fp: gpd.GeoDataFrame, pid: str, gap_m2: float, footprint_m2: float) -> str:
    """The warning for land of a footprint that lies in no parcel. When most of the footprint misses
    parcels although the parcel layer has parcels right beside it, that is what misaligned layers look
    like (a CRS or datum mistake), not gaps in a cadastre, and the warning says so."""
    plain = f"project {pid}: {gap_m2:,.2f} m² of its footprint is in no parcel (gaps in the parcel layer, or outside it)"
    if footprint_m2 <= 0 or gap_m2 / footprint_m2 <= MISALIGNED_SHARE:
        return plain
    geom = fp.loc[fp["project"] == pid].geometry.iloc[0]
    ring = shapely.difference(shapely.buffer(geom, NEAR_M), geom)
    try:
        near = layers.read_layer(scenario.parcels.source, scenario.crs, columns=[], mask=np.array([ring], dtype=object))
    except LandplanError:
        return plain
    if len(near) < 3:
        return plain
    return (f"project {pid}: {gap_m2:,.2f} m² of its footprint ({gap_m2 / footprint_m2:.0%}) is in no parcel, yet the parcel "
            f"layer has {len(near):,} parcels within {NEAR_M:,.0f} m of it: the layers are probably misaligned (a CRS or datum "
            f"mistake, coordinates in another CRS than declared), not gaps in the cadastre; check both layers' CRS")


#: Columns of ``slivers.csv``.
SLIVER_COLUMNS = ["kind", "project", "parcel_id", "other", "area_m2"]


def _slivers(noise: pd.DataFrame, remnant_noise: pd.DataFrame, parcel_overlaps: pd.DataFrame,
             project_overlaps: pd.DataFrame) -> pd.DataFrame:
    """Everything the tolerance set aside as noise, listed: pieces of parcels under a footprint
    (``take``), remaining pieces (``remnant``), overlaps between parcels and between projects."""
    po = parcel_overlaps[parcel_overlaps["noise"]]
    fo = project_overlaps[project_overlaps["noise"]]
    parts = [
        pd.DataFrame({"kind": "take", "project": noise["project"], "parcel_id": noise["parcel_id"], "other": "",
                      "area_m2": noise["area_m2"]}),
        pd.DataFrame({"kind": "remnant", "project": remnant_noise["project"], "parcel_id": remnant_noise["parcel_id"], "other": "",
                      "area_m2": remnant_noise["area_m2"]}),
        pd.DataFrame({"kind": "parcel_overlap", "project": "", "parcel_id": po["parcel_id"], "other": po["overlaps_parcel_id"],
                      "area_m2": po["overlap_m2"]}),
        pd.DataFrame({"kind": "project_overlap", "project": fo["project_a"], "parcel_id": "", "other": fo["project_b"],
                      "area_m2": fo["overlap_m2"]}),
    ]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame(columns=SLIVER_COLUMNS)
    return out[SLIVER_COLUMNS].reset_index(drop=True)


#: Probe windows for the alignment check are chosen on unit boundaries within this distance of the projects (m).
ALIGNMENT_NEAR_M = 1_000.0


def check_alignment(scenario: Scenario, fp: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], report: RunReport) -> list[str]:
    """Check that layers which should coincide do: the parcels against each administrative layer (parcels
    tile the units), and each pair of administrative layers (the coarser one's boundaries run along
    the finer one's). A constant offset longer than ``[checks] offset_alarm_m`` is an error (or a
    warning with ``layer_offset = "warn"``) naming the two layers, the vector and its likely cause.
    Returns the problems found (the messages)."""
    from . import registration

    if not admin or fp.empty:
        return []
    near = shapely.buffer(shapely.union_all(np.asarray(fp.geometry.values)), ALIGNMENT_NEAR_M)
    half = registration.PROBE_HALF_M + registration.SEARCH_M + 20.0
    problems: list[str] = []
    probes = {k: registration.probe_points(np.asarray(g.geometry.values), near) for k, g in admin.items()}
    windows = [shapely.box(x - half, y - half, x + half, y + half) for c in probes.values() for x, y in c]
    if windows:
        around = layers.read_layer(scenario.parcels.source, scenario.crs, columns=[], mask=np.array(windows, dtype=object))
        pgeoms = np.asarray(around.geometry.values)
        xy, owner = shapely.get_coordinates(pgeoms, return_index=True)
        finite = np.ones(len(pgeoms), dtype=bool)
        np.logical_and.at(finite, owner, np.isfinite(xy).all(axis=1))
        pgeoms = pgeoms[finite & ~shapely.is_missing(pgeoms)]  # broken features are reported by the parcels' own read
        pgeoms = shapely.make_valid(pgeoms[~shapely.is_empty(pgeoms)])
        for spec in scenario.admin:
            units = admin[spec.key]
            if len(probes[spec.key]) == 0:
                continue
            off = registration.estimate_offset(np.asarray(units.geometry.values), pgeoms, probes[spec.key])
            if off.is_offset(scenario.checks.offset_alarm_m):
                problems.append(_offset_message(scenario.parcels.source.label(), "parcels", spec.source.label(),
                                                f"administrative layer {spec.key!r}", off, "parcel edges", "units' boundaries"))
    keys = list(admin)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            coarse, fine = (a, b) if len(admin[a]) <= len(admin[b]) else (b, a)
            if len(probes[coarse]) == 0:
                continue
            off = registration.estimate_offset(np.asarray(admin[coarse].geometry.values), np.asarray(admin[fine].geometry.values),
                                               probes[coarse])
            if off.is_offset(scenario.checks.offset_alarm_m):
                sa = next(x for x in scenario.admin if x.key == fine)
                sb = next(x for x in scenario.admin if x.key == coarse)
                problems.append(_offset_message(sa.source.label(), f"administrative layer {fine!r}", sb.source.label(),
                                                f"administrative layer {coarse!r}", off, f"{fine} boundaries", f"{coarse} boundaries"))
    for msg in problems:
        if scenario.checks.layer_offset == "error":
            raise LayerError(msg)
        report.warn(msg)
    return problems


def _offset_message(a_label: str, a_name: str, b_label: str, b_name: str, off: Any, a_lines: str, b_lines: str) -> str:
    """One message for two layers offset by a constant vector: the vector, the evidence, the likely cause, the fix."""
    d = off.length_m
    if 150.0 <= d <= 300.0:
        cause = ("that is the size of the VN-2000 → WGS 84 datum step (about 226 m at Cần Thơ): one layer's .prj lacks the "
                 "datum shift (TOWGS84), or it was reprojected from VN-2000 as if it were WGS 84")
    elif 400.0 <= d <= 550.0:
        cause = ("that is the size of the difference between UTM zone 48N and VN-2000 TM-3 coordinates (about 475 m at "
                 "Cần Thơ): one layer is in UTM but labelled as VN-2000")
    else:
        cause = "one layer was moved, or is labelled with another CRS than its coordinates are in"
    return (f"{a_label} ({a_name}) and {b_label} ({b_name}) should coincide but are offset by a constant {d:,.1f} m "
            f"({off.dx_m:+,.1f} m east, {off.dy_m:+,.1f} m north, {a_name} relative to {b_name}): moved back by that vector, "
            f"{off.share_moved:.0%} of the {b_lines} sampled run along {a_lines}; as they are, {off.share_as_is:.0%}. Likely "
            f"cause: {cause}. Fix: check each layer's CRS (QGIS: Layer ▸ Properties ▸ Source) and assign the right one "
            f"(Layer ▸ Set CRS, not reproject); to run anyway, set [checks] layer_offset = \"warn\" in the scenario")


def _check_extents_meet(scenario: Scenario, fp: gpd.GeoDataFrame, report: RunReport) -> None:
    """No parcel is under any footprint: an error when the layers do not even share an extent (a CRS
    mistake), otherwise a result to report (the projects lie where the layer has no parcels)."""
    import pyproj

    from . import sources

    ref = scenario.parcels.source
    bounds = sources.total_bounds(ref.path, ref.layer)
    if bounds is None or not np.isfinite(bounds).all():
        raise LayerError(f"{ref.label()}: the layer has no features{' matching the where filter' if ref.where else ''}; "
                         f"check that it is the right file and layer")
    src_crs = sources.layer_crs(ref.path, ref.layer)
    if bounds is not None and src_crs is not None:
        tr = pyproj.Transformer.from_crs(src_crs, scenario.crs, always_xy=True)
        box = shapely.box(*tr.transform_bounds(*bounds))
        if box.intersects(shapely.box(*fp.total_bounds)):
            report.warn("no parcel lies under any project footprint (the footprints are inside the parcel layer's extent, "
                        "where it has no parcels); every table is empty and the exports say so")
            return
    raise LayerError(_no_overlap_message(scenario, fp))


def _no_overlap_message(scenario: Scenario, fp: gpd.GeoDataFrame) -> str:
    """Explain layers that do not overlap, with extents and the VN-2000 datum-shift hint."""
    ref = scenario.parcels.source
    from . import sources

    bounds = sources.total_bounds(ref.path, ref.layer)
    ext = f"; parcels extent {np.round(bounds, 1).tolist()} in its own CRS" if bounds is not None else ""
    fb = np.round(fp.total_bounds, 1).tolist()
    return (
        f"{ref.label()}: no parcel overlaps any project footprint (projects {', '.join(map(str, fp['project']))}; footprints extent {fb} in "
        f"{scenario.crs.to_string()}{ext}). Check that both layers declare the right CRS: a VN-2000 layer whose "
        f".prj lacks the datum shift (TOWGS84) lands about 226 m off; a `where` filter may also exclude every parcel"
    )
