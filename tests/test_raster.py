"""Land cover from a classified raster: exact partial-pixel areas, checked against hand answers and vectors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import box

from landplan import run
from landplan.errors import InputFileError, LayerError, ScenarioError
from landplan.raster import LandcoverClass, LandcoverSpec, inspect_raster, measure
from tests.conftest import SCENARIO, X0, Y0, write_tiny

VN2000 = pyproj.CRS("EPSG:5897")
CLASSES = (LandcoverClass(1, "LUC", "rice", "Lúa", "Rice"), LandcoverClass(2, "LUK", "rice", "Lúa khác", "Other rice"),
           LandcoverClass(3, "CLN", "other_agriculture", "Vườn", "Orchard"))


def write_raster(path: Path, grid: np.ndarray, transform, crs="EPSG:5897", nodata=255) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=grid.shape[1], height=grid.shape[0], count=1, dtype=grid.dtype,
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(grid, 1)
    return path


def spec(path: Path, classes=CLASSES) -> LandcoverSpec:
    return LandcoverSpec(path, 1, None, tuple(classes))


def areas(path: Path, polys, crs=VN2000):
    s = spec(path)
    cls, cover = measure(gpd.GeoDataFrame(geometry=list(polys), crs=crs), s, inspect_raster(s), crs=crs)
    return cls, cover


# A 3 × 3 raster of 10 m pixels, origin (0, 30); the rectangle [5, 25]² covers the centre pixel whole,
# the four edge pixels by half and the four corners by a quarter.
GRID = np.array([[1, 2, 3], [1, 1, 2], [3, 3, 1]], dtype="uint8")


def test_quarter_half_whole_pixels(tmp_path: Path):
    cls, cover = areas(write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10)), [box(5, 5, 25, 25)])
    got = cls.set_index("value")["area_m2"].to_dict()
    # value 1: corner (0,0) ¼ + edge (1,0) ½ + centre 1 + corner (2,2) ¼ = 2 pixels = 200 m²
    # value 2: edge (0,1) ½ + edge (1,2) ½ = 100 m²; value 3: corner (0,2) ¼ + corner (2,0) ¼ + edge (2,1) ½ = 100 m²
    assert got == pytest.approx({1: 200.0, 2: 100.0, 3: 100.0}, rel=1e-12)
    assert cover.iloc[0]["nodata_m2"] == 0.0 and cover.iloc[0]["outside_m2"] == 0.0
    assert cover.iloc[0]["polygon_m2"] == pytest.approx(400.0, rel=1e-12)


def test_footprint_crossing_nodata(tmp_path: Path):
    grid = GRID.copy()
    grid[0, 1] = 255  # the top edge pixel is nodata: half of it lies in the rectangle
    cls, cover = areas(write_raster(tmp_path / "r.tif", grid, from_origin(0, 30, 10, 10)), [box(5, 5, 25, 25)])
    assert cls.set_index("value")["area_m2"].to_dict() == pytest.approx({1: 200.0, 2: 50.0, 3: 100.0}, rel=1e-12)
    assert cover.iloc[0]["nodata_m2"] == pytest.approx(50.0, rel=1e-12)


def test_footprint_partly_outside_is_reported(tmp_path: Path):
    _, cover = areas(write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10)), [box(5, 5, 45, 25)])
    c = cover.iloc[0]
    assert c["outside_m2"] == pytest.approx(15 * 20, rel=1e-12)  # x from 30 to 45 lies beyond the raster
    assert c["classified_m2"] + c["nodata_m2"] + c["outside_m2"] == pytest.approx(c["polygon_m2"], rel=1e-12)


def test_many_polygons_keep_their_order(tmp_path: Path):
    path = write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10))
    cls, _ = areas(path, [box(0, 20, 10, 30), box(20, 0, 30, 10), box(10, 10, 20, 20)])
    assert sorted(map(tuple, cls[["row", "value"]].to_numpy())) == [(0, 1), (1, 1), (2, 1)]
    cls, _ = areas(path, [box(20, 20, 30, 30), box(10, 0, 20, 10)])
    assert dict(zip(cls["row"], cls["value"])) == {0: 3, 1: 3}


def test_raster_in_degrees_against_footprints_in_vn2000(tmp_path: Path):
    # a lat/lon raster near Cần Thơ: 0.0005° cells, class by column; truth from the pixel polygons themselves
    lon0, lat0, d = 105.700, 10.050, 0.0005
    grid = np.tile(np.array([1, 2, 3, 1, 2, 3, 1, 2], dtype="uint8"), (8, 1))
    path = write_raster(tmp_path / "ll.tif", grid, from_origin(lon0, lat0, d, d), crs="EPSG:4326")
    to_vn = pyproj.Transformer.from_crs("EPSG:4326", VN2000, always_xy=True)
    cx, cy = to_vn.transform(lon0 + 4 * d, lat0 - 4 * d)
    fp = shapely.affinity.rotate(box(cx - 150, cy - 120, cx + 150, cy + 120), 25)
    cls, _ = areas(path, [fp])
    truth: dict[int, float] = {}
    for i in range(8):
        for j in range(8):
            px = box(lon0 + j * d, lat0 - (i + 1) * d, lon0 + (j + 1) * d, lat0 - i * d)
            px_vn = shapely.transform(shapely.segmentize(px, d / 50), lambda xy: np.column_stack(to_vn.transform(xy[:, 0], xy[:, 1])))
            truth[int(grid[i, j])] = truth.get(int(grid[i, j]), 0.0) + px_vn.intersection(fp).area
    got = cls.set_index("value")["area_m2"].to_dict()
    for v, a in truth.items():
        assert got[v] == pytest.approx(a, rel=1e-5), v
    assert sum(got.values()) == pytest.approx(fp.area, rel=1e-6)


def test_pixel_aligned_fields_match_vector_truth(tmp_path: Path):
    rng = np.random.default_rng(3)
    # fields of whole pixels: 20 × 20 pixels of 10 m, fields of 3–6 pixels wide strips
    grid = np.zeros((20, 20), dtype="uint8")
    fields = []
    col = 0
    while col < 20:
        w = int(rng.integers(3, 7))
        v = int(rng.integers(1, 4))
        grid[:, col:col + w] = v
        fields.append((box(col * 10, 0, min(col + w, 20) * 10, 200), v))
        col += w
    path = write_raster(tmp_path / "f.tif", grid, from_origin(0, 200, 10, 10))
    fp = shapely.affinity.rotate(box(30, 40, 170, 110), 33)
    cls, _ = areas(path, [fp])
    truth: dict[int, float] = {}
    for g, v in fields:
        truth[v] = truth.get(v, 0.0) + g.intersection(fp).area
    assert cls.set_index("value")["area_m2"].to_dict() == pytest.approx(truth, rel=1e-8)  # exact but for float rounding


def test_agrees_with_exactextract_on_the_sample(sample_result, sample_scenario):
    from exactextract import exact_extract

    tif = sample_scenario.parent / "landcover_10m.tif"
    with rasterio.open(tif) as ds:
        px = abs(ds.transform.a * ds.transform.e)
    fp = sample_result.footprints
    df = exact_extract(str(tif), fp[["geometry"]], ["unique", "frac", "count"], output="pandas")
    lc = sample_result.landcover
    lc = lc[lc["admin_layer"] == ""].set_index(["project", "class_value"])["area_m2"]
    for pid, uniq, frac, count in zip(fp["project"], df["unique"], df["frac"], df["count"]):
        for v, f in zip(uniq, frac):
            assert lc[(pid, int(v))] == pytest.approx(f * count * px, rel=1e-6)


def test_sample_compares_raster_and_parcels(sample_result):
    cmp = sample_result.landcover_compare.set_index("project")
    a = sample_result.approvals.set_index("project")
    assert cmp["parcels_rice_ha"].to_dict() == pytest.approx(a["rice_ha"].to_dict(), rel=1e-12)
    assert ((cmp["raster_rice_ha"] > 0.8 * cmp["parcels_rice_ha"]) & (cmp["raster_rice_ha"] < 1.1 * cmp["parcels_rice_ha"])).all()
    parts = cmp["raster_classified_m2"] + cmp["raster_nodata_m2"] + cmp["raster_outside_m2"]
    assert parts.to_numpy() == pytest.approx(cmp["footprint_m2"].to_numpy(), rel=1e-9)
    p = sample_result.parcels
    assert ((p["raster_rice_share"] >= 0) & (p["raster_rice_share"] <= 1)).all()
    # parcels coded CLN that the raster sees as rice: the list GIS staff check for out-of-date codes
    assert len(p[(p["landuse"] == "CLN") & (p["raster_rice_share"] > 0.9)]) > 0
    # per-unit rows add up to the whole project
    lc = sample_result.landcover
    whole = lc[lc["admin_layer"] == ""].groupby("project")["area_m2"].sum()
    by_ward = lc[lc["admin_layer"] == "ward"].groupby("project")["area_m2"].sum()
    assert by_ward.to_numpy() == pytest.approx(whole.to_numpy(), rel=1e-9)


# --- bad input: one clear message each -----------------------------------------------------------

LANDCOVER_TOML = """
[landcover]
path = "lc.tif"
band = {band}

