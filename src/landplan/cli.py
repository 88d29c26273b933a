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


_COMMANDS = {"run": _cmd_run, "demo": _cmd_demo, "validate": _cmd_validate, "sample": _cmd_sample, "sort": _cmd_sort}


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
