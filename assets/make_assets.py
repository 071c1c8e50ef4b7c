"""Rebuild (and check) every example file under assets/.

    python assets/make_assets.py                  # build everything, then check it
    python assets/make_assets.py images audio     # build only some groups
    python assets/make_assets.py --check          # only check what is there

Groups: vocab texts images audio series. The output is deterministic for the pinned tool
versions named in assets/README.md (Pillow, numpy, espeak-ng, ffmpeg); vocab needs npm and pip
to reach their registries, audio needs the apt packages espeak-ng and ffmpeg.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so `makers` imports when run as a script

GROUPS = ["vocab", "texts", "images", "audio", "series"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", choices=GROUPS + [[]], default=[], metavar="GROUP",
                        help=f"which groups to build (default: all of {', '.join(GROUPS)})")
    parser.add_argument("--check", action="store_true", help="only check the files that are there")
    args = parser.parse_args(argv)
    groups = args.groups or GROUPS
    for name in groups:
        module = importlib.import_module(f"makers.{name}")
        if not args.check:
            made = module.build()
            print(f"{name}: wrote {len(made)} files")
        module.check()


if __name__ == "__main__":
    main()
