"""A small world for the cost estimate's tests, each answer computable by hand.

Two communes: ``Xã Mỹ Khánh`` (x < 500) and ``Xã Nhơn Ái`` (x ≥ 500), drawn around (0, 0) and moved near Cần Thơ.
One road, ``Đường 1``, runs along y = 0. Distance bands [30, 100] m: position 1 within 30 m of the
road, 2 within 100 m, 3 beyond. Projects are polygons (exact rectangles). Prices (đồng/m², both
communes), by position 1 / 2 / 3:

========  =========  =========  =========
code      1          2          3
========  =========  =========  =========
LUC       100,000    80,000     60,000
LUK       90,000     70,000     50,000
CLN       150,000    120,000    90,000
ONT       2,000,000  1,500,000  1,000,000
========  =========  =========  =========

K: 1.0 for every code (``*``), 1.5 for LUC in Xã Nhơn Ái, 0.8 for CLN in Xã Mỹ Khánh (below the table: raised
to it). Support: job 3 × price, cap 30,000 m²; life 6/12 months (24 when moving) for 30–70 % / over
70 % of farmland taken, 4 persons unless ``nhan_khau`` says, 30 kg × 15,000 đ; conversion 60 % of the
LUC price; resettlement one plot of 100 m² for ONT/ODT land wholly taken or left below 40 m².
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from shapely import affinity
from shapely.geometry import LineString, box

CRS = "EPSG:5897"
X0, Y0 = 586_000.0, 1_106_000.0

PRICES = {"LUC": (100_000, 80_000, 60_000), "LUK": (90_000, 70_000, 50_000), "CLN": (150_000, 120_000, 90_000),
          "ONT": (2_000_000, 1_500_000, 1_000_000)}


def at(g):
    """``g`` drawn around (0, 0), moved near Cần Thơ."""
    return affinity.translate(g, X0, Y0)


def price_csv(units=("Xã Mỹ Khánh", "Xã Nhơn Ái"), prices=PRICES, ref="test") -> str:
    lines = ["unit,landuse,position,price_vnd_m2,source_ref"]
    for u in units:
        for code, by_pos in prices.items():
            lines += [f"{u},{code},{k},{p},{ref}" for k, p in enumerate(by_pos, start=1)]
    return "\n".join(lines) + "\n"


K_CSV = "unit,landuse,k,source_ref\n*,LUC,1.0,test\n*,LUK,1.0,test\n*,CLN,1.0,test\n*,ONT,1.0,test\nXã Nhơn Ái,LUC,1.5,test\nXã Mỹ Khánh,CLN,0.8,test\n"


@dataclass
class P:
    """A parcel: id, code, owner, rectangle (x0, y0, x1, y1) drawn around (0, 0), register area, members."""

    id: str
    code: str
    owner: str
    rect: tuple[float, float, float, float]
    register: float | None = None
    persons: int | None = None


def costs_toml(*, floor: bool = True, exempt: tuple[str, ...] = (), date: str = "2026-03-01", valid: tuple[str, str] = ("2026-01-01", "2026-12-31"),
               units: str = "after_2025_07_01", table_units: str = "after_2025_07_01", depth: bool = False,
               persons_column: bool = False, remnants: str = "list", admin: str = "xa", prices: str = "gia.csv", k: str = "k.csv",
               roads: str = "w.gpkg", bands: str = "[30, 100]", not_compensated: str = '["DGT", "SON"]') -> str:
    """A ``[costs]`` table with this world's settings (above); the keywords change one setting each (the
    benchmark's too: ``benchmarks/bench_costs.py``)."""
    dep = 'depth_m = 20\ndepth_factor = 0.8\ndepth_codes = ["ONT"]\n' if depth else ""
    pc = 'persons_column = "nhan_khau"\n' if persons_column else ""
    ex = ", ".join(f'"{e}"' for e in exempt)
    return f'''
[costs]
date = {date}
admin = "{admin}"
admin_units = "{units}"
not_compensated = {not_compensated}
not_compensated_basis = "đất Nhà nước quản lý"
register_tolerance = 0.05
remnants = "{remnants}"

[costs.prices]
path = "{prices}"
instrument = "bảng thử"
legal_basis = "Luật Đất đai 2024 Đ.158"
valid_from = {valid[0]}
valid_to = {valid[1]}
units = "{table_units}"

[costs.coefficients]
path = "{k}"
instrument = "hệ số thử"
legal_basis = "Luật Đất đai 2024 Đ.158"
valid_from = {valid[0]}
valid_to = {valid[1]}
units = "{table_units}"
floor_at_table_price = {"true" if floor else "false"}
floor_legal_basis = "Đ.158"

[costs.positions]
path = "{roads}"
layer = "roads"
name = "ten"
bands_m = {bands}
legal_basis = "vị trí theo khoảng cách"
{dep}
[costs.support]
job_multiple = 3
job_cap_m2 = 30000
job_legal_basis = "Đ.109"
life_share_bands = [0.3, 0.7]
life_months_stay = [6, 12]
life_months_move = [12, 24]
rice_kg_per_person_month = 30
rice_price_vnd_kg = 15000
persons_per_household = 4
{pc}life_legal_basis = "NĐ 88/2024 Đ.19"

[costs.conversion]
codes = ["LUC"]
share = 0.6
exempt_projects = [{ex}]
legal_basis = "NĐ 112/2024"

[costs.resettlement]
codes = ["ONT", "ODT"]
plots_per_household = 1
plot_m2 = 100
legal_basis = "Đ.111"
'''


