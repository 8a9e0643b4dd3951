"""The figures of docs/validation.md: the model against what it is held to (part of `make
results`; alone: python results/validation.py).

- results/validation/pump.png: the per-molecule pump's turnover against Na_i (0 and -70 mV,
  the three isoforms) with the measured ranges of Jmax and K0.5, and its current-voltage
  shape at 150 and 1.5 mM Na_o with Nakao & Gadsby 1989's bounds at -100 mV (King-Altman
  steady state of the fitted cycle; tests/integration/test_nka_runs.py measures the same
  from simulated clamped cells).
- results/validation/hh.png: squid_axon under ode against an independent integration of
  Hodgkin & Huxley's equations (the one tests/integration/test_squid_hh.py uses).
"""
import importlib.util
from pathlib import Path

import numpy as np

from ionmc.analysis.figures import pyplot
from ionmc.mechanisms import nka, nka_cycle

HERE = Path(__file__).resolve().parent
OUT = HERE / "validation"
ROOT = HERE.parent


def _table(**over):
    t = {k: v for k, (v, *_) in nka.PARAMS.items() if v is not None and k != "isoform"}
    t.update(over)
    return t


def pump_figure(path):
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    nai = np.geomspace(1.0, 200.0, 120)
    for iso, colour in (("a1", "C0"), ("a2", "C1"), ("a3", "C2")):
        p = _table(**{k: nka_cycle.ALPHA1[k] * nka_cycle.ISOFORM_NAI_SCALE[iso]
                      for k in nka_cycle.NAI_KEYS})
        j0 = [nka_cycle.turnover(p, n, 140.0, 145.0, 5.4, 0.0) for n in nai]
        a.plot(nai, j0, colour, label=f"{iso}, 0 mV")
        if iso == "a1":
            j70 = [nka_cycle.turnover(p, n, 140.0, 145.0, 5.4, -0.07) for n in nai]
            a.plot(nai, j70, colour, ls="--", label="a1, -70 mV")
    a.axhspan(50.0, 150.0, color="0.85", zorder=0, label="measured Jmax 50-150 /s")
    a.axvspan(10.0, 15.0, color="C0", alpha=0.12, zorder=0, label="measured a1 K0.5 10-15 mM")
    a.set_xscale("log")
    a.set_xlabel("Na_i (mM)")
    a.set_ylabel("turnover (cycles per pump per s)")
    a.set_title("Na_i activation (K_i 140, Na_o 145, K_o 5.4 mM)", fontsize=11)
    a.legend(fontsize=8, loc="upper left")
    V = np.linspace(-0.12, 0.04, 81)
    p = _table()
    for nao, colour in ((150.0, "C3"), (1.5, "C4")):
        j = np.array([nka_cycle.turnover(p, 50.0, 140.0, nao, 5.4, v) for v in V])
        j0 = nka_cycle.turnover(p, 50.0, 140.0, nao, 5.4, 0.0)
        b.plot(V * 1e3, j / j0, colour, label=f"model, Na_o {nao:g} mM")
    b.errorbar([-100.0], [0.25], yerr=[[0.25], [0.25]], fmt="none", ecolor="C3", capsize=6,
               label="Nakao & Gadsby: <= 0.5 at 150 mM")
    b.errorbar([-100.0], [1.0], yerr=[[0.15], [0.15]], fmt="none", ecolor="C4", capsize=6,
               label="Nakao & Gadsby: >= 0.85 at 1.5 mM")
    b.set_xlabel("V (mV)")
    b.set_ylabel("pump current / its value at 0 mV")
    b.set_title("current-voltage shape (Na_i 50, K_o 5.4 mM)", fontsize=11)
    b.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def hh_figure(path):
    spec = importlib.util.spec_from_file_location(
        "test_squid_hh", ROOT / "tests" / "integration" / "test_squid_hh.py")
    hh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hh)
    t, v = hh.ionmc_run(150.0, 0.03)
    ref = hh.hh_reference(150.0, 0.03, t)
    plt = pyplot()
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 5), sharex=True,
                               gridspec_kw={"height_ratios": [3, 1]})
    a.plot(t * 1e3, ref, "0.6", lw=4, label="Hodgkin & Huxley 1952 (scipy, independent)")
    a.plot(t * 1e3, v, "C0", lw=1.2, label="ionmc squid_axon (ode, channel agents, ohmic)")
    a.axvspan(2.0, 2.5, color="C1", alpha=0.2, label="150 pA pulse")
    a.set_ylabel("V (mV)")
    a.legend(fontsize=8)
    b.plot(t * 1e3, v - ref, "C0")
    b.set_ylabel("difference (mV)")
    b.set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    OUT.mkdir(exist_ok=True)
    pump_figure(OUT / "pump.png")
    hh_figure(OUT / "hh.png")
    print(f"wrote {OUT / 'pump.png'}, {OUT / 'hh.png'}")


if __name__ == "__main__":
    main()
