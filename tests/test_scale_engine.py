"""Partitioned runs (landplan.scale.engine): each parcel measured in its source's CRS; partitions add up."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import box

import landplan
from landplan.errors import LayerError
from landplan.outputs import rounded_table
from landplan.pipeline import check

from .meridians import SOC_TRANG, WORK, scenario_text, to_crs, world, write_world

# ---------------------------------------------------------------------------------------------
# one parcel, measured in EPSG:9209 and in EPSG:5897


def tm_scale(lon: float, lat: float, lon0: float, k0: float = 0.9999) -> float:
    """Point scale factor of a transverse Mercator projection on the WGS 84 ellipsoid (VN-2000's), by the
    series in Snyder, *Map Projections: A Working Manual* (1987), eq. 8-11; written out here, not PROJ."""
    e2 = 0.00669437999014  # WGS 84 first eccentricity squared
    ep2 = e2 / (1 - e2)
    phi = math.radians(lat)
    a = math.radians(lon - lon0) * math.cos(phi)
    t = math.tan(phi) ** 2
    c = ep2 * math.cos(phi) ** 2
    return k0 * (1 + (1 + c) * a**2 / 2 + (5 - 4 * t + 42 * c + 13 * c**2 - 28 * ep2) * a**4 / 24
                 + (61 - 148 * t + 16 * t**2) * a**6 / 720)


def _one_parcel(folder: Path, crs: str) -> Path:
    """A 100 × 100 m parcel drawn in EPSG:9209 near 106.1°E 9.6°N (former Sóc Trăng), stored in ``crs``
    (densified, so its edges stay put), under a polygon project; working CRS EPSG:5897."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", SOC_TRANG, always_xy=True).transform(106.1, 9.6)
    parcel = np.array([box(x, y, x + 100.0, y + 100.0)], dtype=object)
    geoms = parcel if crs == SOC_TRANG else to_crs(parcel, SOC_TRANG, crs, densify_m=1.0)
    gpd.GeoDataFrame({"pid": ["S1"], "lu": ["LUC"]}, geometry=geoms, crs=crs).to_parquet(folder / "soc_trang.parquet",
                                                                                        write_covering_bbox=True)
    hub = to_crs(np.array([box(x - 100.0, y - 100.0, x + 200.0, y + 200.0)], dtype=object), SOC_TRANG, WORK)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"project": ["hub"]}, geometry=hub, crs=WORK), folder / "hub.gpkg", layer="hub")
    path = folder / "one.toml"
    path.write_text(f"""
[scenario]
crs = "{WORK}"
[parcels]
id = "pid"
landuse = "lu"
[[parcels.sources]]
name = "soc_trang"
path = "soc_trang.parquet"
[[projects]]
id = "hub"
kind = "polygon"
path = "hub.gpkg"
layer = "hub"
""", encoding="utf-8")
    return path


