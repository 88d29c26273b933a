"""Reading layers: every supported format gives the same answer; bad layers get one clear message."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from landplan import run
from landplan.errors import InputFileError, LayerError
from tests.conftest import SCENARIO, tiny_layers, write_tiny


def _write(folder: Path, fmt: str) -> Path:
    """The tiny world with its parcels in format ``fmt``; returns the scenario path."""
    layers = tiny_layers()
    parcels = layers.pop("parcels")
    write_tiny(folder, layers, scenario="")
    name = {"gpkg": "parcels.gpkg", "shp": "parcels.shp", "geojson": "parcels.geojson", "parquet": "parcels.parquet"}[fmt]
    if fmt == "parquet":
        parcels.to_parquet(folder / name, write_covering_bbox=True)
        layer = ""
    else:
        pyogrio.write_dataframe(parcels, folder / name)
        layer = f'layer = "{pyogrio.list_layers(folder / name)[0][0]}"\n'
    text = SCENARIO.replace('path = "tiny.gpkg"\nlayer = "parcels"\n', f'path = "{name}"\n{layer}', 1)
    path = folder / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "parquet"])
def test_every_format_same_answer(tmp_path: Path, fmt: str):
    result = run(_write(tmp_path, fmt))
    a = result.approvals.set_index("project")
    assert a.loc["east_west", "rice_m2"] == pytest.approx(4000.0, rel=1e-9)
    assert a.loc["hub", "take_m2"] == pytest.approx(3500.0, rel=1e-9)
    assert result.totals.set_index("landuse").loc["TOTAL", "area_m2"] == pytest.approx(11100.0, rel=1e-9)


def test_parquet_mask_reads_only_near_footprints(tmp_path: Path):
    from shapely.geometry import box

    from landplan.sources import read

    far = gpd.GeoDataFrame({"pid": [f"F{i}" for i in range(200)], "lu": "LUC"},
                           geometry=[box(i * 1000.0, 0, i * 1000.0 + 10, 10) for i in range(200)], crs="EPSG:5897")
    far.to_parquet(tmp_path / "p.parquet", write_covering_bbox=True, row_group_size=10)
    got = read(tmp_path / "p.parquet", "p", columns=["pid"], where=None, mask=box(-1, -1, 1500, 20))
    assert sorted(got["pid"]) == ["F0", "F1"]


def _scattered_layer(folder: Path, fmt: str):
    """3,000 random rectangles in a 5 km square, written as ``fmt``, and a mask of two corridors
    (one diagonal) and a block; returns the path, the layer and the mask."""
    import numpy as np
    import shapely
    from shapely.geometry import LineString, box

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 5000, 3000), rng.uniform(0, 5000, 3000)
    grid = gpd.GeoDataFrame({"pid": [f"P{i:04d}" for i in range(3000)]},
                            geometry=shapely.box(x, y, x + rng.uniform(5, 60, 3000), y + rng.uniform(5, 60, 3000)),
                            crs="EPSG:5897")
    mask = np.array([LineString([(0, 0), (5000, 4700)]).buffer(20, cap_style="flat"),
                     LineString([(0, 4000), (2500, 2500), (4000, 5000)]).buffer(6, cap_style="flat", join_style="mitre"),
                     box(3000, 500, 3900, 1400)], dtype=object)
    if fmt == "gpkg":
        path = folder / "p.gpkg"
        pyogrio.write_dataframe(grid, path, layer="p")
    else:
        order = np.argsort(grid.hilbert_distance()) if fmt == "parquet-sorted" else rng.permutation(3000)
        path = folder / "p.parquet"
        # without statistics, every row group may hold anything: each is read through its bbox covering
        grid.iloc[order].to_parquet(path, write_covering_bbox=True, row_group_size=97, write_statistics=fmt != "parquet-nostats")
    return path, grid, mask


def _meeting(grid, mask) -> list[str]:
    import numpy as np
    import shapely

    return sorted(grid["pid"][shapely.intersects(np.asarray(grid.geometry.values)[:, None], mask[None, :]).any(axis=1)])


@pytest.mark.parametrize("fmt", ["gpkg", "parquet-sorted", "parquet-shuffled", "parquet-nostats"])
def test_masked_read_finds_exactly_what_meets_the_mask(tmp_path: Path, fmt: str):
    """Whatever boxes cover the mask and however rows sit in the file, the masked read returns
    exactly the features that meet the mask (checked against a plain intersects on the whole layer)."""
    from landplan.sources import read

    path, grid, mask = _scattered_layer(tmp_path, fmt)
    want = _meeting(grid, mask)
    assert len(want) > 100
    assert sorted(read(path, "p", columns=["pid"], where=None, mask=mask)["pid"]) == want


def _beside_want(grid, mask) -> list[str]:
    """Features not meeting the mask whose box overlaps, with a positive area, the box of one that does."""
    import numpy as np
    import shapely

    meets = shapely.intersects(np.asarray(grid.geometry.values)[:, None], mask[None, :]).any(axis=1)
    b = shapely.bounds(np.asarray(grid.geometry.values))
    m = b[meets]
    over = ((np.minimum(b[:, None, 2], m[None, :, 2]) > np.maximum(b[:, None, 0], m[None, :, 0]))
            & (np.minimum(b[:, None, 3], m[None, :, 3]) > np.maximum(b[:, None, 1], m[None, :, 1]))).any(axis=1)
    return sorted(grid["pid"][over & ~meets])


@pytest.mark.parametrize("fmt", ["gpkg", "parquet-sorted", "parquet-shuffled", "parquet-nostats"])
def test_masked_read_beside_finds_every_possible_overlapper(tmp_path: Path, fmt: str):
    """``beside`` adds exactly the features that could overlap one read: a strictly overlapping box
    (by R-tree, blob envelopes and a second thread for a GeoPackage; by the bbox covering of the row
    groups near the features read for a GeoParquet file, sorted or not)."""
    import numpy as np

    from landplan.sources import read

    path, grid, mask = _scattered_layer(tmp_path, fmt)
    got = read(path, "p", columns=["pid"], where=None, mask=mask, beside=True)
    assert sorted(got.loc[~got["_beside"], "pid"]) == _meeting(grid, mask)
    want = _beside_want(grid, mask)
    assert len(want) > 10
    assert sorted(set(got.loc[got["_beside"], "pid"]) - set(_meeting(grid, mask))) == want
    # among them, features read for the mask (their box meets one of its boxes) whose geometry misses it
    import shapely

    from landplan.sources import boxes_meeting, mask_boxes

    near_mask = boxes_meeting(shapely.bounds(np.asarray(grid.geometry.values)), mask_boxes(mask)[0], strict=False)
    assert len(set(grid["pid"][near_mask]) & set(want)) > 0


def test_box_pairs_equal_brute_force():
    import numpy as np

    rng = np.random.default_rng(5)
    def boxes(n, big):
        x, y = rng.integers(0, 200, n).astype(float), rng.integers(0, 200, n).astype(float)  # integers: many exact touches
        w = rng.integers(1, 15, n).astype(float)
        w[rng.random(n) < big] *= 30  # a few large boxes
        return np.column_stack([x, y, x + w, y + rng.integers(1, 15, n)])
    # a few large boxes (each side's large ones searched through an index of the other, or of themselves
    # when they are the fewer), and many large boxes against few small ones
    for a, b in ((boxes(400, 0.02), boxes(300, 0.03)), (boxes(400, 0.9), boxes(12, 0.0))):
        _pairs_as_brute_force(a, b)


def _pairs_as_brute_force(a, b) -> None:
    import numpy as np

    from landplan.sources import box_pairs, boxes_meeting

    a[7] = np.nan  # unknown: meets everything
    for strict in (True, False):
        ia, ib = box_pairs(a, b, strict=strict)
        got = set(zip(ia.tolist(), ib.tolist()))
        lo = np.maximum(a[:, None, :2], b[None, :, :2])
        hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
        ok = ((hi > lo) if strict else (hi >= lo)).all(axis=2)
        ok[7, :] = True
        want = set(zip(*np.nonzero(ok)))
        assert got == {(int(i), int(j)) for i, j in want}
        assert np.array_equal(boxes_meeting(a, b, strict=strict), ok.any(axis=1))


def test_masked_read_through_gdal_when_the_index_cannot_be_read(tmp_path: Path, monkeypatch):
    """An R-tree landplan cannot read as arrays (:mod:`landplan.rtree`) is searched through GDAL."""
    from landplan import rtree, sources

    def unknown(*args, **kwargs):
        raise rtree.IndexFormatError("not a two-dimensional R-tree")

    monkeypatch.setattr(rtree.Index, "__init__", unknown)
    monkeypatch.setattr(sources, "_RTREE_BATCH", 7)  # several compound queries
    path, grid, mask = _scattered_layer(tmp_path, "gpkg")
    assert sorted(sources.read(path, "p", columns=["pid"], where=None, mask=mask)["pid"]) == _meeting(grid, mask)


def test_rows_meeting_boxes_same_by_numpy_and_by_index():
    import numpy as np

    from landplan.sources import _row_box_pairs, _rows_meeting

    rng = np.random.default_rng(5)
    x0, y0 = rng.uniform(0, 100, 500), rng.uniform(0, 100, 500)
    x1, y1 = x0 + rng.uniform(0, 5, 500), y0 + rng.uniform(0, 5, 500)
    for m in (3, 64, 65, 300):
        bx, by = rng.uniform(0, 100, m), rng.uniform(0, 100, m)
        boxes = np.column_stack([bx, by, bx + rng.uniform(0, 3, m), by + rng.uniform(0, 3, m)])
        meets = ((x1[:, None] >= boxes[:, 0]) & (x0[:, None] <= boxes[:, 2])
                 & (y1[:, None] >= boxes[:, 1]) & (y0[:, None] <= boxes[:, 3]))
        want = np.flatnonzero(meets.any(axis=1))
        assert _rows_meeting(x0, y0, x1, y1, boxes).tolist() == want.tolist()
        rows, which = _row_box_pairs(x0, y0, x1, y1, boxes)  # each row with the boxes it meets
        assert sorted(zip(rows.tolist(), which.tolist())) == sorted(zip(*np.nonzero(meets)))


def test_parcels_without_crs(tmp_path: Path):
    layers = tiny_layers()
    path = write_tiny(tmp_path, {k: v for k, v in layers.items() if k != "parcels"})
    layers["parcels"].set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.shp")
    (tmp_path / "tiny.toml").write_text(SCENARIO.replace('path = "tiny.gpkg"\nlayer = "parcels"', 'path = "nocrs.shp"\nlayer = "nocrs"', 1),
                                        encoding="utf-8")
    with pytest.raises(LayerError, match=r"nocrs\.shp:nocrs: the layer has no coordinate reference system.*EPSG:5897"):
        run(path)


def test_duplicate_parcel_id_refused(tmp_path: Path):
    layers = tiny_layers()
    layers["parcels"].loc[3, "pid"] = "P1"
    with pytest.raises(LayerError, match=r"parcel id\(s\) used more than once.*P1"):
        run(write_tiny(tmp_path, layers))


def test_unknown_landuse_code_reported_not_dropped(tmp_path: Path):
    layers = tiny_layers()
    layers["parcels"].loc[2, "lu"] = "XYZ"  # P3, under both roads
    result = run(write_tiny(tmp_path, layers))
    assert any("XYZ ×1" in w and "not in landplan's table" in w for w in result.report.warnings)
    t = result.totals.set_index("landuse")
    assert t.loc["XYZ", "area_m2"] == pytest.approx(3600.0, rel=1e-9)
    assert t.loc["XYZ", "landuse_group"] == "other"


def test_truncated_file_is_a_clear_error(tmp_path: Path):
    path = write_tiny(tmp_path)
    data = (tmp_path / "tiny.gpkg").read_bytes()
    from landplan import load_scenario

    sc = load_scenario(path)  # validated while whole
    (tmp_path / "tiny.gpkg").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputFileError, match=r"tiny\.gpkg:.*cannot be read"):
        run(sc)


def test_vn2000_datum_shift_mistake_is_caught(tmp_path: Path):
    # The parcels were digitised in VN-2000 but their .prj names TM-3 105° on WGS 84.
    wrong = "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84 +units=m +no_defs"
    layers = tiny_layers()
    layers["parcels"] = layers["parcels"].set_crs(wrong, allow_override=True)
    with pytest.raises(LayerError) as err:
        run(write_tiny(tmp_path, layers))
    msg = str(err.value)
    assert "tiny.gpkg:parcels" in msg and "would move it 22" in msg and "Set CRS" in msg


def test_nfc_and_nfd_text_compare_equal(tmp_path: Path):
    import unicodedata

    layers = tiny_layers()
    layers["parcels"]["chu"] = [unicodedata.normalize("NFD", s) for s in layers["parcels"]["chu"]]
    layers["districts"]["ten"] = [unicodedata.normalize("NFD", "Quận A"), "Quận B"]
    result = run(write_tiny(tmp_path, layers))
    assert "Nguyễn Văn An" in set(result.parcels["owner"])  # NFC, as typed on any keyboard
    units = set(result.summary["admin_unit"])
    assert "Quận A" in units and len({u for u in units if unicodedata.normalize("NFC", u) == "Quận A"}) == 1


def test_mask_boxes_cover_the_mask():
    """The look-up boxes cover every part of the mask (a ring road round a hole, a thin diagonal,
    a multipart block, a line), hug the diagonal more tightly than its envelope, and stay few."""
    import numpy as np
    import shapely
    from shapely.geometry import LineString, Point, box

    from landplan.sources import MASK_BOX_MIN_FRACTION, MASK_BOX_SLACK, mask_boxes

    ring = Point(0, 0).buffer(5000).difference(Point(0, 0).buffer(4920))
    diagonal = LineString([(-6000, -6000), (6000, 5500)]).buffer(40, cap_style="flat")
    blocks = shapely.MultiPolygon([box(7000, 0, 7300, 400), box(7400, 0, 7450, 3000)])
    line = LineString([(-7000, 7000), (7000, 6000)])
    for mask in (ring, diagonal, blocks, line, np.array([ring, diagonal, blocks], dtype=object)):
        parts = shapely.get_parts(np.atleast_1d(np.asarray(mask, dtype=object)))
        boxes = mask_boxes(parts)[0]
        cover = shapely.union_all(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
        assert shapely.covers(shapely.buffer(cover, 1e-6), shapely.union_all(parts))  # 1 µm: only rounding on shared edges
    # every box of a polygon is tight (within the slack of the area it covers) or already at the smallest side
    tb = shapely.total_bounds(diagonal)
    min_side = max(tb[2] - tb[0], tb[3] - tb[1]) * MASK_BOX_MIN_FRACTION
    boxes = mask_boxes(np.array([diagonal], dtype=object))[0]
    cells = shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3])
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    assert ((shapely.area(cells) <= MASK_BOX_SLACK * shapely.area(shapely.intersection(cells, diagonal)) * (1 + 1e-9))
            | (side <= min_side)).all()
    assert shapely.area(cells).sum() < 0.1 * shapely.area(shapely.envelope(diagonal))  # a staircase, not the envelope
    # a line has no area: it is followed by boxes of the smallest side
    boxes = mask_boxes(np.array([line], dtype=object))[0]
    lb = shapely.total_bounds(line)
    assert (np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) <= max(lb[2] - lb[0], lb[3] - lb[1]) * MASK_BOX_MIN_FRACTION).all()
    assert mask_boxes(np.array([], dtype=object))[0].shape == (0, 4)


@pytest.mark.parametrize("n_boxes", [1, 5, 64, 65, 300])
def test_rows_meeting_boxes_equal_brute_force(n_boxes):
    """The rows whose bbox meets (or touches) one of the boxes, found through the boxes' envelope first,
    are exactly those a row-by-box comparison finds; rows without a box (NaN) meet nothing."""
    from landplan.sources import _row_box_pairs, _rows_meeting

    rng = np.random.default_rng(n_boxes)
    lo = rng.uniform(0, 1000, size=(5000, 2))
    rows = np.column_stack([lo, lo + rng.uniform(0, 20, size=(5000, 2))])
    rows[::97] = np.nan
    rows[1] = [100.0, 100.0, 110.0, 110.0]
    b0 = rng.uniform(0, 300, size=(n_boxes, 2))  # the boxes in one corner, as a corridor's in a big layer
    boxes = np.column_stack([b0, b0 + rng.uniform(1, 30, size=(n_boxes, 2))])
    boxes[0] = [110.0, 90.0, 120.0, 100.0]  # touches row 1 at a corner only: it meets
    with np.errstate(invalid="ignore"):
        meets = ((rows[:, None, 2] >= boxes[None, :, 0]) & (rows[:, None, 0] <= boxes[None, :, 2])
                 & (rows[:, None, 3] >= boxes[None, :, 1]) & (rows[:, None, 1] <= boxes[None, :, 3]))
    want = np.flatnonzero(meets.any(axis=1))
    got = _rows_meeting(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], boxes)
    assert 1 in got
    np.testing.assert_array_equal(np.sort(got), want)
    r, j = _row_box_pairs(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], boxes)  # and which boxes each meets
    assert sorted(zip(r.tolist(), j.tolist())) == sorted(zip(*np.nonzero(meets)))


def test_exact_hits_the_same_through_either_index(monkeypatch):
    """A mask of many small parts is searched feature by feature, one of few parts by its boxes; the hits
    are the same, and a feature the test cannot judge (NaN coordinates, a hole outside its shell) is kept."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from landplan import sources

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1000, 400), rng.uniform(0, 1000, 400)
    feats = list(shapely.box(x, y, x + rng.uniform(1, 30, 400), y + rng.uniform(1, 30, 400)))
    feats.append(shapely.Polygon([(5000, 5000), (5010, 5000), (5010, 5010), (5000, 5010)],
                                 [[(5020, 5020), (5030, 5020), (5030, 5030)]]))  # a hole outside its shell: invalid
    feats.append(shapely.Polygon([(0, 0), (1, 0), (float("nan"), 1)]))
    gdf = gpd.GeoDataFrame(geometry=feats)
    line = shapely.LineString([(0, 0), (1000, 1000)]).buffer(20)
    tiles = np.array([shapely.clip_by_rect(line, i * 10, 0, i * 10 + 10, 1000) for i in range(100)], dtype=object)
    tiles = tiles[~shapely.is_empty(tiles)]
    assert len(tiles) > sources.MANY_MASK_PARTS
    many = sources._exact_hits(gdf, tiles)
    monkeypatch.setattr(sources, "MANY_MASK_PARTS", 10**9)
    few = sources._exact_hits(gdf, tiles)
    want = shapely.intersects(np.array(feats[:-2], dtype=object), shapely.union_all(tiles))
    assert np.array_equal(many, few) and np.array_equal(many[:-2], want) and many[-2:].all() and 10 < want.sum() < 390