[[landcover.classes]]
value = 1
code = "LUC"

[[landcover.classes]]
value = 2
code = "LUK"
"""


def _tiny_with_raster(tmp_path: Path, grid: np.ndarray, *, crs="EPSG:5897", band=1, transform=None) -> Path:
    path = write_tiny(tmp_path, scenario=SCENARIO + LANDCOVER_TOML.format(band=band))
    write_raster(tmp_path / "lc.tif", grid, transform or from_origin(X0 - 100, Y0 + 200, 10, 10), crs=crs)
    return path


def test_tiny_world_with_raster(tmp_path: Path):
    grid = np.ones((30, 50), dtype="uint8")
    grid[:, 25:] = 2  # x ≥ 150 is LUK in the raster
    r = run(_tiny_with_raster(tmp_path, grid))
    cmp = r.landcover_compare.set_index("project")
    # east_west footprint [-50, 350] × [40, 60]: the raster covers x −100..400: all classified
    assert cmp.loc["east_west", "raster_rice_ha"] == pytest.approx(0.8, rel=1e-9)
    p = r.parcels.set_index(["project", "parcel_id"])
    assert p.loc[("east_west", "P3"), "raster_rice_share"] == pytest.approx(1.0)  # CLN in the cadastre, rice in the raster


def test_raster_without_crs(tmp_path: Path):
    path = _tiny_with_raster(tmp_path, np.ones((30, 50), dtype="uint8"), crs=None)
    with pytest.raises(LayerError, match=r"lc\.tif: the raster has no coordinate reference system"):
        run(path)


def test_class_value_missing_from_table(tmp_path: Path):
    grid = np.ones((30, 50), dtype="uint8")
    grid[:, 40:] = 7
    with pytest.raises(LayerError, match=r"pixel value\(s\) not in the scenario's \[\[landcover.classes\]\] table: 7"):
        run(_tiny_with_raster(tmp_path, grid))


def test_band_that_does_not_exist(tmp_path: Path):
    with pytest.raises(LayerError, match="band 2 does not exist; the raster has 1 band"):
        run(_tiny_with_raster(tmp_path, np.ones((30, 50), dtype="uint8"), band=2))


def test_footprints_entirely_outside_raster(tmp_path: Path):
    path = _tiny_with_raster(tmp_path, np.ones((30, 50), dtype="uint8"), transform=from_origin(X0 + 50_000, Y0, 10, 10))
    with pytest.raises(LayerError, match="every project footprint lies outside the raster"):
        run(path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_or_truncated_geotiff(tmp_path: Path, damage: str):
    path = _tiny_with_raster(tmp_path, np.ones((300, 500), dtype="uint8"))
    tif = tmp_path / "lc.tif"
    data = tif.read_bytes()
    tif.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"II*\x00" + b"\x00" * 64, "empty": b""}[damage])
    with pytest.raises(InputFileError, match=r"lc\.tif: cannot be read as a raster"):
        run(path)


def test_landcover_scenario_problems(tmp_path: Path):
    text = SCENARIO + LANDCOVER_TOML.format(band=0).replace('path = "lc.tif"', 'path = "missing.tif"').replace('code = "LUK"', 'code = "XYZ"')
    path = write_tiny(tmp_path, scenario=text)
    with pytest.raises(ScenarioError) as err:
        from landplan import load_scenario

        load_scenario(path)
    keys = {p.split(":")[0] for p in err.value.problems}
    assert {"landcover.path", "landcover.band", "landcover.classes[1].code"} <= keys


def test_polygons_in_working_crs_only(tmp_path: Path):
    # measuring asks for polygons already in the working CRS; the helper keeps caller's rows
    path = write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10))
    cls, cover = areas(path, [box(0, 0, 30, 30)])
    assert pd.Series(cls["area_m2"]).sum() == pytest.approx(900.0, rel=1e-12)
    assert cover.iloc[0]["classified_m2"] == pytest.approx(900.0, rel=1e-12)


def test_nodata_override_counts_the_files_nodata_value_as_land(tmp_path: Path):
    """A file whose nodata value (1) is really the LUC class: with ``nodata = 0`` in the scenario its
    pixels are land. Before, exactextract still dropped them (400 m² of LUC lost in the issue's try)."""
    path = write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10), nodata=1)
    override = LandcoverSpec(path, 1, 0.0, CLASSES)
    cls, cover = measure(gpd.GeoDataFrame(geometry=[box(5, 5, 25, 25)], crs=VN2000), override, inspect_raster(override), crs=VN2000)
    assert cls.set_index("value")["area_m2"].to_dict() == pytest.approx({1: 200.0, 2: 100.0, 3: 100.0}, rel=1e-12)
    assert cover.iloc[0]["nodata_m2"] == 0.0
    # without the override, the file's nodata value is nodata: the 200 m² of value 1 are reported as nodata
    plain = LandcoverSpec(path, 1, None, CLASSES[1:])
    cls, cover = measure(gpd.GeoDataFrame(geometry=[box(5, 5, 25, 25)], crs=VN2000), plain, inspect_raster(plain), crs=VN2000)
    assert cls.set_index("value")["area_m2"].to_dict() == pytest.approx({2: 100.0, 3: 100.0}, rel=1e-12)
    assert cover.iloc[0]["nodata_m2"] == pytest.approx(200.0, rel=1e-12)