def test_parcel_measured_in_its_sources_crs(tmp_path):
    """The same land: 10,000 m² in EPSG:9209 (where it was drawn), 10,000 · (k₅₈₉₇ / k₉₂₀₉)² m² in EPSG:5897,
    with the point scales k from the transverse Mercator series; and on the ellipsoid 10,000 / k₉₂₀₉² m²
    (pyproj.Geod), whichever CRS measured it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    in_9209 = landplan.run(_one_parcel(tmp_path / "a", SOC_TRANG))
    in_5897 = landplan.run(_one_parcel(tmp_path / "b", WORK))
    vn2000 = pyproj.CRS(SOC_TRANG).geodetic_crs  # the scale is a function of VN-2000's own latitude and longitude
    centre = pyproj.Transformer.from_crs(SOC_TRANG, vn2000, always_xy=True).transform(
        *np.asarray(shapely.centroid(in_9209.pieces.to_crs(SOC_TRANG).geometry.values[0]).coords[0]))
    k_9209, k_5897 = tm_scale(*centre, 105.5), tm_scale(*centre, 105.0)
    take_9209 = float(in_9209.parcels["take_m2"].iloc[0])
    take_5897 = float(in_5897.parcels["take_m2"].iloc[0])
    assert take_9209 == pytest.approx(10_000.0, rel=1e-9)
    assert take_5897 == pytest.approx(10_000.0 * (k_5897 / k_9209) ** 2, rel=2e-8)
    assert take_5897 - take_9209 == pytest.approx(2.5, abs=0.1)  # 0.025 %: what the meridian changes
    assert in_9209.parcels["measured_crs"].tolist() == [SOC_TRANG] and in_5897.parcels["measured_crs"].tolist() == [WORK]
    geod = pyproj.Geod(ellps="WGS84")
    ll = to_crs(in_9209.affected.to_crs(SOC_TRANG).geometry.values, SOC_TRANG, vn2000, densify_m=1.0)[0]
    on_ellipsoid = abs(geod.geometry_area_perimeter(ll)[0])
    assert on_ellipsoid == pytest.approx(10_000.0 / k_9209**2, rel=1e-7)
    for r in (in_9209, in_5897):  # the ellipsoidal check is the same land whichever CRS measured it
        assert float(r.approvals["take_ellipsoidal_m2"].iloc[0]) == pytest.approx(on_ellipsoid, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# two meridians' partitions: the run equals each partition run alone, added up


@pytest.fixture(scope="module")
def two_meridians(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meridians")
    paths = write_world(folder)
    return {k: landplan.run(p) for k, p in paths.items()}


def test_two_partitions_add_up(two_meridians):
    both, a, b = two_meridians["both"], two_meridians["can_tho"], two_meridians["soc_trang"]
    assert set(both.parcels["measured_crs"]) == {WORK, SOC_TRANG}
    assert set(a.parcels["partition"]) == {"can_tho"} and set(b.parcels["partition"]) == {"soc_trang"}
    # every parcel record is its partition's own
    alone = pd.concat([a.parcels, b.parcels], ignore_index=True)
    key = ["project", "parcel_id"]
    pd.testing.assert_frame_equal(both.parcels.sort_values(key).reset_index(drop=True), alone.sort_values(key).reset_index(drop=True))
    totals_alone = pd.concat([a.parcel_totals, b.parcel_totals]).sort_values("parcel_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(both.parcel_totals.reset_index(drop=True), totals_alone)
    # per project: land taken, rice, parcels added up; the road crosses the border, so both partitions take part
    ap = both.approvals.set_index("project")
    for col in ("take_m2", "rice_m2", "rice_luc_m2", "take_ellipsoidal_m2", "noise_m2"):
        expect = a.approvals.set_index("project")[col] + b.approvals.set_index("project")[col]
        np.testing.assert_allclose(ap[col].to_numpy(), expect.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ap["parcels_affected"], a.approvals["parcels_affected"].to_numpy() + b.approvals["parcels_affected"].to_numpy())
    assert (a.approvals.set_index("project")["take_m2"] > 0).all() and (b.approvals.set_index("project")["take_m2"] > 0).all()
    # all projects together, land use by land use; summary rows by unit
    for col in ("area_m2", "sum_over_projects_m2"):
        t = both.totals.set_index("landuse")[col]
        expect = a.totals.set_index("landuse")[col].add(b.totals.set_index("landuse")[col], fill_value=0.0)
        np.testing.assert_allclose(t.sort_index().to_numpy(), expect.sort_index().to_numpy(), rtol=1e-12)
    keys = ["project", "admin_layer", "admin_unit", "landuse"]
    s = both.summary.set_index(keys)["area_m2"]
    expect = a.summary.set_index(keys)["area_m2"].add(b.summary.set_index(keys)["area_m2"], fill_value=0.0)
    np.testing.assert_allclose(s.sort_index().to_numpy(), expect.sort_index().to_numpy(), rtol=1e-12)
    assert len(both.remnants) == len(a.remnants) + len(b.remnants)


def test_two_partitions_footprint_balance(two_meridians):
    """footprint = taken + noise + land in no parcel, in the working CRS (the footprint's), to the tolerance: the takes of
    the EPSG:9209 source, measured there, differ from their working-CRS area by the scales' ratio."""
    both = two_meridians["both"]
    a = both.approvals.set_index("project")
    in_working = both.pieces.assign(m2=both.pieces.geometry.area).groupby("project")["m2"].sum()
    np.testing.assert_allclose(a["footprint_m2"], in_working[a.index] + a["noise_m2"] + a["not_in_parcels_m2"], atol=0.01)
    soc = both.pieces[both.pieces["partition"] == "soc_trang"]
    ratio = soc["take_m2"].sum() / soc.geometry.area.sum()
    assert 0.9996 < ratio < 0.99985  # measured in 9209, 0.02–0.04 % less than in 5897 out here


def test_partitions_in_the_working_crs_measure_as_one_layer(tmp_path):
    """Two sources both in EPSG:5897 give the numbers of the same parcels as one layer."""
    lay = world()
    whole = pd.concat([lay["can_tho"], lay["soc_trang"].to_crs(WORK)], ignore_index=True)
    whole = gpd.GeoDataFrame(whole, geometry="geometry", crs=WORK)
    west, east = whole.iloc[: len(whole) // 2], whole.iloc[len(whole) // 2:]
    pyogrio.write_dataframe(whole, tmp_path / "whole.gpkg", layer="parcels")
    pyogrio.write_dataframe(west, tmp_path / "west.gpkg", layer="parcels")
    east.to_parquet(tmp_path / "east.parquet", write_covering_bbox=True)
    for name in ("road", "hub", "provinces"):
        pyogrio.write_dataframe(lay[name], tmp_path / "context.gpkg", layer=name)
    (tmp_path / "two.toml").write_text(scenario_text([("west", "west.gpkg"), ("east", "east.parquet")]), encoding="utf-8")
    one = scenario_text([("x", "whole.gpkg")]).replace('[[parcels.sources]]\nname = "x"\npath = "whole.gpkg"\n', 'path = "whole.gpkg"\n')
    (tmp_path / "one.toml").write_text(one, encoding="utf-8")
    two, single = landplan.run(tmp_path / "two.toml"), landplan.run(tmp_path / "one.toml")
    assert not single.scenario.parcels.partitions and len(two.scenario.parcels.partitions) == 2
    key = ["project", "parcel_id"]

    def shown(df: pd.DataFrame) -> pd.DataFrame:  # as the CSVs give it
        return rounded_table(df, single.scenario.tolerance)

    pd.testing.assert_frame_equal(shown(two.parcels.drop(columns=["partition", "measured_crs"]).sort_values(key).reset_index(drop=True)),
                                  shown(single.parcels.sort_values(key).reset_index(drop=True)))
    for name in ("totals", "approvals", "summary", "parcel_totals"):
        pd.testing.assert_frame_equal(shown(getattr(two, name).drop(columns=["partition", "measured_crs"], errors="ignore")),
                                      shown(getattr(single, name)))


# ---------------------------------------------------------------------------------------------
# a parcel layer whose features straddle two sources


def test_parcel_in_two_sources_is_an_error(tmp_path):
    lay = world()
    border = lay["can_tho"].iloc[[-1]]  # a parcel of the border, drawn in both cadastres
    lay["soc_trang"] = gpd.GeoDataFrame(pd.concat([lay["soc_trang"], border.to_crs(SOC_TRANG)], ignore_index=True),
                                        geometry="geometry", crs=SOC_TRANG)
    paths = write_world(tmp_path, lay)
    pid = border["pid"].iloc[0]
    with pytest.raises(LayerError, match=rf"{pid} in can_tho and soc_trang"):
        landplan.run(paths["both"])
    with pytest.raises(LayerError, match=rf"{pid} in can_tho and soc_trang"):  # validate says what run says
        check(paths["both"])


def test_overlapping_parcels_of_two_sources_are_an_error(tmp_path):
    lay = world()
    road_parcels = lay["can_tho"][lay["can_tho"]["pid"].str.endswith("-06")]  # under the road
    grown = road_parcels.iloc[[-1]].copy()
    grown["pid"] = "X-BORDER"
    grown["geometry"] = grown.geometry.translate(60.0, 0.0)  # reaches 60 m into the other source's land
    lay["can_tho"] = gpd.GeoDataFrame(pd.concat([lay["can_tho"], grown], ignore_index=True), geometry="geometry", crs=WORK)
    paths = write_world(tmp_path, lay)
    with pytest.raises(LayerError, match=r"X-BORDER \(can_tho\) and .* \(soc_trang\)") as err:
        landplan.run(paths["both"])
    assert "straddle" in str(err.value)


# ---------------------------------------------------------------------------------------------
# outputs


def test_outputs_carry_the_measuring_crs(two_meridians, tmp_path):
    both = two_meridians["both"]
    out = both.write(tmp_path / "out", exports="none")
    parcels = pd.read_csv(out / "parcels.csv", encoding="utf-8-sig")
    assert set(zip(parcels["partition"], parcels["measured_crs"])) == {("can_tho", WORK), ("soc_trang", SOC_TRANG)}
    affected = pd.read_csv(out / "affected_parcels.csv", encoding="utf-8-sig")
    assert set(affected["measured_crs"]) == {WORK, SOC_TRANG}
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["crs"]) for s in man["parameters"]["parcels"]["sources"]] == [("can_tho", WORK), ("soc_trang", SOC_TRANG)]
    assert {Path(i["path"]).name for i in man["inputs"]} >= {"can_tho.gpkg", "soc_trang.parquet"}
    assert "each parcel source" in man["area_method"]
    takes = pyogrio.read_dataframe(out / "landplan.gpkg", layer="takes")
    assert takes.crs.equals(pyproj.CRS(WORK)) and set(takes["measured_crs"]) == {WORK, SOC_TRANG}
    assert (out / "map.html").stat().st_size > 0
    import openpyxl

    first = openpyxl.load_workbook(out / "landplan.xlsx", read_only=True).worksheets[0]
    cells = {str(r[0]): str(r[1]) for r in first.iter_rows(values_only=True) if r and r[0] is not None and len(r) > 1}
    assert "EPSG:9209" in cells["Nguồn thửa đất: soc_trang"] and "EPSG:5897" in cells["Nguồn thửa đất: can_tho"]


def test_source_missing_the_datum_step_refused(tmp_path):
    """A source declared in the working CRS's projection on WGS 84 (VN-2000 data whose .prj lost the datum shift)
    would lie about 226 m off: refused, naming the source."""
    lay = world()
    lay["can_tho"] = lay["can_tho"].set_crs("+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84 +units=m +no_defs",
                                            allow_override=True)
    paths = write_world(tmp_path, lay)
    with pytest.raises(LayerError, match=r"parcel source can_tho .* its parcels would lie 2\d\d m off"):
        landplan.run(paths["both"])