def world(folder: Path, parcels: list[P], projects: dict[str, tuple[float, float, float, float]], *,
          prices: str | None = None, k: str = K_CSV, register: bool = False, costs: str | None = None,
          rules: str = "", road: str = "Đường 1") -> Path:
    """Write the world (parcels, communes, the road, polygon projects), the two tables and a scenario
    with ``[costs]`` into ``folder``; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "w.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    reg = [np.nan if p.register is None else p.register for p in parcels]
    gdf = gpd.GeoDataFrame({"pid": [p.id for p in parcels], "lu": [p.code for p in parcels], "chu": [p.owner for p in parcels],
                            "gcn": reg, "nhan_khau": [p.persons if p.persons is not None else 0 for p in parcels]},
                           geometry=[at(box(*p.rect)) for p in parcels], crs=CRS)
    pyogrio.write_dataframe(gdf, gpkg, layer="parcels", driver="GPKG", promote_to_multi=True)
    units = gpd.GeoDataFrame({"ten": ["Xã Mỹ Khánh", "Xã Nhơn Ái"]}, geometry=[at(box(-1000, -1000, 500, 3000)), at(box(500, -1000, 2000, 3000))], crs=CRS)
    pyogrio.write_dataframe(units, gpkg, layer="xa", driver="GPKG")
    roads = gpd.GeoDataFrame({"ten": [road]}, geometry=[at(LineString([(-1000, 0), (2000, 0)]))], crs=CRS)
    pyogrio.write_dataframe(roads, gpkg, layer="roads", driver="GPKG")
    for pid, rect in projects.items():
        pyogrio.write_dataframe(gpd.GeoDataFrame({"name": [pid]}, geometry=[at(box(*rect))], crs=CRS), gpkg, layer=f"p_{pid}",
                                driver="GPKG")
    (folder / "gia.csv").write_text(prices if prices is not None else price_csv(), encoding="utf-8")
    (folder / "k.csv").write_text(k, encoding="utf-8")
    text = ('[scenario]\nname = "w"\ncrs = "EPSG:5897"\n\n[parcels]\npath = "w.gpkg"\nlayer = "parcels"\nid = "pid"\n'
            'landuse = "lu"\nowner = "chu"\n' + ('register_area = "gcn"\n' if register else "")
            + '\n[[admin]]\nkey = "xa"\npath = "w.gpkg"\nlayer = "xa"\nname = "ten"\n')
    for pid in projects:
        text += f'\n[[projects]]\nid = "{pid}"\nkind = "polygon"\npath = "w.gpkg"\nlayer = "p_{pid}"\n'
    path = folder / "w.toml"
    path.write_text(text + rules + (costs if costs is not None else costs_toml()), encoding="utf-8")
    return path
