"""The embedded Cần Thơ sample: realistic, deterministic, and measured right (checked independently)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

from landplan import sample


@pytest.fixture(scope="module")
def layers(sample_scenario):
    gpkg = sample_scenario.parent / sample.SAMPLE_GPKG
    return {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}


def test_same_seed_same_bytes(tmp_path, sample_scenario):
    again = sample.write_sample(tmp_path)
    first = sample_scenario.parent / sample.SAMPLE_GPKG
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(first.read_bytes()).digest()


def test_districts_areas_and_positions(layers):
    d = layers["districts"]
    assert d.crs.to_epsg() == 5897
    assert list(d["name"]) == [x[0] for x in sample.DISTRICTS]
    ratio = d.area / (d["published_area_ha"] * 1e4)
    assert ((ratio > 0.95) & (ratio < 1.06)).all(), ratio.tolist()
    tr = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)
    for (name, _, lat, lon), geom in zip(sample.DISTRICTS, d.geometry):
        assert geom.distance(Point(tr.transform(lon, lat))) < 1500, name  # published centroid in or next to it
    total_ha = d.area.sum() / 1e4
    assert 140_000 < total_ha < 150_000
    # the districts tile the city: no overlaps, no gaps
    assert shapely.union_all(d.geometry.values).area == pytest.approx(d.area.sum(), rel=1e-9)


def test_projects_as_published(layers):
    lines = layers["project_centrelines"]
    ring = lines[lines["project"] == "vanh_dai_tay"]
    assert ring.length.sum() == pytest.approx(19_300, rel=0.03)  # about 19.3 km
    assert set(ring["width_m"]) == {80.0}
    hub = layers["project_polygons"]
    assert hub.area.iloc[0] == pytest.approx(2_500_000, rel=1e-9)  # 250 ha


def test_parcels_realistic(layers):
    p = layers["parcels"]
    assert len(p) > 20_000
    rice = p[p["landuse"].isin(["LUC", "LUK"])]
    farm = p[p["landuse"].isin(["LUC", "LUK", "CLN", "NTS", "HNK"])]
    assert rice.area.sum() > 0.5 * farm.area.sum()  # rice is the majority of farmland
    med = rice.area.median() / 1e4
    assert 0.2 <= med <= 2.0  # rice strips of roughly 0.2–2 ha
    # long strips: length several times the width
    rect = shapely.oriented_envelope(rice.geometry.values)
    coords = shapely.get_coordinates(rect).reshape(-1, 5, 2)
    sides = np.hypot(*(coords[:, 1] - coords[:, 0]).T), np.hypot(*(coords[:, 2] - coords[:, 1]).T)
    elong = np.maximum(*sides) / np.minimum(*sides)
    assert np.median(elong) > 3
    assert set(p["landuse"]) >= {"LUC", "LUK", "CLN", "ONT", "NTS", "ODT", "DGT", "SON"}
    assert p["owner"].str.contains("Nguyễn").any()


def _independent_rice_m2(layers) -> dict[str, float]:
    """Rice area per project with plain shapely: footprint ∩ union of rice parcels (no index, no take table)."""
    p = layers["parcels"]
    rice = shapely.make_valid(p.loc[p["landuse"].isin(["LUC", "LUK", "LUN"])].geometry.values)
    out = {}
    lines = layers["project_centrelines"]
    for pid, grp in lines.groupby("project"):
        # consecutive segments of equal width are one line (mitred joins); different widths are unioned
        parts = []
        for w, same in grp.groupby("width_m"):
            line = shapely.line_merge(shapely.union_all([LineString(g.coords) for g in same.geometry]))
            parts.append(line.buffer(w / 2, cap_style="flat", join_style="mitre", mitre_limit=5.0))
        out[pid] = shapely.union_all(parts)
    for _, r in layers["project_polygons"].iterrows():
        out[r["project"]] = r.geometry
    result = {}
    for pid, fp in out.items():
        near = rice[shapely.intersects(rice, fp)]
        result[pid] = shapely.intersection(shapely.union_all(near), fp).area
    return result


def test_summary_rice_matches_independent_computation(layers, sample_result, tmp_path):
    out = sample_result.write(tmp_path / "out", exports=False)
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    expected = _independent_rice_m2(layers)
    for admin_layer in ("district", "ward"):
        for table, rel, per_row in ((sample_result.summary, 1e-9, 0.0), (summary, 0.0, 0.005)):  # in memory; CSV rounded to 0.01 m²
            s = table[(table["admin_layer"] == admin_layer) & table["is_rice"]]
            got = s.groupby("project")["area_m2"].sum()
            rows = s.groupby("project").size()
            for pid, exp in expected.items():
                assert got[pid] == pytest.approx(exp, rel=rel, abs=per_row * rows[pid] + 1e-9), (admin_layer, pid)
    appr = sample_result.approvals.set_index("project")
    for pid, exp in expected.items():
        assert appr.loc[pid, "rice_m2"] == pytest.approx(exp, rel=1e-9)
    # the ellipsoidal check agrees with the planar figure within 0.1 %
    assert ((appr["ellipsoidal_ratio"] - 1).abs() < 1e-3).all()


def test_sample_run_reports_its_defects(sample_result):
    assert len(sample_result.parcel_overlaps) == 3  # the three parcels digitised twice
    assert len(sample_result.report.repairs) == 1  # the bowtie
    pairs = {frozenset(x) for x in sample_result.project_overlaps[["project_a", "project_b"]].to_numpy()}
    assert frozenset({"vanh_dai_tay", "trung_tam_nong_nghiep"}) in pairs
    hub_ring = sample_result.project_overlaps
    ov = hub_ring[hub_ring["project_b"].eq("trung_tam_nong_nghiep") | hub_ring["project_a"].eq("trung_tam_nong_nghiep")]
    assert ov["overlap_m2"].iloc[0] == pytest.approx(1700 * 10, rel=1e-6)  # 10 m of the hub inside the corridor


def test_sample_scenario_is_valid(sample_scenario):
    from landplan import load_scenario

    sc = load_scenario(sample_scenario)
    assert {p.id for p in sc.projects} == {"vanh_dai_tay", "dt921", "cao_toc_ct_cm", "trung_tam_nong_nghiep"}
