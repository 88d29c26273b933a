"""landplan: which land road corridors and the agricultural hub take in Cần Thơ, measured exactly."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .errors import LandplanError

if TYPE_CHECKING:
    from .pipeline import Result, run
    from .planning.alternatives import compare_map, compare_results
    from .scenario import Scenario, load_scenario

logging.getLogger("landplan").addHandler(logging.NullHandler())

# The verbs load their modules (geopandas, shapely, GDAL) on first use, so that ``import landplan`` and
# the command line start at once (a Ctrl-C at start-up meets the command's own handler, not an import).
_LAZY = {"compare_map": "planning.alternatives", "compare_results": "planning.alternatives", "Result": "pipeline", "run": "pipeline",
         "Scenario": "scenario", "load_scenario": "scenario"}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata takes longer to import than the rest of the package
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("landplan")
        except PackageNotFoundError:  # running from a source tree without installing
            value = "0.0.0+unknown"
        globals()[name] = value
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'landplan' has no attribute {name!r}")

__all__ = ["LandplanError", "Result", "Scenario", "__version__", "compare_map", "compare_results", "load_scenario", "run"]
