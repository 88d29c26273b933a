"""The embedded Cần Thơ sample: a deterministic generator of synthetic layers in VN-2000 (EPSG:5897).

Everything here is synthetic. District areas and centroids follow the published figures (DESIGN.md §1);
parcels are laid out the way Mekong Delta land is (long rice strips running back from canals, dwellings
and gardens along canals, more urban land towards Ninh Kiều); the projects follow the published routes
only roughly.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon, box

log = logging.getLogger(__name__)

SAMPLE_CRS = "EPSG:5897"
SAMPLE_SEED = 20231208
SAMPLE_GPKG = "can_tho_sample.gpkg"
#: A fixed timestamp so that the same seed writes the same bytes.
_FIXED_DATE = "2025-07-01T00:00:00Z"

#: Former districts: (name, area in ha, centroid lat, centroid lon) — DESIGN.md §1.
DISTRICTS: tuple[tuple[str, float, float, float], ...] = (
    ("Ninh Kiều", 2936, 10.031, 105.765),
    ("Bình Thủy", 7042, 10.064, 105.723),
    ("Cái Răng", 6733, 9.991, 105.787),
    ("Ô Môn", 13253, 10.126, 105.633),
    ("Thốt Nốt", 12120, 10.243, 105.546),
    ("Phong Điền", 12561, 9.998, 105.663),
    ("Thới Lai", 26602, 10.030, 105.538),
    ("Cờ Đỏ", 32036, 10.127, 105.461),
    ("Vĩnh Thạnh", 30623, 10.214, 105.369),
)

#: Wards and communes after 1 July 2025 near the projects (approximate positions; synthetic boundaries).
WARDS: tuple[tuple[str, float, float], ...] = (
    ("Phường Ninh Kiều", 10.035, 105.775),
    ("Phường Cái Khế", 10.050, 105.765),
    ("Phường Tân An", 10.020, 105.760),
    ("Phường An Bình", 10.005, 105.735),
    ("Phường Bình Thủy", 10.075, 105.735),
    ("Phường Long Tuyền", 10.045, 105.710),
    ("Phường Thới An Đông", 10.090, 105.700),
    ("Phường Cái Răng", 9.995, 105.790),
    ("Phường Hưng Phú", 10.010, 105.810),
    ("Xã Phong Điền", 9.995, 105.670),
    ("Xã Nhơn Ái", 9.980, 105.710),
    ("Xã Giai Xuân", 10.030, 105.685),
    ("Xã Trường Long", 9.985, 105.620),
    ("Phường Ô Môn", 10.115, 105.630),
    ("Phường Thới Long", 10.085, 105.640),
    ("Xã Thới Lai", 10.050, 105.560),
    ("Xã Thạnh Phú", 10.120, 105.520),
    ("Phường Thốt Nốt", 10.250, 105.530),
    ("Xã Vĩnh Thạnh", 10.200, 105.380),
    ("Xã Cờ Đỏ", 10.080, 105.450),
    ("Xã Tân Lộc", 9.950, 105.760),
)

_RIVER_BANK = (  # Hậu river's south-west bank, NW → SE (lon, lat)
    (105.24, 10.30), (105.40, 10.31), (105.50, 10.29), (105.57, 10.235), (105.63, 10.165),
    (105.69, 10.10), (105.74, 10.06), (105.78, 10.035), (105.82, 9.99), (105.85, 9.94),
)
_SOUTH_WEST = (  # the city's landward edge, SE → NW (lon, lat)
    (105.83, 9.935), (105.76, 9.94), (105.70, 9.955), (105.60, 9.95), (105.50, 9.965),
    (105.44, 10.02), (105.36, 10.085), (105.30, 10.135), (105.24, 10.185), (105.226, 10.24),
)


@dataclass(frozen=True)
class _Project:
    id: str
    name_vi: str
    name_en: str
    coords: tuple[tuple[float, float], ...]  # lon, lat
    widths_m: tuple[float, ...]  # one per segment (vertex pair)


PROJECTS: tuple[_Project, ...] = (
    _Project(
        "vanh_dai_tay", "Đường Vành đai phía Tây", "Western Ring Road",
        ((105.669, 10.105), (105.675, 10.095), (105.690, 10.075), (105.703, 10.050), (105.712, 10.025),
         (105.728, 10.000), (105.748, 9.980), (105.770, 9.965)),
        (80.0,) * 7,
    ),
    _Project(
        "dt921", "Đường tỉnh 921", "Provincial Road 921",
        ((105.641, 10.118), (105.628, 10.100), (105.612, 10.083), (105.598, 10.063)),
        (30.0,) * 3,
    ),
    _Project(
        "cao_toc_ct_cm", "Cao tốc Cần Thơ – Cà Mau (đoạn đầu)", "Cần Thơ–Cà Mau Expressway (start)",
        ((105.772, 9.968), (105.764, 9.960), (105.752, 9.952), (105.746, 9.9495)),
        (120.0, 75.0, 75.0),
    ),
)
DECLARED_RICE_HA = {"vanh_dai_tay": 157.75, "dt921": 22.38}
HUB_ID = "trung_tam_nong_nghiep"
HUB_NAME_VI = "Trung tâm liên kết, sản xuất, chế biến và tiêu thụ sản phẩm nông nghiệp vùng ĐBSCL"
HUB_NAME_EN = "Mekong Delta agricultural linking, production, processing and trading hub"
HUB_AREA_M2 = 2_500_000.0

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
_MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Kim", "Hoàng", "Thị Ngọc")
_GIVEN = ("An", "Bình", "Cường", "Dũng", "Hòa", "Hùng", "Lan", "Mai", "Nga", "Phúc", "Quý", "Sơn", "Tâm", "Thảo",
          "Thủy", "Tuấn", "Út", "Vân", "Xuân", "Yến", "Đức", "Hạnh", "Lộc", "Nhàn", "Phượng", "Tài", "Trí", "Hiếu")


def _to_xy(coords: tuple[tuple[float, float], ...] | list[tuple[float, float]]) -> list[tuple[float, float]]:
    tr = Transformer.from_crs("EPSG:4326", SAMPLE_CRS, always_xy=True)
    return [tr.transform(lon, lat) for lon, lat in coords]


def city_outline() -> Polygon:
    """The sample city's outline in EPSG:5897 (about 143,900 ha)."""
    return Polygon(_to_xy(list(_RIVER_BANK) + list(_SOUTH_WEST)))