def test_override_nodata_value_is_dropped(tmp_path: Path):
    """With ``nodata = 2`` in the scenario, value 2 is nodata though the file says 255."""
    path = write_raster(tmp_path / "r.tif", GRID, from_origin(0, 30, 10, 10), nodata=255)
    s = LandcoverSpec(path, 1, 2.0, (CLASSES[0], CLASSES[2]))
    cls, cover = measure(gpd.GeoDataFrame(geometry=[box(5, 5, 25, 25)], crs=VN2000), s, inspect_raster(s), crs=VN2000)
    assert cls.set_index("value")["area_m2"].to_dict() == pytest.approx({1: 200.0, 3: 100.0}, rel=1e-12)
    assert cover.iloc[0]["nodata_m2"] == pytest.approx(100.0, rel=1e-12)


def test_a_geotiff_cut_short_is_said_to_be_cut_short(tmp_path: Path):
    """A file missing only its last bytes: its block table says where its pixels end; before its
    georeferencing or its pixels are looked at, the run says the file is cut short."""
    path = write_raster(tmp_path / "r.tif", np.ones((400, 600), dtype="uint8"), from_origin(X0, Y0 + 300, 10, 10))
    cut = tmp_path / "cut.tif"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InputFileError, match="it is cut short"):
        inspect_raster(spec(cut))


