"""The households' land read by attribute (landplan.rules.holdings): the same answer from every format, the
geometry read only where the register area and a box within one unit do not settle a parcel."""

from __future__ import annotations

import unicodedata
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import box

from landplan import sources
from landplan.rules import holdings
from landplan.scenario import LayerRef
from tests.costs_world import CRS, at

AN, BINH = "Nguyễn Văn An", "Trần Thị Bình"
#: id, code, owner as stored, rectangle around (0, 0), register area, and what the read must give: unit, legal area,
#: whether its geometry must be read (no register area, or its box crosses the communes' boundary at x = 500)
PARCELS = [
    ("A1", "LUC", AN, (0, 200, 100, 300), 10_100.0, "Xã Mỹ Khánh", 10_100.0, False),
    ("A2", "LUC", AN, (460, 200, 560, 300), 9_900.0, "Xã Nhơn Ái", 9_900.0, True),  # 40 % in Mỹ Khánh, 60 % in Nhơn Ái
    ("A3", "cln", AN, (600, 400, 650, 500), None, "Xã Nhơn Ái", 5_000.0, True),  # no register area: as drawn
    ("A4", "ONT", AN, (700, 600, 720, 620), 0.0, "Xã Nhơn Ái", 400.0, True),  # a register area of 0 is none
    ("A5", "LUK", " " + unicodedata.normalize("NFD", AN) + " ", (100, 200, 200, 300), 10_000.0, "Xã Mỹ Khánh", 10_000.0, False),
    ("B1", "LUC", BINH, (200, 200, 300, 300), 10_000.0, "", 0.0, False),  # another owner: not read
]
UNITS = gpd.GeoDataFrame({"admin_unit": ["Xã Mỹ Khánh", "Xã Nhơn Ái"]},
                         geometry=[at(box(-1000, -1000, 500, 3000)), at(box(500, -1000, 2000, 3000))], crs=CRS)


def _layer(tmp_path, fmt):
    gdf = gpd.GeoDataFrame({"pid": [p[0] for p in PARCELS], "lu": [p[1] for p in PARCELS], "chu": [p[2] for p in PARCELS],
                            "gcn": [np.nan if p[4] is None else p[4] for p in PARCELS], "nk": [5] * len(PARCELS)},
                           geometry=[at(box(*p[3])) for p in PARCELS], crs=CRS)
    if fmt == "gpkg_other_crs":  # VN-2000 / UTM 48N: read with the geometry, brought into the working CRS
        gdf = gdf.to_crs("EPSG:3405")
    path = tmp_path / {"gpkg": "t.gpkg", "gpkg_other_crs": "t.gpkg", "shp": "t.shp", "parquet": "t.parquet",
                       "parquet_plain": "t.parquet"}[fmt]
    if fmt.startswith("parquet"):
        gdf.to_parquet(path, write_covering_bbox=fmt == "parquet")
    else:
        gdf.to_file(path, layer="t", encoding="utf-8")
    ref = LayerRef(path, "t" if not fmt.startswith("parquet") else path.stem)
    spec = SimpleNamespace(source=ref, id_column="pid", landuse_column="lu", owner_column="chu", register_area_column="gcn")
    costs = SimpleNamespace(support=SimpleNamespace(persons_column="nk"))
    return SimpleNamespace(parcels=spec, costs=costs, crs=pyproj.CRS(CRS))


@pytest.mark.parametrize("fmt", ["gpkg", "parquet", "parquet_plain", "shp", "gpkg_other_crs"])
def test_owners_land_the_same_from_every_format_geometry_only_where_needed(tmp_path, monkeypatch, fmt):
    scenario = _layer(tmp_path, fmt)
    read = []
    real = sources.read_features

    def counting(path, layer, numbers, *, columns):
        read.append(len(numbers))
        return real(path, layer, numbers, columns=columns)

    monkeypatch.setattr(sources, "read_features", counting)
    got = holdings.read_land(scenario, {AN}, UNITS)
    want = [p for p in PARCELS if p[0] != "B1"]
    assert got["parcel_id"].tolist() == [p[0] for p in want]  # the layer's order
    assert got["owner"].tolist() == [AN] * len(want)
    assert got["landuse"].tolist() == ["LUC", "LUC", "CLN", "ONT", "LUK"]
    assert got["admin_unit"].tolist() == [p[5] for p in want]
    assert got["area_m2"].to_numpy() == pytest.approx([p[6] for p in want], abs=1e-6 if fmt != "gpkg_other_crs" else 0.5)
    assert (got["persons"] == 5).all()
    # with boxes (GeoPackage; GeoParquet with a bbox covering) only the parcels a box does not settle are read
    # with their geometry; otherwise every one is
    geometry_read = sum(p[7] for p in want) if fmt in ("gpkg", "parquet") else len(want)
    assert sum(read) == geometry_read


def test_units_already_placed_are_kept_and_a_parcel_set_aside_is_not_counted(tmp_path):
    """A parcel the run has placed keeps its unit (``placed``); a feature without geometry is set aside as the
    run's read sets it aside, even with a register area."""
    import pandas as pd

    scenario = _layer(tmp_path, "gpkg")
    gdf = gpd.read_file(scenario.parcels.source.path, layer="t")
    gdf.loc[gdf["pid"] == "A5", "geometry"] = None
    gdf.to_file(scenario.parcels.source.path, layer="t", encoding="utf-8")
    placed = pd.DataFrame({"parcel_id": ["A1"], "price_unit": ["Xã Nhơn Ái"]})
    got = holdings.read_land(scenario, {AN}, UNITS, placed=placed)
    assert got["parcel_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert got["admin_unit"].tolist() == ["Xã Nhơn Ái", "Xã Nhơn Ái", "Xã Nhơn Ái", "Xã Nhơn Ái"]
