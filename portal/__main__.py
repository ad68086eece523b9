"""`python -m portal --settings FILE`: how the portal's supervisor runs it, with the
exact settings `popreg up` ran with (they may have been given in code)."""

from __future__ import annotations

import argparse
from pathlib import Path

from portal.app import serve
from schemas.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", type=Path, required=True)
    args = parser.parse_args()
    serve(Settings.model_validate_json(args.settings.read_text()))


if __name__ == "__main__":
    main()
