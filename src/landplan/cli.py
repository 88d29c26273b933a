"""The command line: each command turns options into one library call and reports the result."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import landplan

from .errors import LandplanError

EXIT_OK, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 130

_DESCRIPTION = """\
landplan: land acquisition for road corridors and the agricultural hub in Cần Thơ.
Which land each project takes, how much is rice land, in which districts and wards,
whose parcels, what remains of each parcel, and who must approve it.

  landplan demo                     run the built-in Cần Thơ sample (writes ./landplan-demo)
  landplan validate SCENARIO.toml   every check a run makes before measuring (layers, CRS, offsets), changes nothing
  landplan sort PARCELS PARCELS_sorted.parquet
                                    a GeoParquet copy in spatial order (runs then read only what they need)
  landplan run SCENARIO.toml --out DIR
                                    measure and write summary.csv, totals.csv, parcels.csv,
                                    approvals.csv, landplan.gpkg, map.html, manifest.json
  landplan run SCENARIO.toml --out DIR --engine dask [--scheduler ADDRESS]
                                    the same, each parcel source measured on dask.distributed
  landplan compare SCENARIO.toml --alternatives ALT.toml --out DIR
                                    alternatives of a project measured side by side (table, chart, map)
  landplan route SCENARIO.toml --project ID --out DIR
                                    alignments that take the least rice land, each measured exactly
  landplan site SCENARIO.toml --within ward="Xã Giai Xuân" --area-ha 250 --out DIR
                                    where a hub takes the least rice land near a road, measured exactly
