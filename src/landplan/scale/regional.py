"""A regional synthetic scenario, deterministic: Mekong Delta provinces, each in its own VN-2000 meridian, as partitioned GeoParquet.

Everything here is synthetic. Thirteen provinces (the delta's before the 2025 mergers) are laid out
as a grid of equal lon/lat rectangles, roughly where they lie (west to east, south to north); each
is given the VN-2000 / TM-3 meridian its cadastre uses (EPSG:9207 104°30′, EPSG:9208 104°45′,
EPSG:5897 105°00′, EPSG:9209 105°30′, EPSG:9210 105°45′; the table below follows the provincial
meridians as commonly listed, to be confirmed per province) and holds ``parcels`` strips of
20 × 100 m drawn in that province's own CRS, clipped to the province's edges (so neighbouring
provinces' parcels meet along the border, each drawn in its own meridian). The parcels are written
as a hive-partitioned GeoParquet dataset, ``parcels/province=<slug>/part-0.parquet``: Hilbert-sorted
within each partition, with a bbox covering column and row groups of 10,000 rows, which is what
makes masked reads skip what no corridor reaches. Expressways (one along each row of provinces, one
from south to north through the middle column) make a network of several hundred km crossing them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
import shapely.ops

log = logging.getLogger("landplan")

#: The working CRS of the regional scenario (maps, union figures; each province is measured in its own).
WORKING_CRS = "EPSG:5897"
REGIONAL_SEED = 20250701
#: Strip parcels: width (x) and depth (y), metres.
STRIP_W_M, STRIP_D_M = 20.0, 100.0
#: Parquet row-group size of the partitions.
ROW_GROUP = 10_000


@dataclass(frozen=True)
class Province:
    """A province of the synthetic region: its slug (partition name), Vietnamese name, grid cell
    (row from the south, column from the west) and the EPSG code of its VN-2000 / TM-3 meridian."""

    slug: str
    name: str
    row: int
    col: int
    epsg: int


#: In the order the generator takes them: ``provinces=2`` gives Cần Thơ (105°00′) and Sóc Trăng (105°30′).
PROVINCES: tuple[Province, ...] = (
    Province("can_tho", "Cần Thơ", 1, 2, 5897),
    Province("soc_trang", "Sóc Trăng", 0, 2, 9209),
    Province("hau_giang", "Hậu Giang", 1, 1, 5897),
    Province("vinh_long", "Vĩnh Long", 1, 3, 9209),
    Province("bac_lieu", "Bạc Liêu", 0, 1, 5897),
    Province("tra_vinh", "Trà Vinh", 0, 3, 9209),
    Province("dong_thap", "Đồng Tháp", 2, 2, 5897),
    Province("an_giang", "An Giang", 2, 1, 9208),
    Province("long_an", "Long An", 2, 3, 9210),
    Province("kien_giang", "Kiên Giang", 1, 0, 9207),
    Province("tien_giang", "Tiền Giang", 1, 4, 9210),
    Province("ca_mau", "Cà Mau", 0, 0, 9207),
    Province("ben_tre", "Bến Tre", 0, 4, 9210),
)
#: The grid's centre cell (Cần Thơ's) lies around this point (lon, lat).
CENTRE = (105.60, 10.00)
#: Land-use codes of the strips and their shares (runs of strips along a canal share a use).
LANDUSE = (("LUC", 0.52), ("LUK", 0.12), ("CLN", 0.12), ("NTS", 0.08), ("ONT", 0.08), ("DGT", 0.03), ("SON", 0.05))
_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi")
_GIVEN = ("Văn An", "Thị Bình", "Văn Cường", "Hữu Dũng", "Thị Hòa", "Minh Hùng", "Thị Lan", "Ngọc Mai", "Văn Phúc", "Thanh Sơn")
#: Expressways: (project id, Vietnamese name, English name, full right-of-way in m).
ROADS = (
    ("cao_toc_giua", "Cao tốc Đông – Tây (giữa)", "East–West Expressway (middle)", 80.0),
    ("cao_toc_nam", "Cao tốc ven biển (phía Nam)", "Coastal Expressway (south)", 60.0),
    ("cao_toc_bac", "Cao tốc Đông – Tây (phía Bắc)", "East–West Expressway (north)", 60.0),
    ("cao_toc_doc", "Cao tốc Bắc – Nam", "North–South Expressway", 100.0),
)


@dataclass(frozen=True)
class Layout:
    """Where the provinces lie: each province's cell as a lon/lat rectangle."""

    provinces: tuple[Province, ...]
    dlon: float
    dlat: float
    lon0: float
    lat0: float

    def cell(self, p: Province) -> tuple[float, float, float, float]:
        """(west, south, east, north) of a province, degrees."""
        w, s = self.lon0 + p.col * self.dlon, self.lat0 + p.row * self.dlat
        return w, s, w + self.dlon, s + self.dlat


