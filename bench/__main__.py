"""Run every benchmark in bench/: `python -m bench` (or `make bench`)."""

import pkgutil
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.endswith("_bench"))
    only = sys.argv[1:]
    for name in names:
        if only and name.removesuffix("_bench") not in only:
            continue
        print(f"== {name}", flush=True)
        runpy.run_module(f"bench.{name}", run_name="__main__")
