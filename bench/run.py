"""Run the in-process benchmarks, one call at a time, to explain load.py's figures: `make bench` runs both."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCHES = ["bench_template", "bench_script", "bench_request"]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    for name in BENCHES:
        print(f"== {name}")
        importlib.import_module(name).main()
        print()


if __name__ == "__main__":
    main()
