"""How the per-molecule pump's constants (mechanisms/nka_cycle.py, ALPHA1) were fitted, and
what the model gives against each measurement it was fitted to.

    python -m verification.pump_fit          # the table: measured vs model
    python -m verification.pump_fit --fit    # refit from the current constants

Targets (37 C, K_i 140, Na_o 145, K_o 5.4 mM, MgATP 4 mM, 0 mV unless stated; sources in
docs/validation.md): maximal turnover 50-150 /s; apparent K0.5 for Na_i 10-15 mM (alpha1)
with a Hill slope d ln[J/(Jmax - J)] / d ln Na_i of 1.5-2.5 there and a local sensitivity
d ln J / d ln Na_i of at most 1.3 at rest (-70 mV, Na_i 10-15 mM); K0.5 for K_o 1-2.5 mM
(-70 mV, Na_i 50 mM); the I-V shape of Nakao & Gadsby 1989 (Na_i 50 mM): I(-100)/I(0) at
most 0.5 with 150 mM Na_o and at least 0.85 with 1.5 mM. Beyond the targets the fit keeps
the current-voltage shape from -120 to +50 mV (its largest fall as V rises, and its flatness
at 1.5 mM Na_o) and the local sensitivity under 1.2; the resting turnover (Na_i 12 mM,
-70 mV) near 30 /s, so that built-in cells need
~5e3-1e4 pumps/um^2; keeps the pumps' charge movement at that density below 0.1 of the
membrane's capacitance at -70 mV (the charge a pump holds on the inside of the field moves
with V, in parallel with C_m: a first fit without this bound gave 1.7 C_m, which would slow
every spike); and penalises events per cycle of the exact simulation above 60
(every rate constant at most 5000 /s): fast, nearly balanced steps cost the SSA events
without changing the mean. It lands at ~375 events per cycle: a Hill slope of ~2 needs
Na+ binding near equilibrium, which is many bindings and unbindings per cycle.
"""
import math
import sys

import numpy as np
from scipy.optimize import brentq, least_squares

from ionmc.mechanisms import nka, nka_cycle as cyc

T = 310.0
STATE = dict(ki=140.0, nao=145.0, ko=5.4)


def table(**constants):
    t = {k: v for k, (v, *_) in nka.PARAMS.items() if v is not None and k != "isoform"}
    t.update(constants)
    return t


def J(p, nai, V=0.0, ki=140.0, nao=145.0, ko=5.4):
    return cyc.turnover(p, nai, ki, nao, ko, V, T)


def k05_na(p, V=0.0):
    return cyc.apparent_k05_na(p, V, T=T, **STATE)


def metrics(p):
    """What the model gives for each target (King-Altman steady state of the cycle)."""
    k05, jmax = k05_na(p)
    h = 1e-4

    def logit(n):
        j = J(p, n)
        return math.log(j / (jmax - j))
    hill = (logit(k05 * (1 + h)) - logit(k05 * (1 - h))) / math.log((1 + h) / (1 - h))
    sens = max((math.log(J(p, n * (1 + h), -0.07)) - math.log(J(p, n * (1 - h), -0.07)))
               / math.log((1 + h) / (1 - h)) for n in (10.0, 12.5, 15.0))
    jk = J(p, 50.0, -0.07, ko=1000.0)
    k05k = brentq(lambda k: J(p, 50.0, -0.07, ko=k) - jk / 2, 1e-4, 1000.0)
    iv = {nao: J(p, 50.0, -0.1, nao=nao) / J(p, 50.0, 0.0, nao=nao) for nao in (150.0, 1.5)}
    # the shape over the whole range: Nakao & Gadsby's current rises with V and levels off
    # at positive potentials (150 mM Na_o) or is nearly flat (1.5 mM); it never falls
    grid = np.linspace(-0.12, 0.05, 18)
    shape = {nao: np.array([J(p, 50.0, v, nao=nao) for v in grid]) / J(p, 50.0, 0.0, nao=nao)
             for nao in (150.0, 1.5)}
    fw, bw = cyc.rates(cyc.constants(p, T), {"Na_in": 12.0, "K_in": 140.0, "Na_out": 145.0,
                                             "K_out": 5.4}, -0.07, T)
    occ, rest = cyc.steady_state(fw, bw)
    return {"jmax": jmax, "k05_na": k05, "hill": hill, "sens_rest": sens, "k05_ko": k05k,
            "iv150": iv[150.0], "iv1_5": iv[1.5], "rest": rest,
            "iv_fall": max(float(np.max(np.maximum.accumulate(sh) - sh)) for sh in shape.values()),
            "iv_max1_5": float(shape[1.5].max()),
            "events_per_cycle": float(np.sum(occ * (fw + bw)) / rest),
            "charge_capacitance": charge_capacitance(p)}


#: pump cycles per um^2 per second that hold the textbook neuron (net Na+ leak of
#: resting_neuron.toml, 4.34e8 /s over 500 um^2, divided by 3)
CYCLES_PER_UM2 = 4.336e8 / 500.0 / 3.0