def river() -> Polygon | MultiPolygon:
    """The Hậu river: a 1.6 km wide band beyond the city's north-east edge."""
    bank = LineString(_to_xy(_RIVER_BANK))
    band = bank.buffer(1600.0, cap_style="flat", join_style="round", single_sided=True)
    outline = city_outline()
    if band.intersection(outline).area > 0.5 * band.area:  # buffer went landward: take the other side
        band = bank.buffer(-1600.0, cap_style="flat", join_style="round", single_sided=True)
    out = band.difference(outline)
    assert isinstance(out, Polygon | MultiPolygon)
    return out


def _power_cells(outline: Polygon, sites: np.ndarray, weights: np.ndarray) -> list[shapely.Geometry]:
    """Cells of the power diagram of ``sites`` (weights in m²) clipped to ``outline``."""
    minx, miny, maxx, maxy = outline.bounds
    big = 1e6
    frame = box(minx - big, miny - big, maxx + big, maxy + big)
    cells = []
    for i, si in enumerate(sites):
        cell: shapely.Geometry = outline
        for j, sj in enumerate(sites):
            if i == j:
                continue
            # points x with |x-si|² - wi <= |x-sj|² - wj  <=>  2 x·(sj-si) <= |sj|²-|si|² - wj + wi
            n = 2 * (sj - si)
            c = sj @ sj - si @ si - weights[j] + weights[i]
            halfplane = _halfplane(n, c, frame)
            cell = shapely.intersection(cell, halfplane)
        cells.append(cell)
    return cells


def _halfplane(n: np.ndarray, c: float, frame: Polygon) -> Polygon:
    """The part of ``frame`` where ``n·x <= c``."""
    coords = np.asarray(frame.exterior.coords)
    vals = coords @ n - c
    pts: list[tuple[float, float]] = []
    for k in range(len(coords) - 1):
        a, b, va, vb = coords[k], coords[k + 1], vals[k], vals[k + 1]
        if va <= 0:
            pts.append((float(a[0]), float(a[1])))
        if (va < 0 < vb) or (vb < 0 < va):
            t = va / (va - vb)
            p = a + t * (b - a)
            pts.append((float(p[0]), float(p[1])))
    return Polygon(pts) if len(pts) >= 3 else Polygon()


def districts() -> gpd.GeoDataFrame:
    """The nine former districts: a power diagram of the published centroids fitted to the published areas."""
    outline = city_outline()
    sites = np.array(_to_xy([(lon, lat) for _, _, lat, lon in DISTRICTS]))
    target = np.array([a for _, a, _, _ in DISTRICTS]) * 1e4
    target = target * outline.area / target.sum()
    w = np.zeros(len(sites))
    for _ in range(400):
        cells = _power_cells(outline, sites, w)
        areas = shapely.area(np.array(cells, dtype=object))
        if np.max(np.abs(areas / target - 1)) < 0.005:
            break
        w += 0.35 * (target - areas) / np.pi
    cells = _power_cells(outline, sites, w)
    return gpd.GeoDataFrame(
        {
            "district_id": [f"Q{i + 1:02d}" for i in range(len(DISTRICTS))],
            "name": [d[0] for d in DISTRICTS],
            "published_area_ha": [float(d[1]) for d in DISTRICTS],
        },
        geometry=cells,
        crs=SAMPLE_CRS,
    )


def wards() -> gpd.GeoDataFrame:
    """Post-2025 wards and communes (synthetic Voronoi cells of approximate positions)."""
    outline = city_outline()
    sites = np.array(_to_xy([(lon, lat) for _, lat, lon in WARDS]))
    cells = _power_cells(outline, sites, np.zeros(len(sites)))
    return gpd.GeoDataFrame(
        {"ward_id": [f"P{i + 1:02d}" for i in range(len(WARDS))], "name": [w[0] for w in WARDS]},
        geometry=cells,
        crs=SAMPLE_CRS,
    )


def project_centrelines() -> gpd.GeoDataFrame:
    """Project centrelines, one feature per segment, each with its full right-of-way width in metres."""
    rows = []
    for p in PROJECTS:
        xy = _to_xy(p.coords)
        for k in range(len(xy) - 1):
            rows.append({"project": p.id, "name": p.name_vi, "segment": k + 1, "width_m": p.widths_m[k],
                         "geometry": LineString([xy[k], xy[k + 1]])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=SAMPLE_CRS)


def merged_centrelines() -> gpd.GeoDataFrame:
    """One LineString per project (segments joined), with the first segment's width."""
    rows = []
    for p in PROJECTS:
        rows.append({"project": p.id, "name": p.name_vi, "width_m": p.widths_m[0],
                     "geometry": LineString(_to_xy(p.coords))})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=SAMPLE_CRS)


