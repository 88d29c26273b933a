"""The regional synthetic scenario (landplan.scale.regional): provinces in their own meridians, partitioned GeoParquet, deterministic."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pyproj
import pytest
import shapely

import landplan
from landplan.scale import regional


@pytest.fixture(scope="module")
def small_region(tmp_path_factory):
    """Five provinces of about 20,000 parcels each."""
    folder = tmp_path_factory.mktemp("region")
    return regional.write_regional(folder, provinces=5, parcels=20_000)


def test_same_arguments_same_bytes(small_region, tmp_path):
    again = regional.write_regional(tmp_path, provinces=5, parcels=20_000)
    a, b = small_region.parent, again.parent
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 5 + 2  # a partition per province, the context layers, the scenario
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_partitions_in_their_meridians_with_bbox_covering(small_region):
    parts = sorted((small_region.parent / "parcels").glob("province=*/part-0.parquet"))
    assert [p.parent.name for p in parts] == sorted(f"province={p.slug}" for p in regional.PROVINCES[:5])
    by_slug = {p.slug: p for p in regional.PROVINCES}
    for path in parts:
        prov = by_slug[path.parent.name.split("=")[1]]
        meta = json.loads(pq.read_schema(path).metadata[b"geo"])
        col = meta["columns"][meta["primary_column"]]
        assert pyproj.CRS.from_user_input(col["crs"]).equals(pyproj.CRS.from_epsg(prov.epsg))
        assert set(col["covering"]["bbox"]) == {"xmin", "ymin", "xmax", "ymax"}
        f = pq.ParquetFile(path)
        assert 15_000 < f.metadata.num_rows < 25_000
        assert f.metadata.row_group(0).num_rows == regional.ROW_GROUP
        # Hilbert-sorted: a row group covers a compact part of the province, far less than all of it
        t = f.read(columns=["bbox"]).column("bbox").combine_chunks()
        x = np.asarray(t.field("xmin"))
        first = x[: regional.ROW_GROUP]
        assert (first.max() - first.min()) < 0.75 * (x.max() - x.min())
    assert {by_slug[p.parent.name.split("=")[1]].epsg for p in parts} == {5897, 9209}


def test_network_crosses_every_province_and_parcels_meet(small_region):
    result = landplan.run(small_region)
    assert set(result.parcels["partition"]) == {p.slug for p in regional.PROVINCES[:5]}
    assert dict(zip(result.parcels["partition"], result.parcels["measured_crs"])) == {
        p.slug: f"EPSG:{p.epsg}" for p in regional.PROVINCES[:5]}
    a = result.approvals
    # the provinces' parcels cover the land: nearly all of each footprint is in a parcel (the corners clipped
    # to under 1 m² at the provinces' edges are left out)
    assert (a["not_in_parcels_m2"] < 1e-4 * a["footprint_m2"]).all()
    lengths = regional.network(regional.layout(5, 20_000)).length
    assert lengths.sum() > 10_000.0


def test_network_length_as_asked():
    lay = regional.layout(13, 1_000_000)
    full = regional.network(lay).length.sum() / 1000.0
    assert 600.0 < full < 800.0  # 13 provinces of about 45 km: several hundred km of expressways
    assert regional.network(lay, 600.0).length.sum() / 1000.0 == pytest.approx(600.0, rel=1e-6)
    provinces = [shapely.box(*lay.cell(p)) for p in lay.provinces]
    assert not any(shapely.overlaps(a, b) for i, a in enumerate(provinces) for b in provinces[i + 1:])


def test_layout_arguments_checked():
    with pytest.raises(ValueError, match="provinces must be from 1 to 13"):
        regional.layout(14, 1000)
    with pytest.raises(ValueError, match="parcels must be at least 1"):
        regional.layout(2, 0)