def layout(provinces: int, parcels: int) -> Layout:
    """The grid of ``provinces`` cells, each about the size ``parcels`` strips of 20 × 100 m cover."""
    if not 1 <= provinces <= len(PROVINCES):
        raise ValueError(f"provinces must be from 1 to {len(PROVINCES)}, got {provinces}")
    if parcels < 1:
        raise ValueError(f"parcels must be at least 1, got {parcels}")
    side_m = float(np.sqrt(parcels * STRIP_W_M * STRIP_D_M))
    geod = pyproj.Geod(ellps="WGS84")
    lon_c, lat_c = CENTRE
    _, _, east_m = geod.inv(lon_c, lat_c, lon_c + 1.0, lat_c)
    _, _, north_m = geod.inv(lon_c, lat_c, lon_c, lat_c + 1.0)
    dlon, dlat = side_m / east_m, side_m / north_m
    return Layout(PROVINCES[:provinces], dlon, dlat, lon_c - 2.5 * dlon, lat_c - 1.5 * dlat)


def _to(crs_from: str | pyproj.CRS, crs_to: str | pyproj.CRS, geoms: np.ndarray) -> np.ndarray:
    tr = pyproj.Transformer.from_crs(crs_from, crs_to, always_xy=True)
    return np.asarray(shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))


def _province_polygon(lay: Layout, p: Province, crs: str | pyproj.CRS, step_deg: float = 0.002) -> shapely.Geometry:
    """A province's rectangle (edges along meridians and parallels, densified every ``step_deg``) in ``crs``."""
    vn2000 = pyproj.CRS.from_epsg(5897).geodetic_crs
    assert vn2000 is not None
    box = shapely.segmentize(shapely.box(*lay.cell(p)), step_deg)
    return _to(vn2000, crs, np.array([box], dtype=object))[0]