def hub_polygon() -> gpd.GeoDataFrame:
    """The ~250 ha agricultural hub west of the ring road between Long Tuyền and Giai Xuân.

    Its east edge lies 30 m from the ring road centreline, so 10 m of it falls inside the
    80 m corridor: the overlap the engine must count once.
    """
    ring = LineString(_to_xy(PROJECTS[0].coords))
    anchor = ring.interpolate(0.44, normalized=True)
    ahead = ring.interpolate(0.44 * ring.length + 10.0)
    d = np.array([ahead.x - anchor.x, ahead.y - anchor.y])
    d /= np.hypot(*d)
    west = np.array([-d[1], d[0]])  # left of the direction of travel (NW → SE) is east; flip to the west
    if (west[0] > 0):
        west = -west
    length, depth = 1700.0, HUB_AREA_M2 / 1700.0
    a = np.array([anchor.x, anchor.y]) + 30.0 * west
    corners = [a - d * length / 2, a + d * length / 2, a + d * length / 2 + west * depth, a - d * length / 2 + west * depth]
    poly = Polygon([tuple(c) for c in corners])
    return gpd.GeoDataFrame({"project": [HUB_ID], "name": [HUB_NAME_VI]}, geometry=[poly], crs=SAMPLE_CRS)


@dataclass(frozen=True)
class _Layout:
    """The frame the sample's land is laid out on: u along the Hậu river (NW → SE), v away from it,
    with the main canals at ``ucuts`` (along v) and the secondary canals at ``vcuts`` (along u)."""

    rng: np.random.Generator
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    ucuts: np.ndarray
    vcuts: np.ndarray
    area_poly: shapely.Geometry
    outline: Polygon


#: Canal and road widths of the sample's layout (m): main canals, secondary canals, roads.
_MAIN_W, _SEC_W, _ROAD_W = 20.0, 10.0, 10.0


def _layout(seed: int, band_m: float) -> _Layout:
    """The layout's frame and canals (the first draws of the sample's random sequence)."""
    rng = np.random.default_rng(seed)
    outline = city_outline()
    lines = pd.concat([project_centrelines().geometry, hub_polygon().boundary], ignore_index=True)
    band = shapely.union_all(shapely.buffer(lines.values, band_m))
    area_poly = band.intersection(outline)
    angle = np.deg2rad(-40.0)
    ux, uy = np.cos(angle), np.sin(angle)
    vx, vy = uy, -ux  # v points south-west, away from the river
    origin = np.array(area_poly.centroid.coords[0])
    corners = shapely.get_coordinates(area_poly.envelope) - origin
    us, vs = corners @ np.array([ux, uy]), corners @ np.array([vx, vy])
    umin, umax, vmin, vmax = us.min() - 50, us.max() + 50, vs.min() - 50, vs.max() + 50

    def _cuts(lo: float, hi: float, mean: float, jitter: float) -> np.ndarray:
        n = int((hi - lo) / mean) + 3
        steps = mean + rng.uniform(-jitter, jitter, n)
        return lo + np.concatenate([[0.0], np.cumsum(steps)])

    ucuts = _cuts(umin, umax, 1100.0, 150.0)  # main canals at these u
    vcuts = _cuts(vmin, vmax, 700.0, 120.0)  # secondary canals at these v
    return _Layout(rng, origin, np.array([ux, uy]), np.array([vx, vy]), ucuts, vcuts, area_poly, outline)


def _is_road(i: int) -> bool:
    """Whether a road (DGT) runs beside main canal ``i`` (every third one)."""
    return i % 3 == 0


#: Names given to the sample's roads, in turn (synthetic: the roads are not where these roads are).
ROAD_NAMES: tuple[str, ...] = ("Quốc lộ 91B", "Đường tỉnh 923", "Đường tỉnh 922", "Đường Nguyễn Văn Cừ nối dài", "Đường tỉnh 926",
                               "Đường tỉnh 932", "Đường Trần Hoàng Na", "Đường tỉnh 918", "Đường Võ Văn Kiệt", "Đường tỉnh 919")


def roads(*, seed: int = SAMPLE_SEED, band_m: float = 2500.0) -> gpd.GeoDataFrame:
    """The named roads of the sample: the centreline of each road (DGT) strip beside every third main
    canal, clipped to the city; ``ten_duong`` (its name) and ``cap`` (its class). Land prices'
    positions (vị trí) are measured from them."""
    lay = _layout(seed, band_m)
    vmin, vmax = lay.vcuts[0], lay.vcuts[-1]
    rows = []
    k = 0
    for i in range(len(lay.ucuts) - 1):
        if not _is_road(i):
            continue
        u = lay.ucuts[i] + _MAIN_W / 2 + _ROAD_W / 2
        line = LineString([tuple(lay.origin + u * lay.u + v * lay.v) for v in (vmin, vmax)])
        part = line.intersection(lay.area_poly)
        for g in shapely.get_parts(part):
            if shapely.get_type_id(g) == 1 and g.length > 50.0:
                rows.append({"ten_duong": ROAD_NAMES[k % len(ROAD_NAMES)], "cap": "tỉnh lộ" if "tỉnh" in ROAD_NAMES[k % len(ROAD_NAMES)]
                             else "quốc lộ" if "Quốc" in ROAD_NAMES[k % len(ROAD_NAMES)] else "đường đô thị", "geometry": g})
        k += 1
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=SAMPLE_CRS)


