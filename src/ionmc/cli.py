"""The `ionmc` command line: a thin layer over the Python API (DESIGN.md section 4)."""
import argparse
import os
import sys

from ionmc import __version__
from ionmc.errors import InputError, WarningTally


def _parser():
    p = argparse.ArgumentParser(prog="ionmc", description="Monte Carlo simulation of ion "
                                "gradients, pumps and their energetics.")
    p.add_argument("--version", action="version", version=f"ionmc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario (file or built-in name)")
    r.add_argument("scenario")
    r.add_argument("-o", "--outdir", required=True)
    r.add_argument("--replicates", type=int)
    r.add_argument("--seed", type=int)
    r.add_argument("--method")
    r.add_argument("--duration", type=float)
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any scenario value (TOML literal); repeatable")
    r.add_argument("--workers", type=int, help="local processes, or the embedded Dask "
                   "cluster's workers with --dask (default: one per core)")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--dask", action="store_true",
                       help="run the replicates on an embedded Dask LocalCluster")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the replicates on the Dask cluster at tcp://HOST:PORT "
                       "(OUTDIR on a filesystem its workers share)")
    e = sub.add_parser("energetics", help="the energy budget of a scenario's initial state")
    e.add_argument("scenario")
    e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any scenario value (TOML literal); repeatable")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    rp = sub.add_parser("report", help="an HTML (or Markdown) report of a run's output")
    rp.add_argument("outdir")
    rp.add_argument("-o", "--output", help="report file (default OUTDIR/report.html or .md)")
    rp.add_argument("--point", type=int, help="of a sweep: the point to report (0, 1, ...)")
    rp.add_argument("--format", choices=("html", "md", "png"), default="html",
                    help="html: one self-contained file; md: Markdown with PNG figures; "
                    "png: the figures alone")
    sub.add_parser("list", help="list the built-in scenarios")
    return p


def _run(args):
    from ionmc.runs.runner import prepare_outdir, rescan, run
    from ionmc.scenario.load import load_scenario

    dask = args.dask or args.scheduler is not None
    if dask:
        from ionmc.runs.cluster import require

        require("--dask" if args.dask else "--scheduler")

    overrides = list(args.set)
    for key, val in (("method", args.method), ("replicates", args.replicates),
                     ("seed", args.seed)):
        if val is not None:
            overrides.append((f"scenario.{key}", val))
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", None, "must be at least 1")
    sc = load_scenario(args.scenario, overrides, duration=args.duration)
    for w in sc.warnings:
        print(f"ionmc: warning: {w}", file=sys.stderr)
    if dask:
        from ionmc.runs.cluster import dask_executor

        prepare_outdir(sc, args.outdir)  # refuse a wrong OUTDIR before starting a cluster
        try:
            with dask_executor(workers=args.workers, scheduler=args.scheduler) as (ex, label):
                out = run(sc, args.outdir, executor=ex, executor_label=label)
        finally:  # replicates that were running when interrupted may have finished since
            rescan(args.outdir)
    else:
        out = run(sc, args.outdir, workers=args.workers)
    args.tally.add(_manifest_warnings(out))
    print(f"ionmc: wrote {out}/timeseries ({sc.data['scenario']['replicates']} replicate(s), "
          f"method {sc.data['scenario']['method']})")
    return 0


def _manifest_warnings(outdir):
    """The numerical warnings the replicates counted (runner.py), from the manifest."""
    import json
    from pathlib import Path

    try:
        return json.loads((Path(outdir) / "manifest.json").read_text()).get(
            "numerical_warnings", {})
    except (OSError, ValueError):
        return {}


def _energetics(args):
    import json

    from ionmc.thermo.energetics import energetics, table
    from ionmc.scenario.load import load_scenario

    result = energetics(load_scenario(args.scenario, list(args.set)))
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


def _report(args):
    from ionmc.analysis.report import build

    out = build(args.outdir, args.output, args.format, args.point)
    print(f"ionmc: wrote {out}")
    return 0


def _list(args):
    from ionmc.scenario.load import builtins

    items = builtins()
    w = max(len(k) for k in items) if items else 0
    for name, (_, desc) in items.items():
        print(f"{name:<{w}}  {desc}")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    args.tally = WarningTally()
    try:
        with args.tally:
            return {"run": _run, "energetics": _energetics, "report": _report,
                    "list": _list}[args.command](args)
    except InputError as exc:
        print(f"ionmc: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ionmc energetics X | head`: the reader left, not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ionmc: interrupted; finished replicates are kept, run again to complete",
              file=sys.stderr)
        return 130
    except Exception as exc:  # a failure while simulating: one line, not a traceback
        if os.environ.get("IONMC_DEBUG"):
            raise
        kept = " (finished replicates are kept in OUTDIR)" if args.command == "run" else ""
        print(f"ionmc: error: {args.command} failed: {type(exc).__name__}: {exc}{kept}; "
              "set IONMC_DEBUG=1 for the traceback", file=sys.stderr)
        return 1
    finally:
        if args.tally.summary():
            print(f"ionmc: warning: {args.tally.summary()}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
