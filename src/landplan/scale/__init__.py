"""Runs at region scale: a parcel layer in several sources (each in its own CRS), on one machine or on dask.distributed.

* :mod:`~landplan.scale.partitions`: the sources of a partitioned parcel layer (a list in the
  scenario, or a hive-partitioned GeoParquet dataset), each with its own CRS;
* :mod:`~landplan.scale.engine`: each source measured in its own CRS by the single-process engine,
  the small per-partition tables reduced into one :class:`landplan.pipeline.Result`;
* :mod:`~landplan.scale.dask_engine`: the same per-partition work as tasks on dask.distributed;
* :mod:`~landplan.scale.regional`: a deterministic regional synthetic scenario (provinces, each in
  its VN-2000 meridian, as partitioned GeoParquet, and a corridor network crossing them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..pipeline import Result
    from ..scenario import Scenario

Engine = Literal["local", "dask"]
#: The engines a run may use: ``local`` (this process) or ``dask`` (a dask.distributed cluster).
ENGINES: tuple[str, ...] = ("local", "dask")


def run(scenario: Scenario | str | Path, *, engine: Engine = "local", scheduler: str | None = None,
        workers: int | None = None) -> Result:
    """Run ``scenario`` on ``engine``: ``"local"`` is :func:`landplan.run`; ``"dask"`` runs each parcel
    source as a task on dask.distributed (``scheduler``: a scheduler's address, e.g.
    ``"tcp://10.0.0.5:8786"``; by default a :class:`distributed.LocalCluster` of ``workers`` processes
    on this machine). Both give the same numbers (the same bytes in every CSV)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; engines are {', '.join(ENGINES)}")
    if engine == "local":
        if scheduler is not None:
            raise ValueError("a scheduler address is for engine = \"dask\"")
        from ..pipeline import run as run_local

        return run_local(scenario)
    from .dask_engine import run_dask

    return run_dask(scenario, scheduler=scheduler, workers=workers)