def charge_capacitance(p, V=-0.07):
    """The pumps' charge movement as a capacitance, relative to 1 uF/cm^2, at the density
    that holds the textbook neuron (Na_i 15, K_o 5 mM): the charge they hold on the inside
    of the field (nka_cycle.STATE_CHARGE) moves with V at steady state, which the membrane
    sees in parallel with its own capacitance."""
    def held(v):
        return cyc.held_charge(p, 15.0, 140.0, 145.0, 5.0, v, T)
    h = 1e-4
    dq = (held(V + h)[0] - held(V - h)[0]) / (2 * h)  # e per volt per pump
    density = CYCLES_PER_UM2 / held(V)[1]
    return abs(dq) * density * 1.602176634e-19 / 1e-14  # C_m: 1e-14 F per um^2


#: (key, measured, how the model is compared) for the table and docs/validation.md
TARGETS = [
    ("jmax", "50-150 /s", "maximal turnover (Na_i 1 M)"),
    ("k05_na", "10-15 mM (alpha1 ~12)", "apparent K0.5 for Na_i"),
    ("hill", "1.5-2.5 (~2)", "Hill slope at K0.5"),
    ("sens_rest", "<= 1.3", "d ln J / d ln Na_i at rest (largest over Na_i 10-15 mM)"),
    ("k05_ko", "1-2.5 mM", "K0.5 for K_o (-70 mV, Na_i 50 mM)"),
    ("iv150", "<= 0.5", "I(-100 mV)/I(0), Na_o 150 mM"),
    ("iv1_5", ">= 0.85", "I(-100 mV)/I(0), Na_o 1.5 mM"),
    ("iv_fall", "~0 (never falls)", "largest fall of I(V)/I(0) as V rises, -120..+50 mV"),
    ("iv_max1_5", "~1 (nearly flat)", "largest I(V)/I(0) at Na_o 1.5 mM, -120..+50 mV"),
]
FREE = [k for k in cyc.ALPHA1 if k != "K_MgATP_mM"]
#: the largest charge-movement capacitance the fit accepts, relative to C_m
CAP_MAX = 0.1


def residuals(logs):
    p = table(**{k: math.exp(v) for k, v in zip(FREE, logs)})
    try:
        m = metrics(p)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
        return np.full(15, 1e3)  # as many as below
    return np.array([
        6 * math.log(m["jmax"] / 90.0), 6 * math.log(m["k05_na"] / 12.5), 2 * (m["hill"] - 2.0) + 10 * max(0.0, m["hill"] - 2.3),
        3 * max(0.0, m["sens_rest"] - 1.15), 8 * math.log(m["k05_ko"] / 1.5),
        3 * max(0.0, m["iv150"] - 0.45), 10 * max(0.0, 0.25 - m["iv150"]),
        10 * max(0.0, 0.92 - m["iv1_5"]), 5 * max(0.0, m["iv1_5"] - 1.15),
        0.5 * math.log(m["rest"] / 30.0), 2 * max(0.0, math.log(m["events_per_cycle"] / 60.0)),
        5 * max(0.0, math.log(m["charge_capacitance"] / CAP_MAX)),
        10 * max(0.0, m["iv_fall"] - 0.02), 10 * max(0.0, m["iv_max1_5"] - 1.15),
        10 * max(0.0, m["sens_rest"] - 1.2)])


def fit():
    x0 = [math.log(cyc.ALPHA1[k]) for k in FREE]
    ub = [math.log(5000.0) if k.startswith("k_") else math.log(2000.0) if k.startswith("kon")
          else math.log(0.9) if k.startswith("theta") else 10.0 for k in FREE]
    lb = [-10.0] * len(FREE)
    x0 = [min(max(v, lo + 1e-9), hi - 1e-9) for v, lo, hi in zip(x0, lb, ub)]
    sol = least_squares(residuals, x0, bounds=(lb, ub), max_nfev=3000)
    return {k: float(f"{math.exp(v):.3g}") for k, v in zip(FREE, sol.x)}


def main(argv):
    p = table()
    if "--fit" in argv:
        found = fit()
        print("constants:", found)
        p = table(**found)
    m = metrics(p)
    print("| quantity | measured | model |\n|---|---|---|")
    for key, measured, what in TARGETS:
        print(f"| {what} | {measured} | {m[key]:.3g} |")
    print(f"\nresting turnover (Na_i 12 mM, -70 mV): {m['rest']:.1f} /s; "
          f"events per cycle under ssa: {m['events_per_cycle']:.0f}; charge movement at a "
          f"neuron's density: {m['charge_capacitance']:.2f} x C_m at -70 mV")
    for iso in ("a2", "a3"):
        q = table(**{k: cyc.ALPHA1[k] * cyc.ISOFORM_NAI_SCALE[iso] for k in cyc.NAI_KEYS})
        print(f"{iso}: K0.5 {k05_na(q)[0]:.1f} mM ({k05_na(q)[0] / m['k05_na']:.2f} x alpha1)")


if __name__ == "__main__":
    main(sys.argv[1:])