"""


class _Progress(logging.Handler):
    """Prints each step on stderr with the time since the start."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.t0 = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "  cảnh báo / warning: " if record.levelno >= logging.WARNING else ""
        print(f"[{time.perf_counter() - self.t0:6.1f} s] {prefix}{record.getMessage()}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="landplan", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"landplan {landplan.__version__}")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages or warnings (errors and the result table still print)")
    p.add_argument("--debug", action="store_true", help="show a full traceback on unexpected errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    out_opts = argparse.ArgumentParser(add_help=False)
    out_opts.add_argument("--overwrite", action="store_true",
                          help="replace landplan's own files in an output folder that is not empty")
    out_opts.add_argument("--lang", choices=["vi", "en"], default=None,
                          help="language of the map (default: the scenario's, Vietnamese)")
    out_opts.add_argument("--project-maps", action="store_true",
                          help="also write maps/map_<project>.html, one map per project")
    out_opts.add_argument("--exports", choices=["none", "figures", "atlas", "all"], default="all",
                          help="print exports in exports/: figures (print maps and report figures in PNG, SVG and PDF, "
                               "project sheets), atlas (strip maps along each corridor: a PDF per project, a PNG per page), "
                               "all (default) or none")
    out_opts.add_argument("--no-exports", dest="exports", action="store_const", const="none",
                          help="the same as --exports none")
    out_opts.add_argument("--paper", choices=["A4", "A3", "both"], default="both",
                          help="paper size of the print maps (landscape; default: both)")
    out_opts.add_argument("--self-contained", action="store_true",
                          help="a map.html that needs no internet at all: plain background instead of OpenStreetMap tiles")
    out_opts.add_argument("--public", action="store_true",
                          help="maps to share: owners' names and other personal columns left out of map.html entirely")

    r = sub.add_parser("run", parents=[out_opts], help="run a scenario and write its outputs",
                       description="Measure the land each project in SCENARIO takes and write every output into DIR.")
    r.add_argument("scenario", type=Path, help="scenario file (.toml)")
    r.add_argument("--out", "-o", type=Path, required=True, help="output folder (created if missing)")
    r.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local (default): this process; dask: each parcel source measured as a task on dask.distributed, "
                        "the same numbers (see README: Region-wide runs)")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="with --engine dask: a running scheduler (tcp://host:8786, or a scheduler file .json); "
                        "default: a LocalCluster of worker processes on this machine")
    r.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --engine dask and no --scheduler: worker processes of the LocalCluster (default: one per core)")

    d = sub.add_parser("demo", parents=[out_opts], help="run the built-in Cần Thơ sample",
                       description="Generate the synthetic Cần Thơ sample (once, cached) and run it.")
    d.add_argument("--out", "-o", type=Path, default=Path("landplan-demo"), help="output folder (default: ./landplan-demo)")

    v = sub.add_parser("validate", help="run every check a run makes before measuring; change nothing",
                       description="Report every problem in SCENARIO at once; exit 0 when it is ready to run.")
    v.add_argument("scenario", type=Path, help="scenario file (.toml)")

    plan_opts = argparse.ArgumentParser(add_help=False)
    plan_opts.add_argument("scenario", type=Path, help="scenario file (.toml)")
    plan_opts.add_argument("--out", "-o", type=Path, required=True, help="output folder (created if missing)")
    plan_opts.add_argument("--overwrite", action="store_true", help="replace landplan's own files in an output folder that is not empty")
    plan_opts.add_argument("--lang", choices=["vi", "en"], default=None, help="language of the table, chart and map (default: the scenario's)")
    plan_opts.add_argument("--self-contained", action="store_true", help="a map that needs no internet at all (plain background only)")

    c = sub.add_parser("compare", parents=[plan_opts], help="measure alternatives of a project side by side",
                       description="Measure each alternative in ALT.toml with the engine and write alternatives.csv, "
                                   "alternatives.xlsx, alternatives_chart.png/svg/pdf, alternatives_map.html and a scenario "
                                   "file per alternative (scenarios/) into DIR.")
    c.add_argument("--alternatives", "-a", type=Path, required=True, help="alternatives file (.toml; see the README)")

    ro = sub.add_parser("route", parents=[plan_opts], help="alignments that take the least rice land",
                        description="Search least-impact alignments between two end points on a cost surface made from the "
                                    "parcels, smooth them to a minimum curve radius, and measure each exactly like any project. "
                                    "Coordinates X,Y are in the scenario's working CRS (metres).")
    ro.add_argument("--project", help="a centreline project: its end points and width, measured first for comparison")
    ro.add_argument("--from", dest="start", type=_xy, help="start point X,Y")
    ro.add_argument("--to", dest="end", type=_xy, help="end point X,Y")
    ro.add_argument("--via", type=_xy, action="append", default=[], help="a via point X,Y (repeatable, in order)")
    ro.add_argument("--width", type=float, help="full right-of-way width (m; default: the project's)")
    ro.add_argument("--max-length-ratio", type=float, default=1.15, help="longest route as a multiple of the straight line (default 1.15; 0: none)")
    ro.add_argument("--length-penalty", type=float, default=None, help="m² of land a metre of extra length is worth (marks the best candidate)")
    ro.add_argument("--min-radius", type=float, default=0.0, help="smallest curve radius (m; default 0)")
    ro.add_argument("--resolution", type=float, default=10.0, help="cell of the cost surface (m; default 10)")
    ro.add_argument("--candidates", type=int, default=5, help="routes to measure (default 5)")
    ro.add_argument("--max-residential-share", type=float, default=0.25,
                    help="impassable where the right-of-way would be more than this share residential (default 0.25)")
    ro.add_argument("--avoid", action="append", default=[], metavar="FILE[:LAYER]", help="features to keep away from (repeatable)")
    ro.add_argument("--avoid-where", default=None, help="attribute filter of the --avoid layers (e.g. \"name = 'Chùa'\")")
    ro.add_argument("--avoid-buffer", type=float, default=0.0, help="clearance from the --avoid features to the corridor's edge (m)")

    si = sub.add_parser("site", parents=[plan_opts], help="where a hub takes the least rice land near a road",
                        description="Evaluate every placement of a hub inside the named units on a grid, keep the Pareto front "
                                    "of rice land vs distance to the road, and measure the best placements exactly.")
    si.add_argument("--within", required=True, metavar="KEY=NAME[;NAME…]",
                    help="the search area: named units of an administrative layer (the hub stays inside them)")
    si.add_argument("--area-ha", type=float, default=250.0, help="the hub's area (ha; default 250)")
    si.add_argument("--aspect", type=float, default=1.5, help="length ÷ depth of the rectangle (default 1.5)")
    si.add_argument("--shape", type=Path, default=None, help="a polygon file whose (first) polygon is the hub's shape, instead of a rectangle")
    si.add_argument("--orientations", default="0,45,90,135", help="turns tried, degrees (default 0,45,90,135)")
    si.add_argument("--road-project", default=None, help="the project whose centreline is the road to be near")
    si.add_argument("--project", default=None, help="the scenario's own hub, measured first for comparison")
    si.add_argument("--clearance", type=float, default=0.0, help="distance the hub keeps from the road (m; e.g. half its right-of-way)")
    si.add_argument("--max-residential-share", type=float, default=0.05, help="largest share of residential land (default 0.05)")
    si.add_argument("--resolution", type=float, default=10.0, help="grid cell (m; default 10)")
    si.add_argument("--candidates", type=int, default=4, help="placements to measure (default 4)")

    s = sub.add_parser("sample", help="write the synthetic Cần Thơ sample layers",
                       description="Write can_tho_sample.gpkg (deterministic: same seed, same bytes) into DIR.")
    s.add_argument("--out", "-o", type=Path, default=Path("layers"), help="folder for the layers (default: ./layers)")
    o = sub.add_parser("sort", help="write a parcel layer as GeoParquet in spatial order, for fast reads",
                       description="Write SOURCE (any vector layer) to TARGET as GeoParquet in Hilbert order with a bbox "
                                   "covering column and small row groups, so that a run reads only the row groups near "
                                   "its projects. SOURCE is not changed.")
    o.add_argument("source", type=Path, help="the layer's file (GeoParquet, GeoPackage, shapefile, ...)")
    o.add_argument("target", type=Path, help="the sorted copy (.parquet); written whole or not at all")
    o.add_argument("--layer", help="the layer, when SOURCE holds several")
    o.add_argument("--row-group-size", type=int, default=10_000, help="rows per row group (default: 10000)")
    return p


