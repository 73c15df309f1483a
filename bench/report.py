"""Benchmark the coverage report: seconds and size of each format for the district and
for one community, and the PDF's pages. Prints JSON.

    python bench/report.py [--district DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from geo_service.api.app import create_app
from geo_service.reports.render import REPORT_FORMATS, render_report
from geo_service.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    app = create_app(
        Settings(district_dir=args.district, derived_dir=work / "derived", state_dir=work / "s")
    )
    context, store = app.state.coverage, app.state.store
    community = str(store.query("community_coverage")["id"].iloc[0])
    rows = {}
    for scope in (None, community):
        for fmt in REPORT_FORMATS:
            times, export = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                export = render_report(context, store, fmt=fmt, area=scope)
                times.append(time.perf_counter() - started)
            row = {"seconds": round(statistics.median(times), 2), "kb": len(export.content) // 1024}
            if fmt == "pdf":
                row["pages"] = len(PdfReader(io.BytesIO(export.content)).pages)
            rows[f"{scope or 'district'} {fmt}"] = row
    print(json.dumps({"district": context.profile.name.pick("en"), "reports": rows}, indent=2))


if __name__ == "__main__":
    main()
