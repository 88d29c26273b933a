"""A small world on two VN-2000 meridians: former Cần Thơ parcels in EPSG:5897 (105°00′), former Sóc Trăng
parcels in EPSG:9209 (105°30′), on either side of the meridian 106°05′ (placed there so the two CRSs' scales
differ clearly), a road crossing both and a polygon project on the border; each source written as its
own file, with a scenario naming them (working CRS EPSG:5897)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from shapely.geometry import LineString, box

WORK, SOC_TRANG = "EPSG:5897", "EPSG:9209"
#: The border between the two sources (longitude, degrees).
BORDER_LON = 106.08
#: Parcels are 100 × 50 m cells of a grid in the working CRS around this point (lon, lat).
CENTRE = (BORDER_LON, 9.60)


def to_crs(geoms: np.ndarray, src: str, dst: str, densify_m: float = 5.0) -> np.ndarray:
    """Geometries from ``src`` to ``dst``, densified first so their edges stay where they are."""
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return np.asarray(shapely.transform(shapely.segmentize(geoms, densify_m), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))


def world() -> dict[str, gpd.GeoDataFrame]:
    """Parcels (a 24 × 12 grid of 100 × 50 m cells, land use cycling LUC, LUK, CLN, ONT), split at the
    border by their centre's longitude: ``can_tho`` in EPSG:5897, ``soc_trang`` in EPSG:9209; a road
    (30 m) crossing the border and a polygon project on it, in the working CRS; two provinces."""
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", WORK, always_xy=True).transform(*CENTRE)
    x0, y0 = round(x0, -2), round(y0, -2)
    cells, ids, codes = [], [], []
    for i in range(24):
        for j in range(12):
            cells.append(box(x0 - 1200 + 100 * i, y0 - 300 + 50 * j, x0 - 1100 + 100 * i, y0 - 250 + 50 * j))
            ids.append(f"T{i:02d}-{j:02d}")
            codes.append(("LUC", "LUK", "CLN", "ONT")[(i + j) % 4])
    geoms = np.array(cells, dtype=object)
    lon, _ = pyproj.Transformer.from_crs(WORK, "EPSG:4326", always_xy=True).transform(
        shapely.get_x(shapely.centroid(geoms)), shapely.get_y(shapely.centroid(geoms)))
    east = np.asarray(lon) > BORDER_LON
    parcels = gpd.GeoDataFrame({"pid": ids, "lu": codes, "chu": [f"Chủ {k}" for k in ids]}, geometry=geoms, crs=WORK)
    can_tho = parcels[~east].reset_index(drop=True)
    soc_trang = parcels[east].reset_index(drop=True)
    soc_trang = gpd.GeoDataFrame(soc_trang.drop(columns="geometry"),
                                 geometry=to_crs(np.asarray(soc_trang.geometry.values), WORK, SOC_TRANG), crs=SOC_TRANG)
    road = gpd.GeoDataFrame({"project": ["road"]}, geometry=[LineString([(x0 - 1150, y0 - 20), (x0 + 1150, y0 + 40)])], crs=WORK)
    hub = gpd.GeoDataFrame({"project": ["hub"]}, geometry=[box(x0 - 230, y0 + 120, x0 + 170, y0 + 290)], crs=WORK)
    provinces = gpd.GeoDataFrame({"ten": ["Cần Thơ", "Sóc Trăng"]}, geometry=[
        shapely.union_all(np.asarray(parcels[~east].geometry.values)).buffer(0.0),
        shapely.union_all(np.asarray(parcels[east].geometry.values)).buffer(0.0)], crs=WORK)
    return {"can_tho": can_tho, "soc_trang": soc_trang, "road": road, "hub": hub, "provinces": provinces}


def scenario_text(sources: list[tuple[str, str]], *, extra: str = "") -> str:
    """A scenario over ``sources`` (name, file), working CRS EPSG:5897."""
    listed = "".join(f'[[parcels.sources]]\nname = "{n}"\npath = "{f}"\n' + ('layer = "parcels"\n' if f.endswith(".gpkg") else "")
                     for n, f in sources)
    return f"""
[scenario]
name = "hai kinh tuyến"
crs = "{WORK}"

[parcels]
id = "pid"
landuse = "lu"
owner = "chu"
{listed}
[[admin]]
key = "province"
path = "context.gpkg"
layer = "provinces"
name = "ten"

[[projects]]
id = "road"
kind = "centreline"
path = "context.gpkg"
layer = "road"
width_m = 30

[[projects]]
id = "hub"
kind = "polygon"
path = "context.gpkg"
layer = "hub"
hub = true
{extra}"""


def write_world(folder: Path, layers: dict[str, gpd.GeoDataFrame] | None = None) -> dict[str, Path]:
    """Write the world into ``folder``: ``can_tho.gpkg`` (EPSG:5897), ``soc_trang.parquet`` (EPSG:9209, with a
    bbox covering), ``context.gpkg``, and scenarios ``both.toml``, ``can_tho.toml``, ``soc_trang.toml`` (each
    source alone) and ``single.toml`` (one layer of every parcel in EPSG:5897, measured the single-CRS way)."""
    layers = layers or world()
    pyogrio.write_dataframe(layers["can_tho"], folder / "can_tho.gpkg", layer="parcels")
    layers["soc_trang"].to_parquet(folder / "soc_trang.parquet", write_covering_bbox=True)
    for name in ("road", "hub", "provinces"):
        pyogrio.write_dataframe(layers[name], folder / "context.gpkg", layer=name)
    both = [("can_tho", "can_tho.gpkg"), ("soc_trang", "soc_trang.parquet")]
    out = {"both": folder / "both.toml", "can_tho": folder / "can_tho.toml", "soc_trang": folder / "soc_trang.toml"}
    out["both"].write_text(scenario_text(both), encoding="utf-8")
    out["can_tho"].write_text(scenario_text(both[:1]), encoding="utf-8")
    out["soc_trang"].write_text(scenario_text(both[1:]), encoding="utf-8")
    return out
