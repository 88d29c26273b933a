"""landplan: which land road corridors and the agricultural hub take in Cần Thơ, measured exactly."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("landplan")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from .compare import compare_map, compare_results
from .errors import LandplanError
from .pipeline import Result, run
from .scenario import Scenario, load_scenario

logging.getLogger("landplan").addHandler(logging.NullHandler())

__all__ = ["LandplanError", "Result", "Scenario", "__version__", "compare_map", "compare_results", "load_scenario", "run"]
