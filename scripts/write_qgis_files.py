"""Write the QGIS styles in gis/styles/ and the project gis/landplan_demo.qgs for the Cần Thơ sample.

Usage: python scripts/write_qgis_files.py [--check]
The project opens ../output/demo/landplan.gpkg, where `make demo` writes. tests/test_qgis.py checks that
the files in gis/ equal what this script writes; run it again after changing landplan.qgis or the sample.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import shapely

from landplan import qgis, sample

ROOT = Path(__file__).resolve().parents[1]
GIS = ROOT / "gis"
DEMO_GPKG = "../output/demo/landplan.gpkg"  # relative to gis/
DEMO_TITLE = "landplan – Cần Thơ (dữ liệu mẫu)"
MARGIN_M = 1000.0
ROUND_M = 500.0


def sample_projects() -> list[tuple[str, str, bool]]:
    """The sample's projects as ``(id, Vietnamese name, is_hub)``, the hub last."""
    return [(p.id, p.name_vi, False) for p in sample.PROJECTS] + [(sample.HUB_ID, sample.HUB_NAME_VI, True)]


def sample_extent() -> tuple[float, float, float, float]:
    """The sample's projects with a 1 km margin, rounded out to 500 m (EPSG:5897)."""
    geoms = list(sample.merged_centrelines().geometry) + list(sample.hub_polygon().geometry)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return (math.floor((xmin - MARGIN_M) / ROUND_M) * ROUND_M, math.floor((ymin - MARGIN_M) / ROUND_M) * ROUND_M,
            math.ceil((xmax + MARGIN_M) / ROUND_M) * ROUND_M, math.ceil((ymax + MARGIN_M) / ROUND_M) * ROUND_M)


def files() -> dict[str, str]:
    """Every file this script writes: path relative to the repository → text."""
    styles = qgis.styles_for(sample_projects(), "vi")
    out = {f"gis/styles/{name}.qml": styles[name] for name in qgis.LAYERS}
    out["gis/landplan_demo.qgs"] = qgis.project_xml(DEMO_GPKG, qgis.LAYERS, sample.SAMPLE_CRS, styles, DEMO_TITLE,
                                                    lang="vi", extent=sample_extent())
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the files (or, with ``--check``, report those that differ and return 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs from what would be written")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in files().items():
        path = ROOT / rel
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {rel}")
    for rel in stale:
        print(f"out of date: {rel}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
