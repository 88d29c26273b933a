"""Draw the README's pictures of the print exports from the embedded sample.

    .venv/bin/python scripts/export_pictures.py     # writes docs/strip_map_page.png, docs/report_figure.png, docs/export_hub_A4.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    import landplan
    from landplan import atlas, cairodraw, exports, printing
    from landplan.sample import write_sample_scenario

    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        result = landplan.run(write_sample_scenario(Path(tmp) / "sample"))
        pages = atlas.atlas_pages(result)["cao_toc_ct_cm"]
        written = atlas.render_project(result, "cao_toc_ct_cm", pages, Path(tmp), pdf=False, numbers=[2], dpi=110)
        (docs / "strip_map_page.png").write_bytes(written[0].read_bytes())
        # drawn as the exports are (cairo, printing.save), at a lower resolution for the page
        fig, _ = exports.report_figure(result, project="trung_tam_nong_nghiep")
        with printing.drawing():
            cairodraw.write_recording(cairodraw.record_figure(fig), docs / "report_figure.png", "png", dpi=120)
        fig, _ = exports.map_figure(result, project="trung_tam_nong_nghiep", paper="A4")
        with printing.drawing():
            cairodraw.write_recording(cairodraw.record_figure(fig), docs / "export_hub_A4.png", "png", dpi=100)
    print("wrote docs/strip_map_page.png, docs/report_figure.png, docs/export_hub_A4.png")


if __name__ == "__main__":
    main()
