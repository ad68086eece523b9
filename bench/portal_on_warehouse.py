"""The portal's page loads of `popreg bench` (`bench/portal.py`), against a running stack.

    .venv/bin/python bench/portal_on_warehouse.py [TIMES]   (POPREG_DATA_DIR: the stack)

For the portal alone on a warehouse built another way than by publishing, e.g. the
province `bench/indicator_queries.py --households 290000 --copies 1 --data DIR` folds
(the same synthetic province as `popreg bench --scale province`, in ~15 minutes instead
of ~40): `popreg up --no-processors` once, `popreg down`, put a copy of DIR in the
stack's `clickhouse` directory, `popreg up --no-processors`, add the sums with
`IndicatorSink.settle` (no indicator processor runs to do it), start `popreg portal`,
then run this. Prints each figure as `popreg bench` would report it.
"""

from __future__ import annotations

import sys

from bench.portal import portal_figures
from schemas.settings import load_settings


def main() -> None:
    times = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    for figure in portal_figures(load_settings(), [], print, times=times):
        print(f"{figure.name:55s} {figure.value:10.1f} {figure.unit}")


if __name__ == "__main__":
    main()
