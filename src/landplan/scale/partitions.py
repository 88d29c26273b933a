"""The sources of a partitioned parcel layer, each with its own CRS: a list in the scenario or a hive-partitioned GeoParquet dataset.

A country's cadastre is kept per province, and each province's in its own VN-2000 TM-3 meridian
(DESIGN.md §9). ``[parcels]`` may name its sources in two ways (the id, land-use, owner and
register-area columns are shared):

.. code-block:: toml

    [parcels]
    id = "parcel_id"
    landuse = "landuse"
    [[parcels.sources]]          # a list: each source a file (and layer), in its own CRS
    name = "can_tho"
    path = "can_tho.gpkg"
    layer = "parcels"
    [[parcels.sources]]
    name = "soc_trang"
    path = "soc_trang.parquet"

    # or a hive-partitioned GeoParquet dataset: folders province=…/ holding .parquet files
    # path = "delta_parcels"

Each source is measured in its own CRS (:func:`measuring_crs`), so a parcel of former Sóc Trăng
(EPSG:9209) is measured in EPSG:9209 even when the run's working CRS is EPSG:5897.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyproj

from .. import sources
from ..crs import check_working_crs
from ..errors import CRSError
from ..scenario import LayerRef, find_path

#: Keys of one ``[[parcels.sources]]`` table.
SOURCE_KEYS = {"name", "path", "layer", "where"}


@dataclass(frozen=True)
class Partition:
    """One source of a partitioned parcel layer: its name (``province=soc_trang`` → ``soc_trang``), the
    layer, and the CRS the layer declares (``None`` when it declares none: refused when read)."""

    name: str
    source: LayerRef
    crs: pyproj.CRS | None

    def describe(self) -> dict[str, Any]:
        """The source for the manifest: name, layer, CRS."""
        return {"name": self.name, "layer": self.source.label(), "crs": self.crs.to_string() if self.crs is not None else None}


def measuring_crs(partition: Partition, working: pyproj.CRS) -> pyproj.CRS:
    """The CRS a source's parcels are measured in: its own when it is projected in metres (the cadastre's
    convention: the legal area is the planar area in the cadastre's own CRS), else the working CRS (a
    source in degrees cannot be measured in its own)."""
    if partition.crs is None:
        return working
    try:
        check_working_crs(partition.crs)
    except CRSError:
        return working
    return partition.crs


def is_partitioned(base: Path, table: dict[str, Any]) -> bool:
    """True when ``[parcels]`` names several sources: a ``sources`` list, or a ``path`` that is a folder of
    hive-style partitions (``key=value`` sub-folders)."""
    if "sources" in table:
        return True
    path = table.get("path")
    if not isinstance(path, str):
        return False
    folder = find_path(base, path)
    return folder.is_dir() and folder.suffix.lower() != ".gdb" and any(d.is_dir() and "=" in d.name for d in folder.iterdir())


def hive_files(folder: Path) -> list[tuple[str, Path]]:
    """The GeoParquet files of a hive-partitioned dataset, each with its partition's name: the values of its
    ``key=value`` folders joined by ``/`` (``province=soc_trang/part-0.parquet`` → ``soc_trang``), with the
    file's stem added where a partition holds several files. Sorted by path, so the order is the same
    on every machine."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in sources.PARQUET_SUFFIXES
                   and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts))
    per_folder: dict[Path, int] = {}
    for f in files:
        per_folder[f.parent] = per_folder.get(f.parent, 0) + 1
    out = []
    for f in files:
        rel = f.relative_to(folder)
        values = [part.split("=", 1)[1] if "=" in part else part for part in rel.parts[:-1]]
        name = "/".join(values) or f.stem
        if per_folder[f.parent] > 1:
            name = f"{name}/{f.stem}"
        out.append((name, f))
    return out


def parse_sources(ck: Any, table: dict[str, Any], columns: dict[str, str | None]) -> list[Partition]:
    """The sources of ``[parcels]`` (see the module notes), each checked as a layer with ``columns`` by the
    scenario's checker ``ck`` (problems are added to it, every one at once). Returns the sources found
    valid, in order (empty when there is a problem)."""
    problems = len(ck.problems)
    found: list[tuple[str, dict[str, Any], str]] = []  # (name, layer table, key for messages)
    if "sources" in table:
        if "path" in table or "layer" in table or "where" in table:
            ck.add("parcels.sources", "give either path (and layer) or sources, not both")
        raw = table["sources"]
        if not isinstance(raw, list) or not raw:
            ck.add("parcels.sources", "must be a non-empty array of tables ([[parcels.sources]] with name, path, layer)")
            raw = []
        for i, s in enumerate(raw):
            key = f"parcels.sources[{i}]"
            if not isinstance(s, dict):
                ck.add(key, "must be a table with name, path and layer")
                continue
            ck.unknown_keys(key, s, SOURCE_KEYS)
            name = s.get("name")
            if name is None and isinstance(s.get("path"), str):
                name = Path(s["path"]).stem
            if not isinstance(name, str) or not name.strip():
                ck.add(f"{key}.name", f"must be a non-empty string, got {name!r}")
                continue
            found.append((name.strip(), s, key))
    else:
        folder = find_path(ck.base, str(table["path"]))
        files = hive_files(folder)
        if not files:
            ck.add("parcels.path", f"{folder} has partition folders (key=value) but no GeoParquet files in them")
        if "layer" in table or "where" in table:
            ck.add("parcels.path", "a partitioned GeoParquet dataset takes no layer or where")
        found = [(name, {"path": str(f)}, f"parcels.path[{name}]") for name, f in files]
    seen: dict[str, str] = {}
    parts: list[Partition] = []
    for name, s, key in found:
        if name in seen:
            ck.add(f"{key}.name", f"the name {name!r} is also that of {seen[name]}; give each source its own name")
            continue
        seen[name] = key
        ref = ck.layer(key, s, columns)
        if ref is None:
            continue
        try:
            crs = sources.layer_crs(ref.path, ref.layer)
        except sources.SourceError as exc:
            ck.add(f"{key}.path", f"{ref.label()} cannot be read ({exc})")
            continue
        if crs is None:
            ck.add(f"{key}.path", f"{ref.label()} declares no coordinate reference system; every source must declare its own "
                   f"(VN-2000 / TM-3: EPSG:5897 for 105°00′, EPSG:9209 for 105°30′ …)")
            continue
        parts.append(Partition(name, ref, crs))
    return parts if len(ck.problems) == problems else []
