"""A realistic small cadastre for tests, made by code (deterministic): what real parcel layers look like.

Two wards split by a bending canal; canal blocks of rice strips 10–50 m wide, a third with a homestead
(ONT) and garden (CLN) at the canal; every parcel clipped at the ward boundary (parcels tile the
wards); coordinates round-tripped through WGS 84 as a reprojected layer's are; a few parcels drawn a
few metres into their neighbour (overlaps), a few multi-part parcels (a detached garden), and three
projects: a diagonal road, a second road crossing it, and a hub polygon overlapping the first road.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon, box

CRS = "EPSG:5897"
X0, Y0 = 578_000.0, 1_104_000.0
SIDE = 3_000.0


def ward_boundary() -> LineString:
    """The canal between the two wards: bends so that no single direction matches it."""
    return LineString([(X0 + 900, Y0 - 50), (X0 + 1300, Y0 + 700), (X0 + 1150, Y0 + 1400), (X0 + 1700, Y0 + 2100),
                       (X0 + 1600, Y0 + 3050)])


def wards() -> gpd.GeoDataFrame:
    frame = box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    halves = shapely.get_parts(shapely.polygonize_full([shapely.union_all([frame.boundary, ward_boundary()])])[0])
    halves = sorted(halves, key=lambda g: g.centroid.x)
    return gpd.GeoDataFrame({"ten": ["Phường Tây", "Phường Đông"]}, geometry=list(halves), crs=CRS)


def _roundtrip(geoms: np.ndarray) -> np.ndarray:
    """Coordinates through WGS 84 and back, as a reprojected layer's are (nanometre noise)."""
    fwd = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    back = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)

    def f(xy: np.ndarray) -> np.ndarray:
        lon, lat = fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack(back.transform(lon, lat))

    return shapely.transform(geoms, f)


def parcels(seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    geoms, codes = [], []
    angle = 17.0
    for bx in range(-4, 36):  # canal blocks 100 m deep, strips across them
        for by in range(-4, 20):
            x = bx * 100.0
            y0, y1 = by * 200.0, by * 200.0 + 190.0  # 10 m canal between blocks
            while x < bx * 100.0 + 100.0 - 5:
                w = float(rng.uniform(10, 50))
                x1 = min(x + w, bx * 100.0 + 100.0)
                if rng.random() < 0.3:
                    geoms += [box(x, y0, x1, y0 + 30), box(x, y0 + 30, x1, y0 + 70), box(x, y0 + 70, x1, y1)]
                    codes += ["ONT", "CLN", str(rng.choice(["LUC", "LUK"]))]
                else:
                    geoms.append(box(x, y0, x1, y1))
                    codes.append(str(rng.choice(["LUC"] * 6 + ["LUK"] * 2 + ["CLN", "NTS"])))
                x = x1
    arr = np.array([affinity.translate(affinity.rotate(g, angle, origin=(0, 0)), X0, Y0) for g in geoms], dtype=object)
    frame = box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    keep = shapely.intersects(arr, frame)
    arr, code = arr[keep], np.array(codes)[keep]
    # parcels tile the wards: each clipped at the ward boundary
    w = np.asarray(wards().geometry.values)
    gi, wi = shapely.STRtree(w).query(arr, predicate="intersects")
    cut = shapely.intersection(arr[gi], w[wi])
    ok = (shapely.get_type_id(cut) == 3) & (shapely.area(cut) > 1.0)
    arr, code = cut[ok], code[gi[ok]]
    n = len(arr)
    ids = [f"{k + 1:05d}" for k in range(n)]
    # a few parcels drawn a few metres into their neighbour; a few with a detached garden part
    arr = arr.copy()
    for k in rng.choice(n, 25, replace=False):
        arr[k] = shapely.buffer(arr[k], float(rng.uniform(0.5, 3.0)), join_style="mitre")
    for k in rng.choice(n, 15, replace=False):
        c = arr[k].centroid
        arr[k] = shapely.MultiPolygon([arr[k], box(c.x + 400, c.y + 5, c.x + 420, c.y + 20)])
    arr = _roundtrip(arr)
    return gpd.GeoDataFrame({"pid": ids, "lu": code, "chu": [f"Hộ {i}" for i in ids]}, geometry=list(arr), crs=CRS)


def projects() -> dict[str, Polygon]:
    road1 = LineString([(X0 + 200, Y0 + 300), (X0 + 2800, Y0 + 2500)]).buffer(30, cap_style="flat", join_style="mitre")
    road2 = LineString([(X0 + 500, Y0 + 2600), (X0 + 2600, Y0 + 900)]).buffer(17.5, cap_style="flat", join_style="mitre")
    hub = Polygon([(X0 + 1800, Y0 + 1300), (X0 + 2300, Y0 + 1350), (X0 + 2250, Y0 + 1800), (X0 + 1750, Y0 + 1750)])
    return {"road1": road1, "road2": road2, "hub": hub}


SCENARIO = """
[scenario]
name = "realistic"
crs = "EPSG:5897"

[parcels]
path = "cadastre.gpkg"
layer = "parcels"
id = "pid"
landuse = "lu"
owner = "chu"

[[admin]]
key = "ward"
path = "cadastre.gpkg"
layer = "wards"
name = "ten"
"""


def write(folder: Path, *, parcel_frame: gpd.GeoDataFrame | None = None, ward_frame: gpd.GeoDataFrame | None = None,
          extra: str = "") -> Path:
    """Write the cadastre, its wards and projects into ``folder``; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "cadastre.gpkg"
    pf = parcels() if parcel_frame is None else parcel_frame
    pyogrio.write_dataframe(pf, gpkg, layer="parcels", driver="GPKG", promote_to_multi=True)
    pyogrio.write_dataframe(wards() if ward_frame is None else ward_frame, gpkg, layer="wards", driver="GPKG")
    text = SCENARIO
    for pid, g in projects().items():
        pyogrio.write_dataframe(gpd.GeoDataFrame({"name": [pid]}, geometry=[g], crs=CRS), gpkg, layer=pid, driver="GPKG")
        text += f'\n[[projects]]\nid = "{pid}"\nkind = "polygon"\npath = "cadastre.gpkg"\nlayer = "{pid}"\n'
    path = folder / "scenario.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path
