"""Render the print exports (figures and strip maps) as jobs in worker processes, reporting progress.

Each job draws one figure once and saves it in every format, or a stretch of a project's atlas. Jobs
run in forked worker processes (they inherit the run's results, nothing is copied or pickled) while
the calling process writes the other outputs; where ``fork`` is not available they run in the calling
process. Every finished job is logged as ``exports [k/n] …`` (the CLI shows these lines).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import atlas, cairodraw, exports, printing
from .parallel import workers

if TYPE_CHECKING:
    from .pipeline import Result, ResultView

log = logging.getLogger("landplan")

ExportMode = Literal["none", "figures", "atlas", "all"]
EXPORT_MODES: tuple[str, ...] = ("none", "figures", "atlas", "all")
#: Pages of a long project's atlas drawn as PNG by one job (so two processes share a long corridor; a page
#: takes about 17 ms, a job's set-up about 35 ms). The first job of a project also writes its PDF, so a
#: project's layers are prepared once for both.
PNG_PAGES_PER_JOB = 24


@dataclass(frozen=True)
class Job:
    """One unit of drawing: a figure (``map`` on a paper, ``report``, ``sheet``) or part of an atlas."""

    kind: str
    project: str | None
    paper: str = ""
    formats: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()
    cost: float = 1.0  # rough relative cost, to start the longest first

    def label(self) -> str:
        """What the job writes, for progress messages."""
        target = self.project or "overview"
        if self.kind == "atlas":
            pngs = f"strip_{target}_p{self.pages[0]:03d}…p{self.pages[-1]:03d}.png"
            return f"{atlas.ATLAS_DIR}/" + (f"strip_{target}.pdf, {pngs}" if "pdf" in self.formats else pngs)
        if self.kind == "sheet":
            return f"sheet_{target}.pdf"
        stem = _stem(self)
        return f"{stem}.{'/'.join(self.formats)}"


def _stem(job: Job) -> str:
    target = "overview" if job.project is None else job.project
    if job.kind == "map":
        return f"{'overview' if job.project is None else f'project_{job.project}'}_{job.paper}"
    if job.kind == "report":
        return f"figure_{target}"
    return f"sheet_{target}"


def check_mode(mode: str | bool) -> ExportMode:
    """Normalise ``exports``: a mode name, or True (``all``) / False (``none``); other values raise."""
    if mode is True:
        return "all"
    if mode is False:
        return "none"
    if mode not in EXPORT_MODES:
        raise ValueError(f"exports must be one of {', '.join(EXPORT_MODES)}, got {mode!r}")
    return mode  # type: ignore[return-value]


def plan(result: Result, mode: ExportMode, *, papers: tuple[str, ...] = ("A4", "A3"), formats: tuple[str, ...] = exports.FORMATS,
         pages: dict[str, list[atlas.Page]] | None = None) -> list[Job]:
    """The jobs of an export mode, the costliest first."""
    jobs: list[Job] = []
    projects = [p.id for p in result.scenario.projects]
    if mode in ("figures", "all"):
        for project in [None, *projects]:
            for paper in papers:
                jobs.append(Job("map", project, paper, tuple(formats), cost=2.0 if paper == "A3" else 1.5))
            jobs.append(Job("report", project, "", tuple(formats), cost=1.0))
        for project in projects:
            jobs.append(Job("sheet", project, "A4", ("pdf",), cost=0.6))
    if mode in ("atlas", "all"):
        pages = pages if pages is not None else atlas.atlas_pages(result)
        for project, plist in pages.items():
            numbers = tuple(p.number for p in plist)
            if not numbers:
                continue
            for i in range(0, len(numbers), PNG_PAGES_PER_JOB):  # the first stretch with the PDF of every page
                chunk = numbers[i:i + PNG_PAGES_PER_JOB]
                pdf = (0.12 * len(numbers),) if i == 0 else ()
                jobs.append(Job("atlas", project, "A3", ("pdf", "png") if pdf else ("png",), chunk,
                                cost=sum(pdf) + 0.2 * len(chunk) + 0.3))
    return sorted(jobs, key=lambda j: -j.cost)


@dataclass
class Kept:
    """What one process keeps from job to job: each project's :meth:`Result.view` (for its figures of other
    papers and kinds) and the pixels PNGs are rendered on (:class:`landplan.cairodraw.Canvas`)."""

    views: dict[str | None, ResultView] = field(default_factory=dict)
    canvas: cairodraw.Canvas | None = None
    atlas: dict[Any, Any] = field(default_factory=dict)  # each project's strip-map layers and the pages' pixels

    def view(self, result: Result, project: str | None) -> ResultView:
        """``result.view(project)``, built once."""
        if project not in self.views:
            self.views[project] = result.view(project)
        return self.views[project]


def run_job(result: Result, job: Job, folder: Path, *, lang: str, pages: dict[str, list[atlas.Page]] | None = None,
            kept: Kept | None = None) -> list[Path]:
    """Draw one job into ``folder`` (exports/); return the files written. ``kept``: what this process
    keeps for its next jobs (:class:`Kept`)."""
    kept = kept if kept is not None else Kept()
    view = kept.view(result, job.project)
    if job.kind == "atlas":
        assert job.project is not None
        plist = (pages or atlas.atlas_pages(result))[job.project]
        return atlas.render_project(result, job.project, plist, folder / atlas.ATLAS_DIR, lang=lang,
                                    numbers=list(job.pages), pdf="pdf" in job.formats, png="png" in job.formats,
                                    kept=kept.atlas, view=view)
    if job.kind == "sheet":
        assert job.project is not None
        fig = exports.sheet_figure(result, job.project, lang=lang, view=view)
    elif job.kind == "report":
        fig, _ = exports.report_figure(result, project=job.project, lang=lang, view=view)
    else:
        fig, _ = exports.map_figure(result, project=job.project, lang=lang, paper=job.paper, view=view)
    with printing.drawing():
        return printing.save(fig, folder / _stem(job), job.formats, dpi=exports.DPI, canvas=kept.canvas)


@dataclass
class _Shared:
    """What forked workers inherit (set just before the pool forks)."""

    result: Result | None = None
    folder: Path | None = None
    lang: str = "vi"
    pages: dict[str, list[atlas.Page]] = field(default_factory=dict)
    kept: Kept = field(default_factory=Kept)  # each worker's own, filled as it draws


_SHARED = _Shared()


#: Garbage-collector thresholds in a worker: a figure allocates hundreds of thousands of small objects, and
#: with Python's default (700, 10, 10) the collector ran a full collection every few figures over every
#: object the worker inherited; a worker first freezes what it inherited (:func:`gc.freeze`: never scanned
#: again) and collects its young objects less often. Measured on the realistic scenario's 35 figures: the
#: collector's time 0.66 s → 0.09 s, peak memory unchanged.
WORKER_GC_THRESHOLDS = (20_000, 50, 10)


def _start_worker() -> None:
    """Set up a forked worker process (its own, never the caller's): it ends when the run that forked it
    ends, even killed (Linux ``PR_SET_PDEATHSIG``), so it never draws on into a folder the run has gone
    from; and its garbage collector leaves the inherited objects alone (:data:`WORKER_GC_THRESHOLDS`)."""
    import gc

    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its jobs do
        pass


def warm_up(jobs: list[Job]) -> None:
    """Load once, before the workers fork, what every worker's first job would otherwise load again:
    the drawing modules, the fonts (matplotlib's and fontconfig's) and cairo's font faces. Only caches
    are filled; no setting of the process changes."""

    printing.font_files()
    cairodraw.font_family()
    cairodraw.measurer()
    if any(not j.kind.startswith("atlas") for j in jobs):  # the figures are drawn by matplotlib
        import importlib

        for module in ("matplotlib.figure", "matplotlib.legend", "matplotlib.collections", "matplotlib.patches",
                       "matplotlib.backends.backend_agg", "matplotlib.backends.backend_cairo"):
            importlib.import_module(module)
        with printing.drawing():
            fig = printing.new_figure(20.0, 10.0)
            fig.text(0.1, 0.5, "Đất lúa 1.234,56", fontsize=7)
            fig.text(0.1, 0.2, "Đất lúa 1.234,56", fontsize=7, fontweight="bold")
            cairodraw.record_figure(fig)


def _work(job: Job) -> list[Path]:
    assert _SHARED.result is not None and _SHARED.folder is not None
    return run_job(_SHARED.result, job, _SHARED.folder, lang=_SHARED.lang, pages=_SHARED.pages, kept=_SHARED.kept)


class Exports:
    """Export jobs started in worker processes; :meth:`wait` returns the written files.

    Use as ``with Exports(...) as ex: <write other outputs>; files = ex.wait()``. With ``processes=0``
    (or no ``fork``) the jobs run in :meth:`wait`, in this process.
    """

    def __init__(self, result: Result, jobs: list[Job], folder: Path, *, lang: str, pages: dict[str, list[atlas.Page]] | None = None,
                 processes: int | None = None) -> None:
        self.result, self.jobs, self.folder, self.lang = result, jobs, folder, lang
        self.pages = pages or {}
        self.processes = workers() if processes is None else processes
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[list[Path]]] = []
        self.done = 0
        self.t0 = time.perf_counter()

    def __enter__(self) -> Exports:
        if not self.jobs:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        warm_up(self.jobs)  # once, before the workers fork
        if self.processes > 0 and "fork" in multiprocessing.get_all_start_methods():
            _SHARED.result, _SHARED.folder, _SHARED.lang, _SHARED.pages = self.result, self.folder, self.lang, self.pages
            _SHARED.kept = Kept(canvas=cairodraw.Canvas())
            self.pool = ProcessPoolExecutor(min(self.processes, len(self.jobs)), mp_context=multiprocessing.get_context("fork"),
                                            initializer=_start_worker)
            for job in self.jobs:
                fut = self.pool.submit(_work, job)
                fut.add_done_callback(self._progress(job))
                self.futures.append(fut)
        return self

    def _progress(self, job: Job) -> Callable[[Future[list[Path]]], None]:
        def report(fut: Future[list[Path]]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                return
            self.done += 1
            log.info("exports [%d/%d] %s (%.1f s)", self.done, len(self.jobs), job.label(), time.perf_counter() - self.t0)
        return report

    def wait(self) -> list[Path]:
        """Wait for every job (or run them here); raise the first job's error."""
        written: list[Path] = []
        if self.pool is None:
            kept = Kept(canvas=cairodraw.Canvas())
            for job in self.jobs:
                written += run_job(self.result, job, self.folder, lang=self.lang, pages=self.pages, kept=kept)
                self.done += 1
                log.info("exports [%d/%d] %s (%.1f s)", self.done, len(self.jobs), job.label(), time.perf_counter() - self.t0)
            return written
        for fut in self.futures:
            written += fut.result()
        return written

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        _SHARED.result, _SHARED.folder, _SHARED.pages, _SHARED.kept = None, None, {}, Kept()