def _xy(text: str) -> tuple[float, float]:
    """``X,Y`` → a point (working CRS, m)."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in metres of the working CRS, got {text!r}") from None
    return x, y


def _cache_dir() -> Path:
    base = os.environ.get("LANDPLAN_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "landplan")
    return Path(base) / f"sample-{landplan.__version__}"


def _run_and_write(args: argparse.Namespace, scenario: Path) -> int:
    """Check and hold the output folder first (a read-only or busy folder is said before anything is
    measured), then run and write."""
    from .outfolder import output_folder
    from .pipeline import run
    from .scenario import load_scenario

    sc = load_scenario(scenario)
    engine = getattr(args, "engine", "local")
    if engine != "dask" and (getattr(args, "scheduler", None) or getattr(args, "workers", None)):
        raise LandplanError("--scheduler and --workers are for --engine dask")
    if getattr(args, "workers", None) is not None and args.workers < 1:
        raise LandplanError(f"--workers must be at least 1, got {args.workers}")
    with output_folder(args.out, overwrite=args.overwrite, inputs=sc.input_files()) as folder:
        if engine == "dask":
            from .scale.dask_engine import run_dask

            result = run_dask(sc, scheduler=args.scheduler, workers=args.workers)
        else:
            result = run(sc)
        out = result.write(folder.path, overwrite=args.overwrite, lang=args.lang, self_contained=args.self_contained,
                           project_maps=args.project_maps, exports=args.exports, public=args.public,
                           papers=("A4", "A3") if args.paper == "both" else (args.paper,), folder=folder)
    _report(result, out)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    return _run_and_write(args, args.scenario)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .sample import SAMPLE_GPKG, write_sample_scenario

    cache = _cache_dir()
    scenario = cache / "can_tho_sample.toml"
    if not (scenario.exists() and (cache / SAMPLE_GPKG).exists()):
        logging.getLogger("landplan").info("generating the Cần Thơ sample in %s …", cache)
        scenario = write_sample_scenario(cache)
    return _run_and_write(args, scenario)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .pipeline import check
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    report = check(sc)  # every check a run makes before measuring: raises what a run would raise
    warned = f", {len(report.warnings)} warning(s) above" if report.warnings else ""
    print(f"{args.scenario}: OK — {len(sc.projects)} project(s), {len(sc.admin)} administrative layer(s), "
          f"CRS {sc.crs.to_string()}{warned}")
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from .sample import write_sample

    path = write_sample(args.out)
    print(f"wrote {path}")
    return EXIT_OK


def _cmd_sort(args: argparse.Namespace) -> int:
    from .prepare import sort_layer

    path = sort_layer(args.source, args.target, layer=args.layer, row_group_size=args.row_group_size)
    print(f"wrote {path}")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from .outfolder import output_folder
    from .planning.alternatives import compare
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    with output_folder(args.out, overwrite=args.overwrite, inputs=sc.input_files()) as folder:
        comparison = compare(sc, args.alternatives)
        out = comparison.write(folder.path, overwrite=args.overwrite, lang=args.lang, self_contained=args.self_contained, folder=folder)
    _report_planning(comparison.table, out, args.lang or comparison.scenario.lang)
    return EXIT_OK


def _cmd_route(args: argparse.Namespace) -> int:
    from .planning.routing import AvoidSpec, RouteError, RouteSettings, project_ends, route
    from .scenario import LayerRef, load_scenario

    sc = load_scenario(args.scenario)
    points = None
    if args.start is not None or args.end is not None:
        if args.start is None or args.end is None:
            raise RouteError("give both --from and --to (or neither, with --project)")
        points = [args.start, *args.via, args.end]
    elif args.via and args.project:
        ends, _ = project_ends(sc, args.project)
        points = [ends[0], *args.via, ends[1]]
    width = args.width
    if width is None:
        if args.project is None:
            raise RouteError("give the right-of-way width (--width) or a centreline project (--project)")
        width = project_ends(sc, args.project)[1]
    avoid = []
    for spec in args.avoid:
        path_s, _, layer = spec.partition(":")
        path = Path(path_s).resolve()
        if not path.exists():
            raise RouteError(f"--avoid: file {path} does not exist")
        from .sources import list_layers

        avoid.append(AvoidSpec(LayerRef(path, layer or list_layers(path)[0], args.avoid_where), args.avoid_buffer))
    settings = RouteSettings(width_m=width, max_length_ratio=args.max_length_ratio or None, length_penalty=args.length_penalty,
                             min_radius_m=args.min_radius, resolution_m=args.resolution, candidates=args.candidates,
                             max_residential_share=args.max_residential_share, avoid=tuple(avoid))
    from .outfolder import output_folder

    with output_folder(args.out, overwrite=args.overwrite, inputs=sc.input_files()) as folder:
        comparison = route(sc, points, settings=settings, project=args.project)
        out = comparison.write(folder.path, overwrite=args.overwrite, lang=args.lang, self_contained=args.self_contained, folder=folder)
    _report_planning(comparison.table, out, args.lang or sc.lang)
    return EXIT_OK


def _cmd_site(args: argparse.Namespace) -> int:
    from .planning.siting import SiteError, SiteSettings, site, units_area
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    key, eq, names = args.within.partition("=")
    if not eq or not names.strip():
        raise SiteError(f"--within: expected KEY=NAME[;NAME…] (an administrative layer's key and unit names), got {args.within!r}")
    area = units_area(sc, key.strip(), [n for n in names.split(";") if n.strip()])
    try:
        orientations = tuple(float(v) for v in args.orientations.split(","))
    except ValueError:
        raise SiteError(f"--orientations: expected degrees separated by commas, got {args.orientations!r}") from None
    shape = None
    if args.shape is not None:
        import geopandas as gpd

        from .errors import InputFileError

        if not args.shape.exists():
            raise InputFileError(f"--shape: file {args.shape} does not exist")
        shape = gpd.read_file(args.shape).to_crs(sc.crs).geometry.iloc[0]
    settings = SiteSettings(area_m2=args.area_ha * 10_000.0, aspect=args.aspect, shape=shape, orientations_deg=orientations,
                            resolution_m=args.resolution, max_residential_share=args.max_residential_share,
                            clearance_m=args.clearance, candidates=args.candidates)
    from .outfolder import output_folder

    with output_folder(args.out, overwrite=args.overwrite, inputs=sc.input_files()) as folder:
        comparison = site(sc, area, settings=settings, road_project=args.road_project, project=args.project)
        out = comparison.write(folder.path, overwrite=args.overwrite, lang=args.lang, self_contained=args.self_contained, folder=folder)
    _report_planning(comparison.table, out, args.lang or sc.lang)
    return EXIT_OK


def _report_planning(table: object, out: Path, lang: str) -> None:
    """One line per alternative: rice land, length or distance, parcels."""
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    vi = lang == "vi"
    print(f"{'Phương án' if vi else 'Alternative':<28} {'đất lúa (ha)' if vi else 'rice (ha)':>12} {'dài (m)' if vi else 'length (m)':>10} "
          f"{'cách đường (m)' if vi else 'to road (m)':>14} {'số thửa' if vi else 'parcels':>8}")
    dist = table["distance_road_m"] if "distance_road_m" in table else [float("nan")] * len(table)
    for alt, rice, length, d, n in zip(table["alternative"], table["rice_ha"], table["length_m"], dist, table["parcels_affected"]):
        ln = "" if length != length else f"{length:,.0f}"
        ds = "" if d != d else f"{d:,.0f}"
        print(f"{alt:<28} {rice:>12.2f} {ln:>10} {ds:>14} {n:>8}")
    print(f"outputs in {out}/ (map: {out / 'alternatives_map.html'})")


def _report(result: object, out: Path) -> None:
    from .pipeline import Result

    assert isinstance(result, Result)
    lang = result.scenario.lang
    print(f"{'Dự án' if lang == 'vi' else 'Project':<28} {'đất lúa (ha)' if lang == 'vi' else 'rice (ha)':>12} "
          f"{'khai báo' if lang == 'vi' else 'declared':>9}  {'thẩm quyền' if lang == 'vi' else 'approval'}")
    a = result.approvals
    for pid, rice, decl, auth in zip(a["project"], a["rice_ha"].to_numpy(float), a["declared_rice_ha"].to_numpy(float), a["approval_authority"]):
        declared = "" if decl != decl else f"{decl:.2f}"
        print(f"{pid:<28} {rice:>12.2f} {declared:>9}  {auth}")
    print(f"outputs in {out}/ (map: {out / 'map.html'})")


_COMMANDS = {"run": _cmd_run, "demo": _cmd_demo, "validate": _cmd_validate, "sample": _cmd_sample, "sort": _cmd_sort, "compare": _cmd_compare,
             "route": _cmd_route, "site": _cmd_site}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``landplan`` command; returns the exit code (130 when interrupted, at any moment)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # during start-up or while reporting: still one line, no traceback
        return _interrupted()


def _interrupted() -> int:
    """One line for Ctrl-C. Work cut short (a half-written workbook's generator, say) is finalised as the
    process ends, and Python would print each such object's traceback: the command is ending on the
    user's request, so those are not shown."""
    sys.unraisablehook = lambda unraisable: None
    print("landplan: interrupted; no partial outputs were left", file=sys.stderr)
    return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_ERROR
    logger = logging.getLogger("landplan")
    handler = _Progress()
    if not args.quiet:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        return _COMMANDS[args.command](args)
    except LandplanError as exc:
        print(f"landplan: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if args.debug:
            raise
        print(f"landplan: internal error: {type(exc).__name__}: {exc} (run again with --debug and report it)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
