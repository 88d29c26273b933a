"""Runs over partitioned parcels: each source measured in its own CRS by the single-process engine, the small tables reduced.

A run over a parcel layer of several sources (:mod:`landplan.scale.partitions`) is three steps:

1. :func:`plan` (on the client): the footprints are built once in the working CRS, and each
   source that a footprint reaches becomes a :class:`PartitionTask`: the scenario narrowed to that
   source, with the source's own CRS as the working CRS, and the footprints transformed into it
   (densified first, so their edges stay where they are);
2. :func:`measure_partition` (anywhere: this process, or a dask worker): the single-process engine
   (:func:`landplan.pipeline._run`) measures the partition, so each parcel is measured in its
   source's CRS (the take, the remnants, the screening); its frames are brought into the working
   CRS for the map and the GeoPackage, their areas kept as measured;
3. :func:`reduce` (on the client): the per-partition tables (parcel records, summary rows, approvals
   inputs, remnants, slivers) are put together; the all-projects figures, the approvals (bands
   decided on the rounded sum, as in a single run) and the project overlaps are computed once.

Every step is deterministic and the reduction takes the partitions in the plan's order, whatever
order they finish in, so the local and the dask engines write the same bytes.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import approvals as _approvals
from .. import layers, pipeline, tables, takes
from ..arrays import unique
from ..crs import DATUM_SHIFT_ALARM_M, datum_shift_m
from ..errors import LayerError
from ..footprints import polygonal
from ..report import RunReport
from ..scenario import Scenario
from .partitions import Partition, measuring_crs

if TYPE_CHECKING:
    from ..pipeline import Result

log = logging.getLogger("landplan")

#: Footprints are densified to vertices this far apart (m) before they are transformed into a
#: partition's CRS: a straight edge in one TM-3 meridian is a curve in another, bowing by about
#: L² · 2.5e-9 / 8 m over an edge of L m (3 µm for 100 m), far below the tolerance.
DENSIFY_M = 100.0
#: Columns added to the frames and parcel tables of a partitioned run.
PARTITION_COLUMNS = ["partition", "measured_crs"]


@dataclass(frozen=True)
class PartitionStats:
    """What measuring one partition cost: wall time (s), bytes the process read through ``read()``
    (``/proc/self/io`` rchar, socket traffic included; 0 where not available), its peak resident
    memory so far (bytes), and where it ran (host name and process id)."""

    seconds: float
    read_bytes: int
    peak_rss_bytes: int
    host: str
    pid: int


@dataclass(frozen=True)
class PartitionTask:
    """One partition's work: the scenario narrowed to the source (in its measuring CRS, without the
    land-cover raster, which the client measures once), and the footprints in that CRS."""

    name: str
    scenario: Scenario
    footprints: gpd.GeoDataFrame
    working_crs: pyproj.CRS


@dataclass
class PartitionResult:
    """One partition's results, small: tables, and frames in the working CRS (areas as measured in the
    partition's CRS)."""

    name: str
    measured_crs: str
    pieces: gpd.GeoDataFrame
    affected: gpd.GeoDataFrame
    summary: pd.DataFrame
    parcels: pd.DataFrame
    parcel_totals: pd.DataFrame
    parcel_overlaps: pd.DataFrame
    slivers: pd.DataFrame
    remnants: gpd.GeoDataFrame
    project_remnants: gpd.GeoDataFrame
    report: RunReport
    timings_s: dict[str, float]
    stats: PartitionStats


@dataclass
class Plan:
    """What the client prepared: the scenario, the footprints in the working CRS (with the project
    overlaps), one task per source a footprint reaches, the sources none reaches, what was said."""

    scenario: Scenario
    footprints: gpd.GeoDataFrame
    project_overlaps: pd.DataFrame
    tasks: list[PartitionTask]
    skipped: list[str]
    report: RunReport
    stamps: dict[str, tuple[int, int, int]]
    timings_s: dict[str, float] = field(default_factory=dict)


