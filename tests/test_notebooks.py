"""The notebooks in notebooks/: each runs top to bottom on a fresh kernel, offline, and none carries outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_six_notebooks_in_order():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_bring_your_own_layers.ipynb",
                                           "03_rice_from_raster.ipynb", "04_compare_alignments.ipynb", "05_price_tables.ipynb",
                                           "06_least_rice_alignment_and_site.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear outputs before committing"


def test_notebooks_match_their_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("write_notebooks", Path(__file__).parents[1] / "scripts" / "write_notebooks.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, cells in mod.NOTEBOOKS.items():
        nb = nbformat.read(Path(__file__).parents[1] / "notebooks" / name, as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in cells], name


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_a_fresh_kernel(path: Path, work: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    params = nb.cells[1]
    assert 'WORK = Path("../output/notebooks")' in params.source
    params.source = params.source.replace('Path("../output/notebooks")', f"Path({str(work)!r})")
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
