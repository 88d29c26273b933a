"""Shared fixtures: a tiny hand-made world with exactly known answers, written as a GeoPackage."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, box

X0, Y0 = 580_000.0, 1_110_000.0  # near Cần Thơ in EPSG:5897
CRS = "EPSG:5897"


def at(geom):
    """Shift a geometry drawn around (0, 0) to near Cần Thơ."""
    from shapely import affinity

    return affinity.translate(geom, X0, Y0)


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    """The tiny world (see the README of tests/ for the picture).

    Parcels: P1 LUC [0,100]×[0,100]; P2 LUK [100,200]×[0,100]; P3 CLN [200,300]×[0,100];
    P4 ONT [0,100]×[100,150]. Districts A (x < 150) and B (x > 150).
    Road "east_west": y = 50 from x = -50 to 350, 20 m wide. Road "north_south": x = 250 from
    y = -50 to 150, 20 m wide. Hub: [50,150]×[80,130].
    """
    parcels = gpd.GeoDataFrame(
        {"pid": ["P1", "P2", "P3", "P4"], "lu": ["LUC", "luk ", "CLN", "ONT"], "chu": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]},
        geometry=[at(box(0, 0, 100, 100)), at(box(100, 0, 200, 100)), at(box(200, 0, 300, 100)), at(box(0, 100, 100, 150))],
        crs=CRS,
    )
    districts = gpd.GeoDataFrame(
        {"ten": ["Quận A", "Quận B"]},
        geometry=[at(box(-1000, -1000, 150, 1000)), at(box(150, -1000, 1000, 1000))], crs=CRS,
    )
    lines = gpd.GeoDataFrame(
        {"project": ["east_west", "north_south"], "width_m": [20.0, 20.0]},
        geometry=[at(LineString([(-50, 50), (350, 50)])), at(LineString([(250, -50), (250, 150)]))], crs=CRS,
    )
    hub = gpd.GeoDataFrame({"project": ["hub"]}, geometry=[at(box(50, 80, 150, 130))], crs=CRS)
    return {"parcels": parcels, "districts": districts, "lines": lines, "hub": hub}


SCENARIO = """
[scenario]
name = "tiny"
crs = "EPSG:5897"

[parcels]
path = "tiny.gpkg"
layer = "parcels"
id = "pid"
landuse = "lu"
owner = "chu"

[[admin]]
key = "district"
path = "tiny.gpkg"
layer = "districts"
name = "ten"

[[projects]]
id = "east_west"
name = "Đường Đông – Tây"
kind = "centreline"
path = "tiny.gpkg"
layer = "lines"
where = "project = 'east_west'"
width_m = 20
declared_rice_ha = 0.5

[[projects]]
id = "north_south"
kind = "centreline"
path = "tiny.gpkg"
layer = "lines"
where = "project = 'north_south'"
width_column = "width_m"

[[projects]]
id = "hub"
kind = "polygon"
path = "tiny.gpkg"
layer = "hub"
hub = true
"""


def write_tiny(folder: Path, layers: dict[str, gpd.GeoDataFrame] | None = None, scenario: str = SCENARIO) -> Path:
    """Write the tiny world and its scenario into ``folder``; return the scenario path."""
    layers = layers or tiny_layers()
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, folder / "tiny.gpkg", layer=name, driver="GPKG")
    path = folder / "tiny.toml"
    path.write_text(scenario, encoding="utf-8")
    return path


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """Path to the tiny world's scenario file (its GeoPackage beside it)."""
    return write_tiny(tmp_path)


@pytest.fixture(scope="session")
def sample_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded Cần Thơ sample, generated once per test session."""
    from landplan.sample import write_sample_scenario

    return write_sample_scenario(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def sample_result(sample_scenario: Path):
    """The sample scenario's result, computed once per test session."""
    from landplan import run

    return run(sample_scenario)