def plan(scenario: Scenario) -> Plan:
    """Build the footprints once (working CRS) and one :class:`PartitionTask` per source whose extent a
    footprint reaches. A source in the working CRS's projection on another datum (the VN-2000 datum
    step left out) is an error naming it."""
    t0 = time.perf_counter()
    stamps = pipeline.input_stamps(scenario)
    report = RunReport()
    fp = pipeline.build_footprints(scenario, report=report)
    overlaps = pipeline.project_overlaps(fp, scenario.tolerance)
    for r in overlaps[~overlaps["noise"]].itertuples():
        report.warn(f"projects {r.project_a} and {r.project_b} overlap by {r.overlap_m2:,.2f} m²; "
                    f"all-projects totals count that land once")
    union = shapely.union_all(np.asarray(fp.geometry.values))
    dense = shapely.segmentize(np.asarray(fp.geometry.values), DENSIFY_M)
    tasks, skipped = [], []
    for part in scenario.parcels.partitions:
        crs = measuring_crs(part, scenario.crs)
        _check_datum(part, scenario.crs)
        extent = _extent(part, scenario.crs)
        if extent is not None and not shapely.intersects(extent, union):
            skipped.append(part.name)
            continue
        # a source in the working CRS gets the footprints themselves, so it measures as a single run does
        geoms = np.asarray(fp.geometry.values) if crs.equals(scenario.crs) else _transform(dense, scenario.crs, crs)
        sub_fp = gpd.GeoDataFrame(fp.drop(columns="geometry"), geometry=list(geoms), crs=crs)
        sub_fp["footprint_m2"] = shapely.area(geoms)
        # the cost estimate is made once, on all the partitions' records together (reduce)
        sub = replace(scenario, crs=crs, landcover=None, costs=None, parcels=replace(scenario.parcels, source=part.source, partitions=()))
        tasks.append(PartitionTask(part.name, sub, sub_fp, scenario.crs))
    if skipped:
        log.info("%d of %d parcel sources lie away from every footprint, not read: %s", len(skipped),
                 len(scenario.parcels.partitions), ", ".join(skipped))
    return Plan(scenario, fp, overlaps, tasks, skipped, report, stamps, {"plan": time.perf_counter() - t0})


def _check_datum(part: Partition, working: pyproj.CRS) -> None:
    """Refuse a source whose CRS has the working CRS's projection on another datum (:func:`landplan.crs.datum_shift_m`)."""
    if part.crs is None:
        return
    b = _bounds(part)
    if b is None:
        return
    shift = datum_shift_m(part.crs, working, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    if shift is not None and shift > DATUM_SHIFT_ALARM_M:
        raise LayerError(
            f"parcel source {part.name} ({part.source.label()}): its CRS has the projection of the working CRS "
            f"{working.to_string()} but the datum {part.crs.datum.name if part.crs.datum else '?'!r}, so its parcels would lie "
            f"{shift:,.0f} m off; if it was digitised in VN-2000, its .prj is wrong: assign the right CRS to the layer "
            f"(QGIS: Layer ▸ Set CRS, not Export/reproject)")


def _bounds(part: Partition) -> tuple[float, float, float, float] | None:
    from .. import sources

    b = sources.total_bounds(part.source.path, part.source.layer)
    return b if b is not None and np.isfinite(b).all() else None


def _extent(part: Partition, working: pyproj.CRS) -> shapely.Geometry | None:
    """The source's extent as a polygon in the working CRS (its edges densified); ``None`` when unknown."""
    b = _bounds(part)
    if b is None or part.crs is None:
        return None
    box = shapely.segmentize(shapely.box(*b), max(b[2] - b[0], b[3] - b[1], 1.0) / 64)
    return _transform(np.array([box], dtype=object), part.crs, working)[0]


def _transform(geoms: np.ndarray, src: pyproj.CRS, dst: pyproj.CRS) -> np.ndarray:
    """``geoms`` from ``src`` to ``dst`` (x, y order), vertex by vertex."""
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return np.asarray(shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))


