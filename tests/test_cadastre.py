"""A realistic cadastre (tests/cadastre.py) checked parcel by parcel against an independent computation.

The independent computation is plain shapely written here, the slow obvious way, from the documented
rules only: the overlap rule (land in two parcels belongs to the parcel whose id sorts first), a
piece is noise under 0.01 m² or 1 mm of mean width, what remains is the parcel less the footprint,
only touched parts of a multi-part parcel are screened, a piece is small when its area rounded to
0.01 m² is below the minimum and narrow when the mitred inward buffer by (minimum width − 1 mm) / 2
is empty. Then also: the same cadastre shifted by the VN-2000 datum step, and labelled UTM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from landplan import landuse, run
from landplan.errors import LayerError
from landplan.scenario import DEFAULT_MIN_REMNANT_M2, DEFAULT_MIN_REMNANT_WIDTH_M
from tests import cadastre


def _noise(g) -> bool:
    a = shapely.area(g)
    return bool(a < 0.01 or (shapely.length(g) > 0 and 2 * a / shapely.length(g) < 0.001))


def _polys(g):
    return [p for p in shapely.get_parts(g) if shapely.get_type_id(p) == 3 and not p.is_empty]


def _screen(counted, cutter, code):
    """The record of ``counted`` less ``cutter``, by the documented rules, with no shortcut."""
    group = landuse.group(code)
    min_a, min_w = DEFAULT_MIN_REMNANT_M2[group], DEFAULT_MIN_REMNANT_WIDTH_M[group]
    parts = _polys(counted)
    touched = [p for p in parts if not _noise(shapely.intersection(p, cutter))]
    untouched = sum(p.area for p in parts if p not in touched)
    rest = shapely.difference(shapely.union_all(touched), cutter) if touched else shapely.Polygon()
    pieces = [p for p in _polys(rest) if not _noise(p)]
    small = [round(p.area, 2) < min_a for p in pieces]
    half = (min_w - 0.001) / 2
    narrow = [half > 0 and shapely.buffer(p, -half, join_style="mitre", mitre_limit=5.0).is_empty for p in pieces]
    return {"remnant_pieces": len(pieces), "untouched_m2": untouched, "remnant_small": any(small),
            "remnant_narrow": any(narrow), "piece_areas": sorted(round(p.area, 6) for p in pieces)}


def independent(parcels, projects):
    ids = parcels["pid"].tolist()
    geoms = [shapely.union_all(_polys(shapely.make_valid(g))) for g in parcels.geometry]
    tree = shapely.STRtree(geoms)
    counted = {}
    for i, g in enumerate(geoms):  # the overlap rule
        earlier = [geoms[j] for j in tree.query(g) if j != i and ids[j] < ids[i] and shapely.intersection(g, geoms[j]).area > 0]
        counted[ids[i]] = shapely.difference(g, shapely.union_all(earlier)) if earlier else g
    codes = dict(zip(ids, parcels["lu"]))
    per_project, touching = {}, {}
    for name, f in projects.items():
        for j in tree.query(f):
            pid = ids[j]
            piece = shapely.intersection(counted[pid], f)
            if piece.is_empty or piece.area == 0 or _noise(piece):
                continue
            area = counted[pid].area
            rec = {"take_m2": piece.area, "counted_area_m2": area, "remnant_m2": max(area - piece.area, 0.0),
                   **_screen(counted[pid], f, codes[pid])}
            per_project[(name, pid)] = rec
            touching.setdefault(pid, []).append(name)
    totals = {}
    for pid, names in touching.items():
        f = shapely.union_all([projects[n] for n in names])
        take = shapely.intersection(counted[pid], f).area
        totals[pid] = {"take_m2": take, "remnant_m2": max(counted[pid].area - take, 0.0), **_screen(counted[pid], f, codes[pid])}
    return per_project, totals


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cadastre")
    frame = cadastre.parcels()
    return frame, run(cadastre.write(folder, parcel_frame=frame))


def _compare(got: pd.DataFrame, expected: dict, key_cols: list[str]) -> None:
    got = got.set_index(key_cols)
    assert set(got.index) == set(expected), (set(got.index) ^ set(expected))
    for key, exp in expected.items():
        row = got.loc[key]
        for col in ("take_m2", "remnant_m2", "untouched_m2"):
            assert row[col] == pytest.approx(exp[col], abs=1e-6), (key, col)
        for col in ("remnant_pieces", "remnant_small", "remnant_narrow"):
            assert row[col] == exp[col], (key, col, row[col], exp[col])


def test_realistic_cadastre_has_what_it_should(realistic):
    _, r = realistic
    t = r.parcel_totals
    assert (t["projects"].str.contains(",")).sum() >= 20  # parcels under two or three projects
    assert (r.parcels["remnant_pieces"] >= 2).sum() >= 50 and (r.parcels["remnant_pieces"] == 3).any()  # cut in two and three
    assert (r.parcels["parcel_parts"] > 1).any()  # multi-part parcels affected
    assert len(r.parcel_overlaps) >= 10 and (r.slivers["kind"] == "parcel_overlap").sum() >= 50  # overlaps, and noise at shared edges
    assert r.parcels["remnant_small"].any() and r.parcels["remnant_narrow"].any()


def test_every_parcel_record_equals_the_independent_computation(realistic):
    frame, r = realistic
    per_project, totals = independent(frame, cadastre.projects())
    _compare(r.parcels, per_project, ["project", "parcel_id"])
    _compare(r.parcel_totals, totals, ["parcel_id"])
    # every remaining piece, all projects together
    got = r.remnants.groupby("parcel_id")["area_m2"].apply(lambda s: sorted(round(v, 6) for v in s)).to_dict()
    for pid, exp in totals.items():
        assert got.get(pid, []) == pytest.approx(exp["piece_areas"], abs=1e-5), pid
    # and the take table's pieces
    pieces = r.pieces.set_index(["project", "parcel_id"])["take_m2"]
    assert set(pieces.index) == set(per_project)
    for key, exp in per_project.items():
        assert pieces.loc[key] == pytest.approx(exp["take_m2"], abs=1e-6)


def test_totals_balance_to_the_footprints(realistic):
    _, r = realistic
    a = r.approvals.set_index("project")
    assert (a["take_m2"] + a["noise_m2"] + a["not_in_parcels_m2"] - a["footprint_m2"]).abs().max() < 1e-6
    union = shapely.union_all(list(cadastre.projects().values()))
    assert r.totals.set_index("landuse").loc["TOTAL", "area_m2"] == pytest.approx(r.parcel_totals["take_m2"].sum(), abs=1e-6)
    assert r.parcel_totals["take_m2"].sum() <= union.area
    for k in r.admin:  # each piece's split by ward adds up to the piece
        s = r.summary[r.summary["admin_layer"] == k].groupby("project")["area_m2"].sum()
        assert (s - a["take_m2"].reindex(s.index)).abs().max() < 1e-6


# --- 9. layers that should coincide ----------------------------------------------------------

def _shifted(dx: float, dy: float):
    frame = cadastre.parcels()
    return frame.assign(geometry=shapely.transform(np.asarray(frame.geometry.values), lambda xy: xy + np.array([dx, dy])))


@pytest.mark.parametrize("dx, dy, cause", [(197.0, -112.0, "datum step"), (173.6, -443.4, "UTM zone 48N")])
def test_parcels_offset_from_the_wards_are_refused_naming_the_vector(tmp_path: Path, dx, dy, cause):
    sc = cadastre.write(tmp_path, parcel_frame=_shifted(dx, dy))
    with pytest.raises(LayerError) as err:
        run(sc)
    msg = str(err.value)
    assert "cadastre.gpkg:parcels" in msg and "cadastre.gpkg:wards" in msg and cause in msg
    import re

    m = re.search(r"offset by a constant ([\d.,]+) m \(([+-][\d.,]+) m east, ([+-][\d.,]+) m north", msg)
    assert m, msg
    length, east, north = (float(v.replace(",", "")) for v in m.groups())
    assert (length, east, north) == pytest.approx((np.hypot(dx, dy), dx, dy), abs=1.0)  # found to a metre
    assert 'layer_offset = "warn"' in msg


def test_offset_as_a_warning_runs_and_says_so(tmp_path: Path):
    sc = cadastre.write(tmp_path, parcel_frame=_shifted(197.0, -112.0), extra='\n[checks]\nlayer_offset = "warn"\n')
    r = run(sc)
    assert any("should coincide but are offset" in w for w in r.report.warnings)


def test_aligned_layers_raise_nothing_and_small_offsets_are_below_the_alarm(tmp_path: Path):
    r = run(cadastre.write(tmp_path / "a"))
    assert not any("offset" in w for w in r.report.warnings)
    r = run(cadastre.write(tmp_path / "b", parcel_frame=_shifted(2.0, -1.5)))  # 2.5 m: digitising, not a datum
    assert not any("offset" in w for w in r.report.warnings)


def test_two_admin_layers_offset_from_each_other(tmp_path: Path):
    # districts drawn from the same canal, shifted by the datum step, against the wards
    w = cadastre.wards()
    district = w.dissolve().assign(ten="Quận").reset_index(drop=True)
    halves = w.assign(geometry=shapely.transform(np.asarray(w.geometry.values), lambda xy: xy + np.array([197.0, -112.0])))
    folder = tmp_path / "x"
    sc = cadastre.write(folder, ward_frame=halves)
    import pyogrio

    pyogrio.write_dataframe(district, folder / "cadastre.gpkg", layer="districts", driver="GPKG")
    text = sc.read_text(encoding="utf-8") + '\n[[admin]]\nkey = "district"\npath = "cadastre.gpkg"\nlayer = "districts"\nname = "ten"\n'
    sc.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError, match=r"wards.*should coincide"):
        run(sc)


def test_validate_runs_the_checks_a_run_makes(tmp_path: Path):
    from landplan.cli import main

    sc = cadastre.write(tmp_path, parcel_frame=_shifted(197.0, -112.0))
    assert main(["validate", str(sc)]) == 2
    sc2 = cadastre.write(tmp_path / "ok")
    assert main(["validate", str(sc2)]) == 0