def parcels(*, seed: int = SAMPLE_SEED, band_m: float = 2500.0) -> gpd.GeoDataFrame:
    """Land-use parcels within ``band_m`` of any project, laid out as Mekong canal blocks.

    The frame's u axis runs along the Hậu river (NW → SE), v away from it. Main canals (SON, 20 m) run
    along v every ~1.1 km, secondary canals (SON, 10 m) along u every ~0.7 km; a road (DGT, 10 m)
    follows every third main canal. Between canals, two rows of strips run back to back; a strip is
    10–55 m wide. About a third of strips carry a homestead at the canal (ONT 30 m deep, then a CLN
    garden 40 m deep) with rice or other farmland behind. Towards Ninh Kiều land turns urban (ODT, TMD, SKC).
    Households (:func:`_households`) hold one to three neighbouring strips, some a strip elsewhere in
    the commune too: ``owner`` (the household), ``nhan_khau`` (its members) and ``dien_tich_gcn`` (the
    register area on the certificate, m²).
    """
    lay = _layout(seed, band_m)
    rng, origin, outline, area_poly = lay.rng, lay.origin, lay.outline, lay.area_poly
    (ux, uy), (vx, vy) = lay.u, lay.v
    ucuts, vcuts = lay.ucuts, lay.vcuts
    core = np.array(_to_xy([(105.765, 10.031)])[0])

    boxes: list[tuple[float, float, float, float]] = []
    codes: list[str] = []
    strips: list[int] = []
    strip = [-1]
    n_strips = [0]

    def add(u0: float, v0: float, u1: float, v1: float, code: str) -> None:
        boxes.append((u0, v0, u1, v1))
        codes.append(code)
        strips.append(strip[0])

    main_w, sec_w, road_w = _MAIN_W, _SEC_W, _ROAD_W
    for i in range(len(ucuts) - 1):
        road = _is_road(i)
        u_lo = ucuts[i] + main_w / 2 + (road_w if road else 0.0)
        u_hi = ucuts[i + 1] - main_w / 2
        for j in range(len(vcuts) - 1):
            v_lo, v_hi = vcuts[j] + sec_w / 2, vcuts[j + 1] - sec_w / 2
            strip[0] = -1  # canals and roads: state land, no household
            add(ucuts[i] - main_w / 2, vcuts[j], ucuts[i] + main_w / 2, vcuts[j + 1], "SON")
            if road:
                add(ucuts[i] + main_w / 2, vcuts[j], u_lo, vcuts[j + 1], "DGT")
            add(u_lo, vcuts[j] - sec_w / 2, u_hi, vcuts[j] + sec_w / 2, "SON")
            vm = 0.5 * (v_lo + v_hi) + rng.uniform(-60, 60)
            for front, back in ((v_lo, vm), (v_hi, vm)):
                widths = rng.uniform(10.0, 55.0, 200)
                edges = u_lo + np.concatenate([[0.0], np.cumsum(widths)])
                edges = edges[edges < u_hi - 8.0]
                edges = np.append(edges, u_hi)
                sign = 1.0 if back > front else -1.0
                for a, b in itertools.pairwise(edges):
                    strip[0] = n_strips[0]  # a new strip
                    n_strips[0] += 1
                    mid = origin + ((a + b) / 2) * np.array([ux, uy]) + front * np.array([vx, vy])
                    dist_core = float(np.hypot(*(mid - core)))
                    urban = np.clip(1.0 - (dist_core - 2500.0) / 4000.0, 0.0, 1.0)
                    r = rng.random()
                    if r < urban * 0.8:
                        code = rng.choice(["ODT", "ODT", "ODT", "TMD", "SKC", "CLN"])
                        _split(add, a, b, front, back, sign, [(40.0, str(code)), (None, str(rng.choice(["ODT", "CLN", "HNK"])))])
                    elif r < urban * 0.8 + 0.33:
                        behind = str(rng.choice(["LUC"] * 6 + ["LUK"] * 2 + ["CLN", "NTS"]))
                        _split(add, a, b, front, back, sign, [(30.0, "ONT"), (40.0, "CLN"), (None, behind)])
                    else:
                        code = str(rng.choice(["LUC"] * 14 + ["LUK"] * 4 + ["CLN"] * 2 + ["NTS", "HNK"]))
                        add(a, min(front, back), b, max(front, back), code)

    arr = np.array(boxes)
    geoms = shapely.box(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    rot = np.array([[ux, vx], [uy, vy]])
    geoms = shapely.transform(geoms, lambda uv: uv @ rot.T + origin)
    keep = shapely.intersects(geoms, area_poly)
    geoms, code_arr, strip_arr = geoms[keep], np.array(codes)[keep], np.array(strips)[keep]
    geoms = shapely.intersection(geoms, outline)
    ok = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 1.0)
    geoms, code_arr, strip_arr = geoms[ok], code_arr[ok], strip_arr[ok]
    # a parcel never crosses a commune (ward) boundary: a cadastre is drawn commune by commune, so the
    # wards' boundaries run along parcel edges (landplan checks the two layers coincide)
    units = np.asarray(wards().geometry.values)
    gi, ui = shapely.STRtree(units).query(geoms, predicate="intersects")
    cut = shapely.intersection(geoms[gi], units[ui])
    cut = np.array([g if shapely.get_type_id(g) == 3 else shapely.union_all([q for q in shapely.get_parts(g) if shapely.get_type_id(q) == 3])
                    for g in cut], dtype=object)
    ok = ~shapely.is_empty(cut) & (shapely.area(cut) > 1.0)
    geoms, code_arr, strip_arr, ward_arr = cut[ok], code_arr[gi[ok]], strip_arr[gi[ok]], ui[ok]
    n = len(geoms)
    # cadastral numbering: map sheet (tờ) by 1 km tile, parcel (thửa) number within it
    cx, cy = shapely.get_x(shapely.centroid(geoms)), shapely.get_y(shapely.centroid(geoms))
    sheet = ((cx - cx.min()) // 1000).astype(int) * 100 + ((cy.max() - cy) // 1000).astype(int) + 1
    order = np.lexsort((cx, -cy, sheet))
    geoms, code_arr, sheet, strip_arr, ward_arr = geoms[order], code_arr[order], sheet[order], strip_arr[order], ward_arr[order]
    thua = pd.Series(sheet).groupby(sheet).cumcount().to_numpy() + 1
    ids = [f"{s:04d}-{t:04d}" for s, t in zip(sheet, thua)]
    # the draws that once named owners one by one, kept so the rest of the sequence (the defects) stays as it was
    for bound in (len(_SURNAMES), len(_MIDDLE), len(_GIVEN)):
        rng.integers(0, bound, n)
    owners, persons = _households(strip_arr, ward_arr, seed=seed)
    hrng = np.random.default_rng(seed + 2)
    drawn = shapely.area(geoms)
    error = hrng.normal(0.0, 0.004, n)  # surveys differ from the drawing by a few tenths of a percent
    old = hrng.random(n) < 0.03  # old surveys: 6–15 % off
    error[old] = hrng.choice([-1.0, 1.0], int(old.sum())) * hrng.uniform(0.06, 0.15, int(old.sum()))
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ids, "landuse": code_arr, "owner": owners, "map_sheet": sheet.astype("int32"),
         "nhan_khau": persons, "dien_tich_gcn": np.round(drawn * (1.0 + error), 1)},
        geometry=geoms, crs=SAMPLE_CRS,
    )
    return _with_defects(gdf, rng)


