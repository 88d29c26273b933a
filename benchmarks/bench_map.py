"""How big the planner's map gets and how fast it opens.

Prints the size of the sample's map.html (every project, and each per-project map), the size of
the map for the 1,000,000-parcel benchmark scenario of bench_engine.py (generated if missing), and
the time the sample map takes to load in headless Chromium (Debian's, driven by Playwright), until
every layer is drawn.

    .venv/bin/python benchmarks/bench_map.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def load_time_s(html: Path, repeats: int = 3) -> float:
    """Best of ``repeats``: navigation start until the map and its layers exist and a frame is painted."""
    from tests.browser import open_map

    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        with open_map(html) as pg:
            pg.page.wait_for_function("() => document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
            pg.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
            best = min(best, time.perf_counter() - t)
            assert not pg.errors, pg.errors
    return best


def main() -> None:
    import landplan
    from landplan.sample import write_sample_scenario

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        sc = write_sample_scenario(t / "sample")
        r = landplan.run(sc)
        out = r.write(t / "out", self_contained=True, project_maps=True)
        print(f"sample map.html (self-contained, {len(r.affected):,} parcels, {len(r.pieces):,} pieces): {_mb(out / 'map.html'):.2f} MB")
        for f in sorted((out / "maps").glob("*.html")):
            print(f"  {f.name}: {_mb(f):.2f} MB")
        print(f"sample map load time in headless Chromium: {load_time_s(out / 'map.html'):.2f} s (best of 3)")

        from benchmarks.bench_engine import make_layers, scenario_text

        paths = make_layers(1_000_000)
        big = paths["projects"].parent / "scenario_gpkg.toml"
        big.write_text(scenario_text(paths["gpkg"], paths["projects"]), encoding="utf-8")
        rb = landplan.run(big)
        t0 = time.perf_counter()
        ob = rb.write(t / "big", self_contained=True)
        print(f"1M-parcel benchmark map.html ({len(rb.affected):,} parcels, {len(rb.pieces):,} pieces): "
              f"{_mb(ob / 'map.html'):.2f} MB, outputs written in {time.perf_counter() - t0:.1f} s")
        print(f"1M-parcel map load time in headless Chromium: {load_time_s(ob / 'map.html', repeats=1):.2f} s")


if __name__ == "__main__":
    main()