def province_parcels(lay: Layout, p: Province, *, seed: int = REGIONAL_SEED) -> gpd.GeoDataFrame:
    """One province's strips in its own CRS (``EPSG:<p.epsg>``), clipped to its edges, Hilbert-sorted:
    ``parcel_id`` (``<slug>-<n>``), ``landuse``, ``owner``, geometry."""
    crs = f"EPSG:{p.epsg}"
    shape = _province_polygon(lay, p, crs)
    x0, y0, x1, y1 = shapely.bounds(shape)
    x0, y0 = np.floor(x0 / STRIP_W_M) * STRIP_W_M, np.floor(y0 / STRIP_D_M) * STRIP_D_M
    nx, ny = int(np.ceil((x1 - x0) / STRIP_W_M)), int(np.ceil((y1 - y0) / STRIP_D_M))
    gi, gj = np.meshgrid(np.arange(nx), np.arange(ny))
    i, j = gi.ravel(), gj.ravel()
    cells = shapely.box(x0 + i * STRIP_W_M, y0 + j * STRIP_D_M, x0 + (i + 1) * STRIP_W_M, y0 + (j + 1) * STRIP_D_M)
    shapely.prepare(shape)
    inside = shapely.contains_properly(shape, cells)
    edge = np.flatnonzero(~inside & shapely.intersects(shape, cells))
    clipped = shapely.intersection(cells[edge], shape)
    big = shapely.area(clipped) >= 1.0  # a corner clipped to under a square metre is no parcel
    keep = np.concatenate([np.flatnonzero(inside), edge[big]])
    geoms = np.concatenate([cells[inside], clipped[big]])
    order = np.argsort(keep, kind="stable")  # row by row, as surveyed
    keep, geoms = keep[order], geoms[order]
    index = PROVINCES.index(p)
    rng = np.random.default_rng(seed + 1000 * index)
    # a run of 1–10 strips along a canal shares a land use
    runs = rng.integers(1, 11, size=len(keep) // 2 + 2)
    codes = np.array([c for c, _ in LANDUSE])
    run_code = rng.choice(codes, size=len(runs), p=[s for _, s in LANDUSE])
    code = np.repeat(run_code, runs)[: len(keep)]
    owner = np.array([f"{s} {g}" for s in _SURNAMES for g in _GIVEN], dtype=object)[rng.integers(0, 100, size=len(keep))]
    ids = np.char.add(f"{p.slug}-", np.char.zfill(np.arange(1, len(keep) + 1).astype(str), 7))
    gdf = gpd.GeoDataFrame({"parcel_id": ids.astype(object), "landuse": code.astype(object), "owner": owner},
                           geometry=geoms, crs=crs)
    return gdf.iloc[np.argsort(gdf.hilbert_distance().to_numpy(), kind="stable")].reset_index(drop=True)


def network(lay: Layout, network_km: float | None = None) -> gpd.GeoDataFrame:
    """The expressways (:data:`ROADS`) in the working CRS: one along each row of provinces present, one from
    south to north through the middle column, each gently winding; shortened about their middles so their
    total length is ``network_km`` (when given and shorter than the full network). Columns ``project``,
    ``width_m``."""
    vn2000 = pyproj.CRS.from_epsg(5897).geodetic_crs
    assert vn2000 is not None
    rows: dict[int, list[int]] = {}
    for p in lay.provinces:
        rows.setdefault(p.row, []).append(p.col)
    lines: list[tuple[str, float, np.ndarray]] = []  # (project, width, lon/lat vertices)
    row_roads = {1: ROADS[0], 0: ROADS[1], 2: ROADS[2]}
    for r, cols in sorted(rows.items()):
        pid, _, _, width = row_roads[r]
        lon = np.linspace(lay.lon0 + min(cols) * lay.dlon, lay.lon0 + (max(cols) + 1) * lay.dlon, 400)
        wave = np.sin((lon - lay.lon0) / lay.dlon * np.pi * 1.3 + r)
        lat = lay.lat0 + (r + 0.5 + 0.12 * wave) * lay.dlat
        lines.append((pid, width, np.column_stack([lon, lat])))
    mid = [p for p in lay.provinces if p.col == 2]
    if len(mid) > 1:
        pid, _, _, width = ROADS[3]
        lo, hi = min(p.row for p in mid), max(p.row for p in mid)
        lat = np.linspace(lay.lat0 + lo * lay.dlat, lay.lat0 + (hi + 1) * lay.dlat, 300)
        lon = lay.lon0 + (2.5 + 0.15 * np.sin((lat - lay.lat0) / lay.dlat * np.pi * 1.7)) * lay.dlon
        lines.append((pid, width, np.column_stack([lon, lat])))
    to_work = pyproj.Transformer.from_crs(vn2000, WORKING_CRS, always_xy=True)
    geoms = [shapely.LineString(np.column_stack(to_work.transform(v[:, 0], v[:, 1]))) for _, _, v in lines]
    # each road stops a little inside the region (its flat end would otherwise reach past the last province's edge)
    inset = 0.01 * lay.dlat * 110_000.0
    geoms = [_part(g, inset, g.length - inset) for g in geoms]
    full = sum(g.length for g in geoms) / 1000.0
    if network_km is not None and network_km < full:
        f = network_km / full
        geoms = [_part(g, g.length * (1 - f) / 2, g.length * (1 + f) / 2) for g in geoms]
    return gpd.GeoDataFrame({"project": [pid for pid, _, _ in lines], "width_m": [w for _, w, _ in lines]}, geometry=geoms, crs=WORKING_CRS)


def _part(line: shapely.LineString, start_m: float, end_m: float) -> shapely.LineString:
    """The part of ``line`` from ``start_m`` to ``end_m`` along it."""
    out = shapely.ops.substring(line, start_m, end_m)
    assert isinstance(out, shapely.LineString)
    return out


def scenario_toml(lay: Layout, roads: gpd.GeoDataFrame) -> str:
    """The regional scenario's TOML text (paths relative to its folder)."""
    names = {pid: (vi, en) for pid, vi, en, _ in ROADS}
    projects = "".join(
        f'\n[[projects]]\nid = "{pid}"\nname = "{names[pid][0]}"\nname_en = "{names[pid][1]}"\nkind = "centreline"\n'
        f'path = "context.gpkg"\nlayer = "network"\nwhere = "project = \'{pid}\'"\nwidth_m = {w:g}\n'
        for pid, w in zip(roads["project"], roads["width_m"]))
    return f'''# landplan scenario: a synthetic region of {len(lay.provinces)} Mekong Delta provinces, each in its own VN-2000 meridian.
# Written by landplan.scale.regional; paths are relative to this file.

[scenario]
name = "Đồng bằng sông Cửu Long – mẫu tổng hợp vùng"
crs = "{WORKING_CRS}"
lang = "vi"

[parcels]
path = "parcels"   # hive-partitioned GeoParquet: parcels/province=…/part-0.parquet, each in its province's CRS
id = "parcel_id"
landuse = "landuse"
owner = "owner"

[[admin]]
key = "province"
title = "Tỉnh (trước 1/7/2025)"
path = "context.gpkg"
layer = "provinces"
name = "name"
{projects}'''


def write_regional(folder: str | Path, *, provinces: int = len(PROVINCES), parcels: int = 1_000_000, network_km: float | None = None,
                   seed: int = REGIONAL_SEED) -> Path:
    """Write the regional scenario into ``folder`` (same arguments, same bytes); return the scenario's path.

    ``folder/parcels/province=<slug>/part-0.parquet`` holds each province's ``parcels`` strips (about; the
    edges are clipped) in its own CRS; ``folder/context.gpkg`` the provinces and the network (working CRS);
    ``folder/regional.toml`` the scenario. A province is written to a temporary name and renamed when
    complete, so an interrupted run leaves whole partitions only.
    """
    folder = Path(folder)
    lay = layout(provinces, parcels)
    for p in lay.provinces:
        out = folder / "parcels" / f"province={p.slug}" / "part-0.parquet"
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        gdf = province_parcels(lay, p, seed=seed)
        tmp = out.with_name(".part-0.parquet.partial")
        gdf.to_parquet(tmp, write_covering_bbox=True, row_group_size=ROW_GROUP, compression="zstd")
        tmp.replace(out)
        log.info("province %s (%s, EPSG:%d): %d parcels", p.slug, p.name, p.epsg, len(gdf))
    roads = network(lay, network_km)
    shapes = [_province_polygon(lay, p, WORKING_CRS) for p in lay.provinces]
    prov = gpd.GeoDataFrame({"name": [p.name for p in lay.provinces], "slug": [p.slug for p in lay.provinces],
                             "epsg": [p.epsg for p in lay.provinces]}, geometry=shapes, crs=WORKING_CRS)
    context = folder / "context.gpkg"
    tmp = folder / ".context.partial.gpkg"
    tmp.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-07-01T00:00:00Z"})
    try:
        pyogrio.write_dataframe(prov, tmp, layer="provinces", driver="GPKG")
        pyogrio.write_dataframe(roads, tmp, layer="network", driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    tmp.replace(context)
    path = folder / "regional.toml"
    path.write_text(scenario_toml(lay, roads), encoding="utf-8")
    return path