def test_a_small_memory_budget_gives_the_same_areas(tmp_path: Path):
    """``memory_mb`` bounds the pixels read at once (smaller tiles, several batches): the answer is the same."""
    rng = np.random.default_rng(1)
    grid = rng.integers(1, 4, (300, 300)).astype("uint8")
    path = write_raster(tmp_path / "r.tif", grid, from_origin(X0, Y0 + 300, 1, 1))
    fp = [shapely.LineString([(X0 + 5, Y0 + 5), (X0 + 295, Y0 + 290)]).buffer(20, cap_style="flat"), box(X0 + 100, Y0 + 10, X0 + 180, Y0 + 90)]
    polys = gpd.GeoDataFrame(geometry=fp, crs=VN2000)
    big = LandcoverSpec(path, 1, None, CLASSES)
    small = LandcoverSpec(path, 1, None, CLASSES, memory_mb=0.05)
    from landplan.raster import tile_side_m

    assert tile_side_m(inspect_raster(small), small.memory_mb, VN2000) < 50 < tile_side_m(inspect_raster(big), big.memory_mb, VN2000)
    a, ca = measure(polys, big, inspect_raster(big), crs=VN2000)
    b, cb = measure(polys, small, inspect_raster(small), crs=VN2000)
    pd.testing.assert_frame_equal(a.sort_values(["row", "value"]).reset_index(drop=True), b.sort_values(["row", "value"]).reset_index(drop=True),
                                  rtol=1e-9)
    assert ca["polygon_m2"].to_numpy() == pytest.approx(cb["polygon_m2"].to_numpy(), rel=1e-12)
