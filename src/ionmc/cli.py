"""The `ionmc` command line: a thin layer over the Python API (`ionmc.run`,
`ionmc.thermo.energetics`, `ionmc.analysis.report`); docs/guide.md is its manual."""
import argparse
import os
import sys
import time

from ionmc import __version__
from ionmc.errors import InputError, WarningTally
from ionmc.scenario.validate import METHODS

_SCENARIO_HELP = ("a scenario file (.toml), or the name of a built-in scenario: `ionmc list` "
                  "shows them, `ionmc show NAME` prints one to start from")
_SET_HELP = ("override a scenario value by its dotted key (mechanisms by name), e.g. "
             "mechanisms.pump.block_fraction=0.5 or scenario.method=ode; VALUE is a TOML "
             "literal (1e-7, true, \"text\", [1, 2], {Na = 15.0}) or a bare word, taken as "
             "text; never evaluated as code; repeatable")


def _parser():
    p = argparse.ArgumentParser(
        prog="ionmc", description="Monte Carlo simulation of ion gradients, pumps and "
        "their energetics.", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="start here:\n  ionmc list\n  ionmc run pump_block -o out/pump_block\n"
        "  ionmc report out/pump_block\n  ionmc show pump_block > mine.toml   (a template)")
    p.add_argument("--version", action="version", version=f"ionmc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser("run", help="run a scenario into an output directory",
                       description="Run a scenario's replicates into OUTDIR (Parquet "
                       "time series, the resolved scenario.toml and manifest.json). Running "
                       "again into the same OUTDIR completes what is missing.")
    r.add_argument("scenario", metavar="SCENARIO", help=_SCENARIO_HELP)
    r.add_argument("-o", "--outdir", required=True, metavar="OUTDIR",
                   help="output directory (created if missing): timeseries/part-*.parquet, "
                   "scenario.toml, manifest.json; then `ionmc report OUTDIR`")
    r.add_argument("--replicates", type=int, metavar="N",
                   help="independent replicates, >= 1 (default: the scenario's "
                   "scenario.replicates, usually 1); more into an OUTDIR with fewer extends it")
    r.add_argument("--seed", type=int, metavar="S",
                   help="root random seed, an integer >= 0 (default: the scenario's, "
                   "usually 1); replicate k uses its k-th child seed, so the numbers do not "
                   "depend on --workers")
    r.add_argument("--method", choices=METHODS,
                   help="ssa: exact, every ion crossing an event (spines, small volumes); "
                   "tau-leap: approximate stochastic leaps (whole cells); ode: the "
                   "deterministic mean (default: the scenario's scenario.method)")
    r.add_argument("--duration", type=float, metavar="SECONDS",
                   help="simulated (biological) time in seconds, instead of the scenario's "
                   "scenario.duration_s; events after it are dropped with a warning")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)
    r.add_argument("--workers", type=int, metavar="N", help="local processes, or the "
                   "embedded Dask cluster's workers with --dask (default: one per core, at "
                   "most one per replicate)")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--dask", action="store_true",
                       help="run the replicates on an embedded Dask LocalCluster")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the replicates on the Dask cluster at tcp://HOST:PORT "
                       "(OUTDIR on a filesystem its workers share)")
    e = sub.add_parser("energetics", help="the energy budget of a scenario's initial state",
                       description="The textbook budget of a scenario's initial state: "
                       "Nernst and GHK potentials, dG per ion and per pump cycle, the pump "
                       "current the scenario's pumps carry and the one that would balance "
                       "the leaks, ATP and O2 rates. Nothing is simulated.")
    e.add_argument("scenario", metavar="SCENARIO", help=_SCENARIO_HELP)
    e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)
    e.add_argument("--json", action="store_true",
                   help="print one JSON object (units in the key names) instead of the table")
    rp = sub.add_parser("report", help="an HTML (or Markdown) report of a run's output",
                        description="Figures and tables of a finished (or partial) run.")
    rp.add_argument("outdir", metavar="OUTDIR", help="a run's output directory "
                    "(`ionmc run ... -o OUTDIR`)")
    rp.add_argument("-o", "--output", metavar="FILE",
                    help="report file (default OUTDIR/report.html, or .md with --format md)")
    rp.add_argument("--point", type=int, metavar="K",
                    help="of a sweep (required there): the point to report, 0, 1, ...")
    rp.add_argument("--format", choices=("html", "md", "png"), default="html",
                    help="html: one self-contained file; md: Markdown with PNG figures; "
                    "png: the figures alone (default: html)")
    sub.add_parser("list", help="the built-in scenarios: method, duration, what each shows",
                   description="The built-in scenarios, each with its method, simulated "
                   "duration, replicates and one line on what it shows.")
    sh = sub.add_parser("show", help="print a built-in scenario's TOML (a template)",
                        description="Print a built-in scenario's file, comments included: "
                        "`ionmc show resting_neuron > mine.toml`, edit, `ionmc run mine.toml`.")
    sh.add_argument("name", metavar="NAME", help="a built-in scenario's name (`ionmc list`)")
    ex = sub.add_parser("export", help="write a scenario's ode model for other tools (SBML)",
                        description="Write the deterministic (ode) model of a scenario as "
                        "SBML Level 3 Version 2 for libroadrunner, COPASI and other SBML "
                        "tools: species in molecules, V as an assignment rule, one reaction "
                        "per transition, the events that translate (docs/sbml.md). Needs "
                        "python-libsbml (pip install 'ionmc[sbml]').")
    ex.add_argument("scenario", metavar="SCENARIO", help=_SCENARIO_HELP)
    ex.add_argument("--sbml", required=True, metavar="FILE", help="the SBML file to write")
    ex.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)
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
        if val is not None:  # an error about it names the option, not the file
            overrides.append((f"scenario.{key}", val, f"--{key} {val}"))
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", None, "must be at least 1")
    sc = load_scenario(args.scenario, overrides, duration=args.duration, label="--set")
    for w in sc.warnings:
        print(f"ionmc: warning: {w}", file=sys.stderr)
    stats = {}
    if dask:
        from ionmc.runs.cluster import dask_executor

        prepare_outdir(sc, args.outdir)  # refuse a wrong OUTDIR before starting a cluster
        try:
            with dask_executor(workers=args.workers, scheduler=args.scheduler) as (ex, label):
                out = run(sc, args.outdir, executor=ex, executor_label=label,
                          progress="always", stats=stats)
        finally:  # replicates that were running when interrupted may have finished since
            rescan(args.outdir)
    else:
        out = run(sc, args.outdir, workers=args.workers, progress="always", stats=stats)
    args.tally.add(_manifest_warnings(out))
    if stats.get("ran"):
        for line in _final_lines(out):
            print(f"ionmc: {line}")
        print(f"ionmc: wrote {out}/timeseries ({stats['ran']} replicate(s), method "
              f"{sc.data['scenario']['method']})")
    nxt = f"ionmc report {_quote(out)}"
    if sc.sweep:  # a sweep's report is of one point
        nxt += f" --point 0   (points 0..{len(sc.points()) - 1})"
    print(f"ionmc: next: {nxt}")
    return 0


