"""The per-partition work as tasks on dask.distributed; the small tables reduced on the client.

The client plans (footprints once, one task per parcel source), the workers measure (each task is
:func:`landplan.scale.engine.measure_partition`: the masked read of its source, the take table,
remnants, the administrative split, in the source's CRS) and send back their small tables, and the
client reduces them with the same code, in the same order, as the local engine
(:func:`landplan.scale.engine.reduce`): the same bytes in every CSV.

Each worker needs landplan installed (the same version as the client) and the data at the same
path as the client sees it: a shared disk, or object storage mounted through a FUSE file system
(s3fs, gcsfuse, fsspec's own mount). dask.distributed is imported only here, on first use.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import PartitionResult, PartitionTask, measure_partition, run_partitioned, warm

if TYPE_CHECKING:
    from ..pipeline import Result
    from ..scenario import Scenario

log = logging.getLogger("landplan")


def run_dask(scenario: Scenario | str | Path, *, scheduler: str | None = None, workers: int | None = None) -> Result:
    """Run ``scenario`` with each parcel source measured as a task on a dask.distributed cluster.

    ``scheduler``: the address of a running scheduler (``tcp://host:8786``, or a scheduler file's
    path); by default a :class:`distributed.LocalCluster` of ``workers`` processes (default: one per
    core), one thread each, is started on this machine for the run and closed after. A parcel
    layer of one source runs as one task. The numbers are those of :func:`landplan.run`.
    """
    from ..pipeline import run as run_local
    from ..scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    with cluster_client(scheduler, workers=workers) as client:
        if not scenario.parcels.partitions:
            log.info("the parcel layer is one source: one task")
            result: Result = client.submit(run_local, scenario, pure=False).result()
            return result
        return run_partitioned(scenario, measure=lambda tasks: measure_on(client, tasks))


def measure_on(client: Any, tasks: list[PartitionTask]) -> list[PartitionResult]:
    """Submit one task per partition, log each as it finishes, return the results in the tasks' order."""
    from distributed import as_completed

    if not tasks:
        return []
    run_id = uuid.uuid4().hex[:8]
    futures = [client.submit(measure_partition, t, key=f"landplan-{run_id}-{k}-{t.name}", pure=False) for k, t in enumerate(tasks)]
    got: dict[str, PartitionResult] = {}
    for done, (fut, r) in enumerate(as_completed(futures, with_results=True), 1):  # an error is raised here, as it is
        got[fut.key] = r
        for w in r.report.warnings:  # said on the worker, where no one reads it: said here too, as one process says it
            log.warning(w)
        log.info("partition %d/%d done: %s (%d pieces, %.1f s on %s:%d)", done, len(tasks), r.name, len(r.pieces),
                 r.stats.seconds, r.stats.host, r.stats.pid)
    return [got[f.key] for f in futures]


@contextlib.contextmanager
def cluster_client(scheduler: str | None = None, *, workers: int | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client` to ``scheduler``, or to a :class:`distributed.LocalCluster` of ``workers``
    processes started here (one thread each; each worker's engine threads (``LANDPLAN_THREADS``) share
    out the cores), closed when the block ends."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency; said plainly if missing
        from ..errors import LandplanError

        raise LandplanError("--engine dask needs dask.distributed: pip install \"dask[distributed]\"") from exc
    if scheduler is not None:
        kwargs = {"scheduler_file": scheduler} if Path(scheduler).suffix == ".json" else {"address": scheduler}
        with Client(**kwargs) as client:
            log.info("dask scheduler %s: %d worker(s)", scheduler, len(client.scheduler_info().get("workers", {})))
            yield client
        return
    from ..parallel import workers as cores

    n = workers or cores()
    threads = max(1, cores() // n)
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL, env={"LANDPLAN_THREADS": str(threads)}) as cluster, Client(cluster) as client:
        client.run(warm)  # each worker loads the engine's libraries now, not in its first task
        log.info("dask LocalCluster: %d worker process(es), %d engine thread(s) each", n, threads)
        yield client