def _households(strip: np.ndarray, ward: np.ndarray, *, seed: int) -> tuple[list[str], np.ndarray]:
    """Owners (households) of the parcels: runs of one to three neighbouring strips make a household's
    land, and about one strip in ten belongs to a household of another strip in the same commune (land
    held elsewhere in the commune, which a corridor may not reach). Names are unique within a commune.
    Returns each parcel's owner ("" for canals and roads, ``strip = -1``) and its household's members."""
    rng = np.random.default_rng(seed + 3)
    ids = np.unique(strip[strip >= 0])
    sizes = rng.integers(1, 4, len(ids))
    household = np.repeat(np.arange(len(ids)), sizes)[:len(ids)]
    of_strip = dict(zip(ids.tolist(), household.tolist()))
    strip_ward: dict[int, int] = {}
    for s_, w in zip(strip.tolist(), ward.tolist()):
        strip_ward.setdefault(s_, w)
    by_ward: dict[int, list[int]] = {}
    for s_ in ids.tolist():
        by_ward.setdefault(strip_ward[s_], []).append(s_)
    moved = rng.random(len(ids)) < 0.1
    for s_, m in zip(ids.tolist(), moved):
        if m:
            pool = by_ward[strip_ward[s_]]
            of_strip[s_] = of_strip[pool[int(rng.integers(0, len(pool)))]]
    n_house = int(household.max()) + 1 if len(household) else 0
    wards_of: dict[int, set[int]] = {}
    for s_, w in zip(strip.tolist(), ward.tolist()):
        if s_ >= 0:
            wards_of.setdefault(of_strip[s_], set()).add(w)
    used: dict[int, set[str]] = {}
    names = []
    for h in range(n_house):
        ws = wards_of.get(h, set())
        while True:
            name = f"{_SURNAMES[rng.integers(len(_SURNAMES))]} {_MIDDLE[rng.integers(len(_MIDDLE))]} {_GIVEN[rng.integers(len(_GIVEN))]}"
            if all(name not in used.setdefault(w, set()) for w in ws):
                break
        for w in ws:
            used[w].add(name)
        names.append(name)
    members = rng.integers(2, 8, n_house)
    owners = ["" if s_ < 0 else names[of_strip[s_]] for s_ in strip.tolist()]
    persons = np.array([0 if s_ < 0 else members[of_strip[s_]] for s_ in strip.tolist()], dtype="int32")
    return owners, persons


