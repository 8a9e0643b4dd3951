"""python -m verification [--list] [-k SUBSTRING] [NAME ...] [--out DIR]"""
import argparse
import sys
from pathlib import Path

from verification import core, load_checks


def main(argv=None):
    load_checks()
    p = argparse.ArgumentParser(prog="python -m verification",
                                description="Statistical verification of ionmc: closed forms "
                                "and methods against each other over many seeds, each check "
                                "drawing its figures.")
    p.add_argument("names", nargs="*", help="checks to run (default: all; see --list)")
    p.add_argument("-k", dest="substring", help="run the checks whose name contains this")
    p.add_argument("--list", action="store_true", help="list the checks and where their "
                   "figures go, and exit")
    p.add_argument("--out", type=Path, default=core.OUT, help="where figures go "
                   f"(default {core.OUT.relative_to(core.ROOT)})")
    a = p.parse_args(argv)
    names = list(core.REGISTRY)
    if a.names:
        unknown = [n for n in a.names if n not in core.REGISTRY]
        if unknown:
            p.error(f"unknown check(s): {', '.join(unknown)} (see --list)")
        names = a.names
    if a.substring:
        names = [n for n in names if a.substring in n]
    if not names:
        p.error("no check selected")
    if a.list:
        out = a.out.resolve()
        shown = out.relative_to(core.ROOT) if out.is_relative_to(core.ROOT) else out
        for n in names:
            print(f"{n:58s} {core.title(core.REGISTRY[n])}")
        print(f"{len(names)} checks; figures and logs in {shown}/<check>/")
        return 0
    return 0 if core.run(names, a.out.resolve()) else 1


if __name__ == "__main__":
    sys.exit(main())