def _quote(path):
    import shlex

    return shlex.quote(str(path))


def _final_lines(outdir):
    """The end of the run in numbers: each membrane's V and the concentrations inside it,
    at the last record (the mean and SD over the replicates of an ensemble)."""
    import json
    import statistics
    from pathlib import Path

    try:
        man = json.loads((Path(outdir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return []
    finals = [r["final"] for r in man.get("replicates", {}).values() if r.get("final")]
    if not finals or "sweep" in man:  # a sweep's points differ on purpose: the report's
        return []
    keys = [k for k in finals[0] if k != "time_s"]

    def num(k, unit):
        vals = [f[k] for f in finals if k in f]
        m = statistics.fmean(vals)  # "#": 15.00 mM, not 15
        if len(vals) > 1:
            return f"{m:#.4g} +- {statistics.stdev(vals):.2g}{unit}"
        return f"{m:#.4g}{unit}"

    parts = []
    for k in keys:
        if k.endswith(".V_mV"):
            parts.append(f"V({k[:-5]}) {num(k, ' mV')}")
    conc = {}
    for k in keys:
        if k.endswith(".mM"):
            comp, species, _ = k.rsplit(".", 2)
            conc.setdefault(comp, []).append(f"{species} {num(k, '')}")
    parts += [f"{c}: " + ", ".join(v) + " mM" for c, v in conc.items()]
    n = len(finals)
    who = f"mean +- SD of {n} replicates" if n > 1 else "1 replicate"
    return [f"final state at {finals[0]['time_s']:g} s ({who}): " + "; ".join(parts)]


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

    sc = load_scenario(args.scenario, list(args.set), label="--set")
    for w in sc.warnings:
        print(f"ionmc: warning: {w}", file=sys.stderr)
    result = energetics(sc)
    if args.json:  # the table carries its warnings; JSON's readers get them on stderr too
        print(json.dumps(result, indent=2))
        for name, b in result["membranes"].items():
            for w in b.get("warnings", ()):
                print(f"ionmc: warning: membrane {name}: {w}", file=sys.stderr)
    else:
        print(table(result))
    return 0


def _report(args):
    from ionmc.analysis.report import build

    import threading

    # the figures take tens of seconds: say so while they are drawn, but not before a bad
    # OUTDIR is refused (in well under a second), which keeps that to its one line
    t0 = time.perf_counter()
    notice = threading.Timer(REPORT_NOTICE_S, print, (
        f"ionmc: building the {args.format} report of {args.outdir} (drawing its "
        "figures)...",), {"file": sys.stderr, "flush": True})
    notice.daemon = True
    notice.start()
    try:
        out = build(args.outdir, args.output, args.format, args.point)
    finally:
        notice.cancel()
    print(f"ionmc: wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


#: `ionmc report` says it is working when building takes longer than this (s)
REPORT_NOTICE_S = 1.0


def _list(args):
    import shutil

    from ionmc.scenario.load import builtin_summaries

    items = builtin_summaries()
    w = max((len(k) for k in items), default=0)
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    print(f"{'name':<{w}}  {'method':<8}  {'duration':>9}  description")
    for name, info in items.items():
        d = info["duration_s"]
        dur = f"{d:g} s" if isinstance(d, (int, float)) else "?"
        reps = info["replicates"]
        method = info["method"] + (f" x{reps}" if isinstance(reps, int) and reps > 1 else "")
        line = f"{name:<{w}}  {method:<8}  {dur:>9}  {info['description']}"
        if width and len(line) > width:  # one line each on a terminal; whole in a pipe
            line = line[:width - 3] + "..."
        print(line)
    return 0


def _show(args):
    from ionmc.scenario.load import builtin_path

    path = builtin_path(args.name)
    sys.stdout.write(path.read_text())
    return 0


def _export(args):
    from ionmc.export.sbml import export
    from ionmc.scenario.load import load_scenario

    sc = load_scenario(args.scenario, list(args.set), label="--set")
    for w in sc.warnings:
        print(f"ionmc: warning: {w}", file=sys.stderr)
    ns, nr, ne = export(sc, args.sbml)
    print(f"ionmc: wrote {args.sbml} (SBML L3V2: {ns} species, {nr} reactions, "
          f"{ne} event(s))")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    args.tally = WarningTally()
    try:
        with args.tally:
            return {"run": _run, "energetics": _energetics, "report": _report,
                    "list": _list, "show": _show, "export": _export}[args.command](args)
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