def _with_defects(gdf: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Add the defects real cadastre has, so the demo shows how they are handled.

    Three parcels under the ring road are digitised twice under new ids (``…-D``), and one parcel's
    ring is saved as a self-intersecting "bowtie" (two vertices swapped).
    """
    ring = shapely.buffer(LineString(_to_xy(PROJECTS[0].coords)), 40.0, cap_style="flat")
    under = np.flatnonzero(shapely.intersects(gdf.geometry.values, ring) & (gdf["landuse"] == "LUC").to_numpy())
    picks = rng.choice(under, size=4, replace=False)
    dups = gdf.iloc[picks[:3]].copy()
    dups["parcel_id"] = dups["parcel_id"] + "-D"
    out = pd.concat([gdf, dups], ignore_index=True)
    k = int(picks[3])
    coords = np.asarray(out.geometry.values[k].exterior.coords)
    coords[[1, 2]] = coords[[2, 1]]
    out.loc[k, "geometry"] = Polygon(coords)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=SAMPLE_CRS)


def _split(add: Callable[[float, float, float, float, str], None], a: float, b: float, front: float, back: float, sign: float,
           parts: list[tuple[float | None, str]]) -> None:
    """Cut the strip [a, b] × [front, back] into depth bands from the canal (``None`` = the rest)."""
    pos = front
    for depth, code in parts:
        end = back if depth is None else pos + sign * depth
        if (end - back) * sign > 0:
            end = back
        add(a, min(pos, end), b, max(pos, end), code)
        pos = end
        if pos == back:
            break


SAMPLE_LANDCOVER = "landcover_10m.tif"
#: The sample raster's classes: (pixel value, land-use code or "", group, Vietnamese name, English name).
LANDCOVER_CLASSES: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "LUC", "rice", "Lúa 2–3 vụ", "Rice, two or three crops"),
    (2, "LUK", "rice", "Lúa 1 vụ, lúa – màu", "Rice, one crop or rotated"),
    (3, "CLN", "other_agriculture", "Cây lâu năm, vườn", "Orchards and perennials"),
    (4, "HNK", "other_agriculture", "Cây hằng năm, rau màu", "Annual crops"),
    (5, "NTS", "other_agriculture", "Ao nuôi thủy sản", "Aquaculture ponds"),
    (6, "", "residential", "Đất xây dựng", "Built-up land"),
    (7, "SON", "water", "Mặt nước", "Water"),
    (8, "DGT", "infrastructure", "Đường", "Roads"),
)
_CODE_TO_CLASS = {"LUC": 1, "LUK": 2, "LUN": 2, "CLN": 3, "HNK": 4, "NTS": 5, "ONT": 6, "ODT": 6, "TMD": 6, "SKC": 6,
                  "SKK": 6, "SON": 7, "MNC": 7, "DTL": 7, "DGT": 8}


def landcover_raster(parcels_gdf: gpd.GeoDataFrame, path: Path, *, seed: int = SAMPLE_SEED, pixel_m: float = 10.0) -> Path:
    """A 10 m classified land-cover GeoTIFF made from the parcels, disagreeing with them as real maps do.

    About 8 % of rice parcels show as orchards (converted since the cadastre was updated), 6 % of
    orchard and annual-crop parcels show as rice, 10 % of rice parcels swap LUC and LUK, and 1 % of
    pixels are classification noise; pixels whose centre lies in no parcel are nodata (0).
    """
    import rasterio
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed + 1)
    codes = parcels_gdf["landuse"].to_numpy()
    values = np.array([_CODE_TO_CLASS.get(c, 6) for c in codes], dtype="uint8")
    r = rng.random(len(values))
    rice = np.isin(values, [1, 2])
    values[rice & (r < 0.08)] = 3
    swap = rice & (r >= 0.08) & (r < 0.18)
    values[swap] = np.where(values[swap] == 1, 2, 1)
    crops = np.isin(values, [3, 4]) & ~rice
    values[crops & (r < 0.06)] = 1
    xmin, ymin, xmax, ymax = parcels_gdf.total_bounds
    xmin, ymin = np.floor(xmin / pixel_m) * pixel_m, np.floor(ymin / pixel_m) * pixel_m
    xmax, ymax = np.ceil(xmax / pixel_m) * pixel_m, np.ceil(ymax / pixel_m) * pixel_m
    width, height = int(np.rint((xmax - xmin) / pixel_m)), int(np.rint((ymax - ymin) / pixel_m))
    transform = from_origin(xmin, ymax, pixel_m, pixel_m)
    grid = rasterize(zip(parcels_gdf.geometry.values, values.tolist()), out_shape=(height, width), transform=transform,
                     fill=0, dtype="uint8")
    noise = (rng.random(grid.shape) < 0.01) & (grid > 0)
    grid[noise] = rng.integers(1, 9, int(noise.sum()), dtype="uint8")
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8", "crs": SAMPLE_CRS,
               "transform": transform, "nodata": 0, "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
    tmp = path.with_name(path.stem + ".partial.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(grid, 1)
        dst.update_tags(source="landplan synthetic sample: rasterised from the sample parcels with deliberate disagreement")
    tmp.replace(path)
    return path


def write_sample(folder: str | Path, *, seed: int = SAMPLE_SEED) -> Path:
    """Write the sample layers into ``folder``/can_tho_sample.gpkg; same seed, same bytes. Returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SAMPLE_GPKG
    tmp = folder / (SAMPLE_GPKG.replace(".gpkg", ".partial.gpkg"))
    if tmp.exists():
        tmp.unlink()
    layers = {
        "districts": districts(),
        "wards": wards(),
        "rivers": gpd.GeoDataFrame({"name": ["Sông Hậu"], "landuse": ["SON"]}, geometry=[river()], crs=SAMPLE_CRS),
        "project_centrelines": project_centrelines(),
        "project_polygons": hub_polygon(),
        "parcels": parcels(seed=seed),
        "roads": roads(seed=seed),
    }
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", promote_to_multi=False)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    tmp.replace(target)
    landcover_raster(layers["parcels"], folder / SAMPLE_LANDCOVER, seed=seed)
    write_cost_tables(folder)
    log.info("wrote %s (%d parcels), %s and the illustrative price tables", target, len(layers["parcels"]), SAMPLE_LANDCOVER)
    return target


# ------------------------------------------------------------------------------------------------
# the illustrative price and coefficient tables (NOT Cần Thơ's: no per-district rice price was found)

#: File names of the sample's illustrative tables ("minh họa": illustrative).
PRICE_CSV, K_CSV = "bang_gia_dat_minh_hoa.csv", "he_so_k_minh_hoa.csv"
#: What every row of the sample's tables says of itself.
ILLUSTRATIVE_REF = "MINH HỌA – không phải bảng giá đất của TP Cần Thơ / ILLUSTRATIVE – not the city's table"
#: The instrument the sample's tables name: none, they are illustrative.
ILLUSTRATIVE_INSTRUMENT = ("MINH HỌA: bảng giá giả định cho dữ liệu mẫu tổng hợp, không phải quyết định của UBND TP Cần Thơ / "
                           "ILLUSTRATIVE: an invented table for the synthetic sample, not a decision of the city")
_URBAN = {"Phường Ninh Kiều", "Phường Cái Khế", "Phường Tân An", "Phường An Bình", "Phường Bình Thủy", "Phường Cái Răng",
          "Phường Hưng Phú"}
#: Position 1 prices (đồng/m²) by kind of unit: central wards, outer wards (phường), communes (xã).
#: Plausible for the Mekong Delta's 2026 tables, not taken from any table.
_BASE_PRICE: dict[str, dict[str, int]] = {
    "central": {"LUC": 450_000, "LUK": 430_000, "HNK": 450_000, "CLN": 520_000, "NTS": 450_000,
                "ONT": 6_000_000, "ODT": 14_000_000, "TMD": 11_000_000, "SKC": 8_000_000},
    "outer": {"LUC": 300_000, "LUK": 285_000, "HNK": 300_000, "CLN": 350_000, "NTS": 300_000,
              "ONT": 3_500_000, "ODT": 6_500_000, "TMD": 5_200_000, "SKC": 3_900_000},
    "commune": {"LUC": 200_000, "LUK": 190_000, "HNK": 200_000, "CLN": 235_000, "NTS": 200_000,
                "ONT": 2_000_000, "ODT": 3_500_000, "TMD": 2_800_000, "SKC": 2_100_000},
}
#: Share of the position-1 price at positions 1–4: farmland, and land for building (residential, commercial).
_POSITION_SHARE = {"farm": (1.0, 0.85, 0.7, 0.6), "building": (1.0, 0.6, 0.4, 0.3)}


def _unit_kind(name: str) -> str:
    return "central" if name in _URBAN else "outer" if name.startswith("Phường") else "commune"


def price_table_rows() -> list[tuple[str, str, int, int, str]]:
    """The sample's illustrative price table: (unit, land use, position, đồng/m², source_ref) for every
    ward and commune, land use it prices and position 1–4."""
    rows = []
    for k, (name, _, _) in enumerate(WARDS):
        base = _BASE_PRICE[_unit_kind(name)]
        nudge = 1.0 + 0.03 * (k % 4)  # units of a kind differ a little
        for code, price in base.items():
            shares = _POSITION_SHARE["building" if code in ("ONT", "ODT", "TMD", "SKC") else "farm"]
            for pos, share in enumerate(shares, start=1):
                rows.append((name, code, pos, int(round(price * nudge * share, -3)), ILLUSTRATIVE_REF))
    return rows


def k_table_rows() -> list[tuple[str, str, float, str]]:
    """The sample's illustrative coefficient table: K = 1 for farmland everywhere (``*``), 1.1 for land
    for building, 1.2 for urban residential land in the central wards."""
    rows: list[tuple[str, str, float, str]] = [("*", code, 1.0, ILLUSTRATIVE_REF) for code in ("LUC", "LUK", "HNK", "CLN", "NTS")]
    rows += [("*", code, 1.1, ILLUSTRATIVE_REF) for code in ("ONT", "ODT", "TMD", "SKC")]
    rows += [(name, "ODT", 1.2, ILLUSTRATIVE_REF) for name, _, _ in WARDS if _unit_kind(name) == "central"]
    return rows


def write_cost_tables(folder: str | Path) -> tuple[Path, Path]:
    """Write the illustrative price and coefficient tables (UTF-8 CSV, as Excel's "CSV UTF-8") into ``folder``."""
    import csv

    folder = Path(folder)
    paths = (folder / PRICE_CSV, folder / K_CSV)
    for path, header, rows in ((paths[0], ("unit", "landuse", "position", "price_vnd_m2", "source_ref"), price_table_rows()),
                               (paths[1], ("unit", "landuse", "k", "source_ref"), k_table_rows())):
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
    return paths


def scenario_toml(gpkg: str) -> str:
    """The sample scenario's TOML text, reading the sample GeoPackage at ``gpkg`` (relative to the file)."""
    ring, dt921, cm = PROJECTS
    here = gpkg.rsplit('/', 1)[0] + '/' if '/' in gpkg else ''
    return f'''# landplan scenario: the embedded Cần Thơ sample (synthetic data; see layers/README.md).
# Paths are relative to this file. Written by landplan.sample.scenario_toml; keep the two in step.

[scenario]
name = "Cần Thơ – mẫu tổng hợp"
crs = "EPSG:5897"   # VN-2000 / TM-3 kinh tuyến trục 105°00', Cần Thơ's cadastral CRS
lang = "vi"

[parcels]
path = "{gpkg}"
layer = "parcels"
id = "parcel_id"
landuse = "landuse"
owner = "owner"
register_area = "dien_tich_gcn"   # the certificate (register) area, m²: compensation is paid on it

[[admin]]
key = "district"
title = "Quận, huyện (trước 1/7/2025)"
path = "{gpkg}"
layer = "districts"
name = "name"

[[admin]]
key = "ward"
title = "Phường, xã (từ 1/7/2025)"
path = "{gpkg}"
layer = "wards"
name = "name"

[[projects]]
id = "{ring.id}"
name = "{ring.name_vi}"
name_en = "{ring.name_en}"
kind = "centreline"
path = "{gpkg}"
layer = "project_centrelines"
where = "project = '{ring.id}'"
width_m = 80            # full right-of-way, metres
declared_rice_ha = {DECLARED_RICE_HA[ring.id]}

[[projects]]
id = "{dt921.id}"
name = "{dt921.name_vi}"
name_en = "{dt921.name_en}"
kind = "centreline"
path = "{gpkg}"
layer = "project_centrelines"
where = "project = '{dt921.id}'"
width_m = 30
declared_rice_ha = {DECLARED_RICE_HA[dt921.id]}

[[projects]]
id = "{cm.id}"
name = "{cm.name_vi}"
name_en = "{cm.name_en}"
kind = "centreline"
path = "{gpkg}"
layer = "project_centrelines"
where = "project = '{cm.id}'"
width_column = "width_m"  # 120 m at the Cái Răng interchange, 75 m beyond

[[projects]]
id = "{HUB_ID}"
name = "{HUB_NAME_VI}"
name_en = "{HUB_NAME_EN}"
kind = "polygon"
path = "{gpkg}"
layer = "project_polygons"
where = "project = '{HUB_ID}'"
hub = true

[landcover]   # a 10 m classified land-cover raster (synthetic, made from the parcels)
path = "{here}{SAMPLE_LANDCOVER}"
band = 1
{_classes_toml()}
[rules]
approval_thresholds_ha = [10, 500]
approval_authorities = [
  "HĐND thành phố (dưới 10 ha)",
  "HĐND thành phố theo Nghị quyết 45/2022/QH15 (10 ha đến dưới 500 ha)",
  "Thủ tướng Chính phủ / Quốc hội (từ 500 ha)",
]
approval_ruleset = "Luật Đất đai 2024 Đ.122(1) + NQ 45/2022/QH15 (cần đối chiếu văn bản)"

[rules.min_remnant_m2]      # illustrative; set your province's figures
rice = 500
other_agriculture = 300
residential = 40

[rules.min_remnant_width_m]
rice = 5
other_agriculture = 4
residential = 3

# The indicative cost estimate. EVERY FIGURE BELOW AND IN THE TWO TABLES IS ILLUSTRATIVE (minh họa):
# plausible for the Mekong Delta, not Cần Thơ's. Type your province's tables and settings instead
# (notebooks/05_price_tables.ipynb shows how).
[costs]
date = 2026-03-01                  # valuation date: each table must be in force on it
admin = "ward"                     # the tables name the units of this [[admin]] layer
admin_units = "after_2025_07_01"   # ... which is the list of units from 1 July 2025
not_compensated = ["DGT", "DTL", "SON", "MNC"]
not_compensated_basis = "đất do Nhà nước quản lý: không bồi thường về đất (Luật Đất đai 2024 Đ.107, cần đối chiếu)"
register_tolerance = 0.05          # list parcels whose drawn area differs from the register area by more than 5 %
remnants = "list"                  # remnants below the minimum: listed with their value, never added to the take

[costs.prices]
path = "{here}{PRICE_CSV}"
instrument = "{ILLUSTRATIVE_INSTRUMENT}"
legal_basis = "Luật Đất đai 2024 Đ.158, Đ.159; Nghị quyết 254/2025/QH15 (giá trong bảng giá × hệ số K)"
valid_from = 2026-01-01
valid_to = 2026-12-31
units = "after_2025_07_01"

[costs.coefficients]
path = "{here}{K_CSV}"
instrument = "{ILLUSTRATIVE_INSTRUMENT}"
legal_basis = "Luật Đất đai 2024 Đ.158; Nghị quyết 254/2025/QH15"
valid_from = 2026-01-01
valid_to = 2026-12-31
units = "after_2025_07_01"
floor_at_table_price = true
floor_legal_basis = "Luật Đất đai 2024 Đ.158: giá thấp hơn giá trong bảng giá đất thì lấy giá trong bảng giá đất"

[costs.positions]                  # vị trí by distance from the named roads (bands illustrative)
path = "{gpkg}"
layer = "roads"
name = "ten_duong"
bands_m = [50, 200, 500]           # vị trí 1 within 50 m, 2 within 200 m, 3 within 500 m, 4 beyond
legal_basis = "bảng giá đất: vị trí theo khoảng cách tới đường (dải khoảng cách minh họa)"
depth_m = 20                       # residential land in vị trí 1: the part deeper than 20 m ...
depth_factor = 0.8                 # ... at 80 % of the price
depth_codes = ["ONT", "ODT"]

[costs.support]
job_multiple = 3                   # ≤ 5; the province sets it (3 is illustrative)
job_cap_m2 = 30000                 # the agricultural land allocation limit (3 ha in the Mekong Delta)
job_legal_basis = "Luật Đất đai 2024 Đ.109; Nghị định 88/2024/NĐ-CP Đ.20 (bội số minh họa)"
life_share_bands = [0.3, 0.7]      # 30–70 % of the farmland in the commune taken, and over 70 %
life_months_stay = [6, 12]
life_months_move = [12, 24]        # households that must move
rice_kg_per_person_month = 30
rice_price_vnd_kg = 15000          # illustrative local rice price
persons_per_household = 4          # where nhan_khau is empty
persons_column = "nhan_khau"
life_legal_basis = "Nghị định 88/2024/NĐ-CP Đ.19, sửa đổi bởi Nghị định 226/2025/NĐ-CP (giá gạo minh họa)"

[costs.conversion]                 # tiền bảo vệ, phát triển đất trồng lúa
codes = ["LUC"]
share = 0.6                        # the province's percentage (60 % is illustrative)
exempt_projects = []               # e.g. public investment
legal_basis = "Nghị định 112/2024/NĐ-CP (tỷ lệ do HĐND tỉnh quyết định; 60 % là minh họa)"

[costs.resettlement]
codes = ["ONT", "ODT"]
plots_per_household = 1
plot_m2 = 100                      # illustrative plot size
legal_basis = "Luật Đất đai 2024 Đ.111 (suất tái định cư minh họa)"
'''


def _classes_toml() -> str:
    out = []
    for value, code, group, name, name_en in LANDCOVER_CLASSES:
        key = f'code = "{code}"' if code else f'group = "{group}"'
        out.append(f'[[landcover.classes]]\nvalue = {value}\n{key}\nname = "{name}"\nname_en = "{name_en}"\n')
    return "\n".join(out)


def write_sample_scenario(folder: str | Path, *, seed: int = SAMPLE_SEED) -> Path:
    """Write the sample layers and a scenario reading them into ``folder``; return the scenario's path."""
    folder = Path(folder)
    gpkg = write_sample(folder, seed=seed)
    path = folder / "can_tho_sample.toml"
    path.write_text(scenario_toml(gpkg.name), encoding="utf-8")
    return path