def _read_bytes() -> int:
    """Bytes this process has passed through ``read()`` and ``pread()`` (Linux ``/proc/self/io`` rchar), 0 elsewhere."""
    try:
        with open("/proc/self/io", encoding="ascii") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _peak_rss_bytes() -> int:
    """This process's peak resident memory so far: ``VmHWM`` (which, unlike ``ru_maxrss``, starts afresh when a
    process is started by exec), else ``ru_maxrss`` (kilobytes on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def warm() -> None:
    """Load the libraries :func:`measure_partition` uses (a new worker process pays this once, before its first task)."""
    import pyarrow.parquet  # noqa: F401
    import pyogrio  # noqa: F401

    from .. import registration, sources  # noqa: F401


def measure_partition(task: PartitionTask) -> PartitionResult:
    """Measure one partition with the single-process engine in the partition's CRS; return its tables,
    and its frames in the working CRS (areas as measured). Runs wherever it is called: this process or a
    dask worker (it needs only the task and the data path)."""
    import socket

    t0, read0 = time.perf_counter(), _read_bytes()
    log.info("partition %s: measuring in %s …", task.name, task.scenario.crs.to_string())
    with pipeline._cycle_collector_paused():
        res = pipeline._run(task.scenario, footprints=task.footprints)
    measured = task.scenario.crs.to_string()
    tag = {"partition": task.name, "measured_crs": measured}

    def working(gdf: gpd.GeoDataFrame, tagged: bool = True) -> gpd.GeoDataFrame:
        out = gdf.to_crs(task.working_crs) if len(gdf) else gdf.set_crs(task.working_crs, allow_override=True)
        if len(out) and not task.scenario.crs.equals(task.working_crs):
            # a thin part can fold onto itself as it moves into another projection: mended, for drawing and for the
            # raster (the areas in the tables are those measured in the partition's CRS)
            geoms = np.asarray(out.geometry.values)
            bad = np.flatnonzero(~shapely.is_valid(geoms))
            if len(bad):
                geoms = geoms.copy()
                geoms[bad] = polygonal(shapely.make_valid(geoms[bad]))
                out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        return out.assign(**tag) if tagged else out

    pieces = working(res.pieces)
    affected = working(res.affected, tagged=False)  # its record (parcel_totals) says where it was measured
    stats = PartitionStats(time.perf_counter() - t0, _read_bytes() - read0, _peak_rss_bytes(), socket.gethostname(), os.getpid())
    return PartitionResult(
        name=task.name, measured_crs=measured, pieces=pieces, affected=affected,
        summary=res.summary, parcels=res.parcels.assign(**tag), parcel_totals=res.parcel_totals.assign(**tag),
        parcel_overlaps=res.parcel_overlaps, slivers=res.slivers[res.slivers["kind"] != "project_overlap"].reset_index(drop=True),
        remnants=working(res.remnants), project_remnants=working(res.project_remnants),
        report=res.report, timings_s=res.timings_s, stats=stats,
    )


def run_partitioned(scenario: Scenario, *, measure: Callable[[list[PartitionTask]], list[PartitionResult]] | None = None) -> Result:
    """Run a scenario whose parcel layer has several sources: :func:`plan`, then ``measure`` the tasks
    (by default one after the other in this process; :func:`landplan.scale.dask_engine.run_dask` passes
    a dask cluster's), then :func:`reduce`."""
    with pipeline._cycle_collector_paused():
        p = plan(scenario)
    parts = (measure or _measure_here)(p.tasks)
    with pipeline._cycle_collector_paused():
        return reduce(p, parts)


def _measure_here(tasks: list[PartitionTask]) -> list[PartitionResult]:
    out = []
    for k, t in enumerate(tasks, 1):
        log.info("partition %d/%d: %s", k, len(tasks), t.name)
        out.append(measure_partition(t))
    return out


def reduce(p: Plan, parts: Sequence[PartitionResult]) -> Result:
    """One :class:`landplan.pipeline.Result` from the partitions' results (taken in the plan's order).

    The per-parcel records, summary rows and remnants are the partitions' own (parcels are disjoint
    across sources: a parcel in two, or parcels of two sources that overlap, is an error naming them);
    the all-projects totals, the approvals (bands decided on the rounded sum of every partition's rice,
    as a single run decides them), the project overlaps and the land of each footprint in no parcel
    are computed once here, from the footprints in the working CRS.
    """
    t0 = time.perf_counter()
    sc, fp, tol = p.scenario, p.footprints, p.scenario.tolerance
    order = {t.name: k for k, t in enumerate(p.tasks)}
    parts = sorted(parts, key=lambda r: order[r.name])
    check_disjoint([(r.name, r.affected) for r in parts], tol)
    report = _merged_report(p.report, [r.report for r in parts])
    crs = sc.crs

    def frames(name: str, *, sort: list[str] | None = None) -> gpd.GeoDataFrame:
        got = [getattr(r, name) for r in parts]
        got = [g for g in got if len(g)] or got[:1]
        if not got:
            return gpd.GeoDataFrame(geometry=[], crs=crs)
        out = gpd.GeoDataFrame(pd.concat(got, ignore_index=True), geometry="geometry", crs=crs)
        return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out

    def plain(name: str) -> pd.DataFrame:
        got = [getattr(r, name) for r in parts]
        got = [g for g in got if len(g)] or got[:1]
        return pd.concat(got, ignore_index=True) if got else pd.DataFrame()

    pieces = frames("pieces")
    affected = frames("affected")
    if len(pieces):  # each piece's parcel as a row of ``affected`` (a partition's rows counted its own parcels read)
        pieces["parcel_row"] = pd.Index(affected["parcel_id"]).get_indexer(pieces["parcel_id"])
    ptable = plain("parcels")
    if len(ptable):
        ptable = ptable.iloc[np.lexsort((ptable["parcel_id"].to_numpy(dtype=str), ptable["project"].to_numpy(dtype=str)))]
    ptable = ptable.reset_index(drop=True)
    ttable = plain("parcel_totals")
    if len(ttable):
        ttable = ttable.sort_values("parcel_id", kind="stable").reset_index(drop=True)
    split = plain("summary")
    summary = tables.summary(split) if len(split) else tables.summary(pd.DataFrame(columns=["project", "admin_layer", "admin_unit",
                                                                                               "landuse", "area_m2"]))
    if pieces.empty:
        pieces = _empty_pieces(crs)
        ttable = ttable if len(ttable) else pd.DataFrame({"landuse": pd.Series(dtype=object), "take_m2": pd.Series(dtype=float)})
    totals = tables.totals(ttable, pieces)
    sl = plain("slivers")
    noise = sl[sl["kind"] == "take"] if len(sl) else pd.DataFrame(columns=["project", "area_m2"])
    appr = _approvals.approvals(pieces, sc.projects, fp, sc.rules, tolerance=tol, noise=noise)
    # land of a footprint in no parcel: measured in the working CRS, as the footprint is (the takes, measured
    # in their sources' CRSs, differ from their working-CRS areas by those CRSs' scales)
    areas = pd.DataFrame({"project": pieces["project"].to_numpy(), "m2": shapely.area(np.asarray(pieces.geometry.values))})
    in_working = areas.groupby("project")["m2"].sum()
    noise_of = noise.groupby("project")["area_m2"].sum() if len(noise) else pd.Series(dtype="float64")
    appr["not_in_parcels_m2"] = np.maximum(appr["footprint_m2"].to_numpy(dtype=float) - appr["project"].map(in_working).fillna(0.0).to_numpy()
                                           - appr["project"].map(noise_of).fillna(0.0).to_numpy(), 0.0)
    for pid, gap, whole in zip(appr["project"], appr["not_in_parcels_m2"].to_numpy(dtype=float), appr["footprint_m2"].to_numpy(dtype=float)):
        if not tol.is_noise_area(np.array([gap]))[0]:
            report.warn(pipeline._gap_message(sc, fp, str(pid), gap, whole))
    if pieces.empty:
        _nothing_under(p)
    admin = {a.key: takes.resolve_admin_overlaps(layers.read_admin(a, crs, mask=None, report=RunReport(quiet=True)),
                                                 admin_layer=a.key, report=RunReport(quiet=True), tolerance=tol) for a in sc.admin}
    slivers = _slivers(sl, p.project_overlaps)
    landcover = compare = None
    if sc.landcover is not None:
        from .. import raster

        landcover, compare, piece_rice = raster.landcover_tables(sc.landcover, fp, admin, pieces, appr, crs=crs, warn=report.warn,
                                                                 tolerance=tol)
        ptable = pipeline.with_raster_rice(ptable, piece_rice)
    timings = dict(p.timings_s)
    for r in parts:
        for k, v in r.timings_s.items():
            timings[k] = timings.get(k, 0.0) + v
    for r in parts:
        timings[f"partition {r.name}"] = r.stats.seconds
    timings["reduce"] = time.perf_counter() - t0
    overlaps = p.project_overlaps[~p.project_overlaps["noise"]].drop(columns="noise").reset_index(drop=True)
    log.info("measured %d pieces of %d parcels for %d projects in %d partitions", len(pieces), len(affected), len(fp), len(parts))
    result = pipeline.Result(
        scenario=sc, footprints=fp, pieces=pieces, affected=affected, admin=admin, summary=summary, totals=totals,
        parcels=ptable, approvals=appr, project_overlaps=overlaps, parcel_overlaps=plain("parcel_overlaps"), report=report,
        timings_s=timings, landcover=landcover, landcover_compare=compare, parcel_totals=ttable,
        remnants=frames("remnants", sort=["parcel_id", "piece"]), project_remnants=frames("project_remnants", sort=["project", "parcel_id", "piece"]),
        slivers=slivers, inputs_read=p.stamps,
    )
    if sc.costs is not None:  # the estimate on the partitions' records together: households across sources (landplan.rules)
        from ..rules import compensation

        t1 = time.perf_counter()
        compensation.attach(result, report=report)
        timings["costs"] = time.perf_counter() - t1
    return result


def _empty_pieces(crs: pyproj.CRS) -> gpd.GeoDataFrame:
    cols: dict[str, str] = {"project": "object", "parcel_id": "object", "landuse": "object", "take_m2": "float64",
                            "take_ellipsoidal_m2": "float64", "parcel_row": "int64", "footprint_row": "int64", "partition": "object", "measured_crs": "object"}
    return gpd.GeoDataFrame({k: pd.Series(dtype=v) for k, v in cols.items()}, geometry=[], crs=crs)


def _nothing_under(p: Plan) -> None:
    """No parcel of any source lies under a footprint: an error when no source even reaches the
    footprints (a CRS mistake, or the wrong dataset), otherwise a result to report."""
    if not p.tasks:
        names = ", ".join(p.skipped)
        raise LayerError(f"parcels: no source reaches any project footprint (sources {names}; footprints extent "
                         f"{np.round(p.footprints.total_bounds, 1).tolist()} in {p.scenario.crs.to_string()}). Check that each source "
                         f"declares the right CRS and that the projects lie in the region the dataset covers")
    p.report.warn("no parcel lies under any project footprint (the footprints reach the sources' extents, where they have no "
                  "parcels); every table is empty and the exports say so")


def _slivers(partition_slivers: pd.DataFrame, project_overlaps: pd.DataFrame) -> pd.DataFrame:
    """The partitions' slivers by kind (take, remnant, parcel overlap: as a single run lists them), then the
    overlaps between projects that are noise (measured once, in the working CRS)."""
    fo = project_overlaps[project_overlaps["noise"]]
    parts = [partition_slivers[partition_slivers["kind"] == k] for k in ("take", "remnant", "parcel_overlap")] if len(partition_slivers) else []
    parts.append(pd.DataFrame({"kind": "project_overlap", "project": fo["project_a"], "parcel_id": "", "other": fo["project_b"],
                               "area_m2": fo["overlap_m2"]}))
    parts = [x for x in parts if len(x)]
    if not parts:
        return pd.DataFrame(columns=pipeline.SLIVER_COLUMNS)
    return pd.concat(parts, ignore_index=True)[pipeline.SLIVER_COLUMNS]


def _merged_report(client: RunReport, partitions: Sequence[RunReport]) -> RunReport:
    """The client's report, then each partition's, each warning, repair and feature set aside once (every
    partition reads the administrative layers, and says the same of them)."""
    out = RunReport(quiet=True)
    for r in (client, *partitions):
        for w in r.warnings:
            if w not in out.warnings:
                out.warnings.append(w)
        for rep in r.repairs:
            if rep not in out.repairs:
                out.repairs.append(rep)
        for a in r.set_aside:
            if a not in out.set_aside:
                out.set_aside.append(a)
    out.quiet = False
    return out


def check_disjoint(frames: Sequence[tuple[str, gpd.GeoDataFrame]], tolerance: object) -> None:
    """Refuse parcels that belong to two sources: one id in two sources, or parcels of two sources whose
    interiors overlap by more than noise (``frames``: each source's name and its parcels, in one CRS).
    Raises :class:`LayerError` naming the parcels and the sources."""
    from ..tolerance import Tolerance

    assert isinstance(tolerance, Tolerance)
    frames = [(n, f) for n, f in frames if len(f)]
    if len(frames) < 2:
        return
    ids = np.concatenate([f["parcel_id"].to_numpy(dtype=object) for _, f in frames])
    src = np.concatenate([np.full(len(f), k) for k, (_, f) in enumerate(frames)])
    names = [n for n, _ in frames]
    df = pd.DataFrame({"id": ids, "src": src}).drop_duplicates()
    twice = df[df["id"].duplicated(keep=False)]
    if len(twice):
        shown = "; ".join(f"{i} in {' and '.join(names[s] for s in g['src'])}" for i, g in list(twice.groupby("id", sort=True))[:5])
        raise LayerError(f"parcels: {twice['id'].nunique()} parcel id(s) are in two sources ({shown}{' …' if twice['id'].nunique() > 5 else ''}): "
                         f"the layer's features straddle two sources (two meridians' cadastres both holding a parcel of the border, "
                         f"or ids that repeat across provinces); keep each parcel in one source, and make ids unique across sources "
                         f"(e.g. prefix the province code)")
    geoms = np.concatenate([np.asarray(f.geometry.values) for _, f in frames])
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = (a < b) & (src[a] != src[b])
    a, b = a[keep], b[keep]
    if len(a):
        real = shapely.relate_pattern(geoms[a], geoms[b], "T********")
        a, b = a[real], b[real]
    if len(a):
        inter = shapely.intersection(geoms[a], geoms[b])
        big = ~tolerance.is_noise(inter)
        a, b, area = a[big], b[big], shapely.area(inter[big])
        if len(a):
            shown = "; ".join(f"{ids[i]} ({names[src[i]]}) and {ids[j]} ({names[src[j]]}): {m:,.2f} m²"
                              for i, j, m in list(zip(a, b, area))[:5])
            raise LayerError(f"parcels: {len(a)} parcel(s) of one source overlap parcels of another ({shown}{' …' if len(a) > 5 else ''}): "
                             f"the layer's features straddle two sources (two meridians' cadastres both drawing the land of the "
                             f"border); keep each parcel in one source")


def check_partitioned(scenario: Scenario) -> RunReport:
    """Every check a partitioned run makes before measuring (``landplan validate``): each source's checks,
    as :func:`landplan.pipeline.check` makes them, in the source's CRS, and parcels in two sources."""
    with pipeline._cycle_collector_paused():
        p = plan(scenario)
        reports, read = [p.report], []
        for t in p.tasks:
            r = RunReport()
            inputs = pipeline._prepare(t.scenario, r, pipeline._Steps(2), footprints=t.footprints)
            parcels = inputs.parcels[~inputs.parcels["neighbour"].to_numpy(dtype=bool)]
            tiles = inputs.tiles[0]
            if len(parcels) and len(tiles):  # the parcels whose interior meets a footprint: those a run measures
                g = np.asarray(parcels.geometry.values)
                qi, ti = shapely.STRtree(tiles).query(g, predicate="intersects")
                parcels = parcels.iloc[unique(qi[shapely.relate_pattern(g[qi], tiles[ti], "T********")])]
            read.append((t.name, parcels.to_crs(scenario.crs) if len(parcels) else parcels))
            reports.append(r)
        check_disjoint(read, scenario.tolerance)
        if scenario.costs is not None and p.tasks:  # the tables' units against the admin layer (names: any source's read), the roads
            from ..rules.compensation import check_inputs

            check_inputs(scenario, inputs.admin)
        if scenario.landcover is not None:
            from ..raster import check_raster

            check_raster(scenario.landcover, p.footprints, crs=scenario.crs, pixels=True)
        if not p.tasks:
            _nothing_under(p)
    return _merged_report(reports[0], reports[1:])

