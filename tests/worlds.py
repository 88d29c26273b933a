"""Hand-made worlds for the planning tests (routing, siting, alternatives), where the answer is known."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import LineString, box

from tests.conftest import CRS, X0, Y0, at


def grid_parcels(x0: float, y0: float, x1: float, y1: float, size: float, code: str = "CLN") -> list[tuple[shapely.Geometry, str]]:
    """Square parcels of ``size`` m covering [x0, x1] × [y0, y1], all of land use ``code``."""
    out = []
    x = x0
    while x < x1:
        y = y0
        while y < y1:
            out.append((box(x, y, min(x + size, x1), min(y + size, y1)), code))
            y += size
        x += size
    return out


def carve(parcels: list[tuple[shapely.Geometry, str]], blocks: list[tuple[shapely.Geometry, str]]) -> gpd.GeoDataFrame:
    """``parcels`` with ``blocks`` cut out of them and added as parcels of their own (drawn around (0, 0),
    moved near Cần Thơ), with ids ``P1`` … and owners."""
    geoms, codes = [], []
    for g, c in parcels:
        for b, _ in blocks:
            g = g.difference(b)
        if not g.is_empty and g.area > 1.0:
            geoms.append(g)
            codes.append(c)
    for b, c in blocks:
        geoms.append(b)
        codes.append(c)
    n = len(geoms)
    return gpd.GeoDataFrame({"pid": [f"P{i + 1}" for i in range(n)], "lu": codes, "chu": [f"Chủ {i % 7}" for i in range(n)]},
                            geometry=[at(g) for g in geoms], crs=CRS)


def detour_world() -> gpd.GeoDataFrame:
    """CLN land over [-100, 1100] × [-100, 700] with a LUC rice block [400, 600] × [100, 500]: a 20 m road
    from (0, 300) to (1000, 300) takes 4,000 m² of rice straight through, or none by the detour round
    the block's north corners, (390, 510) and (610, 510): 2·√(390² + 210²) + 220 = 1,105.9 m."""
    return carve(grid_parcels(-100, -100, 1100, 700, 100), [(box(400, 100, 600, 500), "LUC")])


DETOUR_M = 2 * (390 ** 2 + 210 ** 2) ** 0.5 + 220


def gap_world(gap: bool = True) -> gpd.GeoDataFrame:
    """CLN land over [-100, 1100] × [-100, 700] cut by a 40 m wall of homes (ONT) at x ∈ [480, 520], with a
    50 m gap at y ∈ [550, 600] (or none)."""
    wall = box(480, -100, 520, 700)
    if gap:
        wall = wall.difference(box(480, 550, 520, 600))
    return carve(grid_parcels(-100, -100, 1100, 700, 100), [(wall, "ONT")])


SCENARIO = """
[scenario]
name = "thế giới thử"
crs = "EPSG:5897"

[parcels]
path = "world.gpkg"
layer = "parcels"
id = "pid"
landuse = "lu"
owner = "chu"

[[admin]]
key = "ward"
path = "world.gpkg"
layer = "wards"
name = "ten"

[[projects]]
id = "road"
name = "Đường thử"
kind = "centreline"
path = "world.gpkg"
layer = "road"
width_m = 20

[[projects]]
id = "hub"
name = "Trung tâm thử"
kind = "polygon"
path = "world.gpkg"
layer = "hub"
hub = true
"""


def write_world(folder: Path, parcels: gpd.GeoDataFrame, *, road: LineString, hub: shapely.Geometry,
                wards: list[tuple[str, shapely.Geometry]] | None = None) -> Path:
    """Write a world (parcels, a road centreline, a hub polygon, wards; all drawn around (0, 0)) and its
    scenario into ``folder``; return the scenario's path."""
    path = folder / "world.gpkg"
    pyogrio.write_dataframe(parcels, path, layer="parcels", driver="GPKG")
    pyogrio.write_dataframe(gpd.GeoDataFrame({"k": [1]}, geometry=[at(road)], crs=CRS), path, layer="road", driver="GPKG")
    pyogrio.write_dataframe(gpd.GeoDataFrame({"k": [1]}, geometry=[at(hub)], crs=CRS), path, layer="hub", driver="GPKG")
    b = parcels.total_bounds
    wards = wards or [("Phường Một", box(b[0] - X0, b[1] - Y0, b[2] - X0, b[3] - Y0))]
    pyogrio.write_dataframe(gpd.GeoDataFrame({"ten": [w[0] for w in wards]}, geometry=[at(w[1]) for w in wards], crs=CRS), path,
                            layer="wards", driver="GPKG")
    sc = folder / "world.toml"
    sc.write_text(SCENARIO, encoding="utf-8")
    return sc
