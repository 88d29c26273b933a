"""The error hierarchy: every problem landplan reports to a user is one of these."""

from __future__ import annotations


class LandplanError(Exception):
    """Root of every error landplan raises on purpose; the CLI prints its message and exits 2."""


class ScenarioError(LandplanError, ValueError):
    """Raised when a scenario file is unreadable or names something that is wrong; lists every problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"scenario {path}: {n} problem{'s' if n != 1 else ''}\n{lines}")


class InputFileError(LandplanError, FileNotFoundError):
    """Raised when an input file is missing, unreadable or corrupt."""


class LayerError(LandplanError, ValueError):
    """Raised when a layer's content is unusable (no CRS, missing columns, unknown codes, no overlap)."""


class CRSError(LandplanError, ValueError):
    """Raised when a CRS is missing, unknown, or not suitable for measuring area."""


class OutputExistsError(LandplanError, FileExistsError):
    """Raised when an output folder already holds results and ``overwrite`` was not asked for."""


class PriceError(LandplanError, LookupError):
    """Raised when a parcel taken finds no row in a price or coefficient table (every such parcel is listed)."""
