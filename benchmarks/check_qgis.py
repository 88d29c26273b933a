"""Open landplan's QGIS project with QGIS itself (Debian's python3-qgis) and check it as GIS staff would.

Writes the sample's outputs with the venv's landplan, then runs Debian's ``/usr/bin/python3`` with
QGIS (offscreen) to open ``landplan.qgs``: every layer must be valid and drawn with landplan's
style, the print layout must exist with its atlas over the strip-map pages, and QGIS must export
the atlas's first page to PDF and PNG. Installs ``python3-qgis`` and ``qgis-providers`` with apt-get
when they are missing and the script runs as root (CI does not run this).

    .venv/bin/python benchmarks/check_qgis.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

QGIS_PYTHON = "/usr/bin/python3"

#: Run by Debian's Python with QGIS: opens the project, prints a JSON report.
CHECK = r'''
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsProject, QgsLayoutExporter, Qgis
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
out = {"qgis": Qgis.QGIS_VERSION, "read": ok, "layers": [], "layouts": []}
for layer in project.mapLayers().values():
    r = layer.renderer()
    out["layers"].append({"name": layer.name(), "valid": layer.isValid(), "features": layer.featureCount(),
                          "renderer": r.type() if r else None,
                          "categories": len(r.categories()) if r is not None and hasattr(r, "categories") else None,
                          "crs": layer.crs().authid()})
for layout in project.layoutManager().printLayouts():
    atlas = layout.atlas()
    info = {"name": layout.name(), "items": sorted(type(i).__name__ for i in layout.items() if hasattr(i, "uuid")),
            "atlas_enabled": atlas.enabled(), "coverage": atlas.coverageLayer().name() if atlas.coverageLayer() else None}
    if atlas.enabled() and atlas.coverageLayer() is not None:
        atlas.beginRender()
        info["atlas_pages"] = atlas.count()
        atlas.first()
        m = layout.referenceMap()
        info["first_page"] = {"scale": round(m.scale(), 3), "rotation": round(m.mapRotation(), 3), "name": atlas.currentFilename()}
        exporter = QgsLayoutExporter(layout)
        pdf = os.path.join(sys.argv[2], "qgis_atlas_page1.pdf")
        png = os.path.join(sys.argv[2], "qgis_atlas_page1.png")
        info["export_pdf"] = exporter.exportToPdf(pdf, QgsLayoutExporter.PdfExportSettings()) == QgsLayoutExporter.Success
        settings = QgsLayoutExporter.ImageExportSettings()
        settings.dpi = 60
        info["export_png"] = exporter.exportToImage(png, settings) == QgsLayoutExporter.Success
        atlas.endRender()
    out["layouts"].append(info)
print(json.dumps(out))
app.exitQgis()
'''


def ensure_qgis() -> None:
    """Install Debian's QGIS Python bindings when missing (as root)."""
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if probe.returncode == 0:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("QGIS is not installed: sudo apt-get install python3-qgis qgis-providers")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-qgis", "qgis-providers"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="write the outputs here (kept) instead of a temporary folder")
    args = ap.parse_args()
    ensure_qgis()
    import landplan
    from landplan.sample import write_sample_scenario

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        sc = write_sample_scenario(work / "sample")
        result = landplan.run(sc)
        out = result.write(work / "out", overwrite=True, exports="none")
        proc = subprocess.run([QGIS_PYTHON, "-c", CHECK, str(out / "landplan.qgs"), str(out)], capture_output=True, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"QGIS {report['qgis']}: project read {'OK' if report['read'] else 'FAILED'}")
        problems = [] if report["read"] else ["the project could not be read"]
        for layer in report["layers"]:
            cats = "" if layer["categories"] is None else f" ({layer['categories']} categories)"
            print(f"  layer {layer['name']!r}: valid={layer['valid']} features={layer['features']} renderer={layer['renderer']}{cats} "
                  f"crs={layer['crs']}")
            if not layer["valid"]:
                problems.append(f"layer {layer['name']} is not valid")
            if layer["renderer"] in (None, "singleSymbol") and layer["name"] not in ("Các tờ bình đồ", "Strip-map pages"):
                problems.append(f"layer {layer['name']} is not styled by landplan")
        for lay in report["layouts"]:
            print(f"  layout {lay['name']!r}: items {lay['items']}; atlas enabled={lay['atlas_enabled']} over {lay['coverage']!r}, "
                  f"{lay.get('atlas_pages')} pages; first page {lay.get('first_page')}; export PDF={lay.get('export_pdf')} PNG={lay.get('export_png')}")
            if not (lay["atlas_enabled"] and lay.get("export_pdf") and lay.get("export_png")):
                problems.append(f"layout {lay['name']} does not export its atlas")
        from landplan.atlas import atlas_pages

        pages = sum(len(v) for v in atlas_pages(result).values())
        if not report["layouts"] or report["layouts"][0].get("atlas_pages") != pages:
            problems.append(f"the atlas should have {pages} pages")
        print("RESULT:", "OK" if not problems else "; ".join(problems))
        return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
