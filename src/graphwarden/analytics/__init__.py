"""Analytics over the disclosure ledger: exposure summaries and reports (DuckDB via Ibis).

Every number here is computed from a ledger's Parquet export (the disclosure records as they
were written), never from a counter kept by whoever produced the traffic.
"""

from graphwarden.analytics.exposure import (
    ExposureRun,
    GrowthCurve,
    export_ledger,
    exposure_run,
    growth_curve,
    write_people,
)

__all__ = [
    "ExposureRun",
    "GrowthCurve",
    "export_ledger",
    "exposure_run",
    "growth_curve",
    "write_people",
]
