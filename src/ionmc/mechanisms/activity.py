"""Activity as a spike train: the ionic load of action potentials, not their waveform.

Each spike lets Na+ in and K+ out across its membrane in one step at the spike's time
(docs/mechanisms/activity.md). The counts per spike are drawn (Poisson, under the
integer methods; their means under `ode`). By default the Na+ per spike is
`overlap_factor` x the minimum charge that swings the membrane by `spike_amplitude_mV`,
C*dV/e (Attwell & Laughlin 2001, J Cereb Blood Flow Metab 21:1133, take 4 for a
mammalian neuron; Alle, Roth & Geiger 2009, Science 325:1405, measured 1.3 in a mossy-fibre
bouton), and K+ out equals Na+ in so that V returns to where it was.

Spike times are a Poisson process of rate `rate_Hz` between `start_s` and `stop_s`
(-1 = to the end); events that set `mechanisms.NAME.rate_Hz` change the rate from their
time on (the whole train is drawn at the start of a replicate from the rate schedule that
the events define, so a train can start at an event: rate 0 before it).

The ledger: spike ions cross through channels down their electrochemical gradients, so the
free energy a spike releases (-dG) is dissipated: it is booked as the spike train's entropy
production, T * S += -dG, which keeps G(t) - G(0) = W - T * S_prod closed.
"""
import numpy as np

from ionmc.constants import E_CHARGE, UF_PER_CM2_TO_F_PER_M2, UM2_TO_M2
from ionmc.mechanisms.base import Mechanism
from ionmc.ranges import Range

TYPE = "spike_train"
#: no transitions: spikes are applied at their times (runs/replicate.py)
KINDS = ()

PARAMS = {
    "membrane": (None, "membrane the spikes cross"),
    "rate_Hz": (4.0, "mean firing rate (Poisson)", Range(0.0, 1e3)),
    "start_s": (0.0, "first time a spike may come", Range(0.0, 1e7)),
    "stop_s": (-1.0, "last time a spike may come (-1: the end of the run)",
               Range(0.0, 1e7, unset=-1.0)),
    "Na_per_spike": (-1.0, "Na+ ions entering per spike (-1: overlap_factor x C x dV / e)",
                     Range(0.0, 1e12, unset=-1.0)),
    "K_per_spike": (-1.0, "K+ ions leaving per spike (-1: equal to the Na+ entry)",
                    Range(0.0, 1e12, unset=-1.0)),
    "overlap_factor": (4.0, "Na+ entry over the minimum C x dV / e (Attwell & Laughlin 2001)",
                       Range(1.0, 100.0)),
    "spike_amplitude_mV": (100.0, "the voltage swing of one action potential", Range(0.0, 300.0)),
}


def ions_per_spike(spec, mem_spec):
    """(Na+ in, K+ out) per spike, means."""
    C = mem_spec["capacitance_uF_per_cm2"] * UF_PER_CM2_TO_F_PER_M2 * mem_spec["area_um2"] \
        * UM2_TO_M2
    na = spec["Na_per_spike"]
    if na < 0:
        na = spec["overlap_factor"] * C * spec["spike_amplitude_mV"] * 1e-3 / E_CHARGE
    k = spec["K_per_spike"] if spec["K_per_spike"] >= 0 else na
    return na, k


def rate_schedule(name, spec, events, duration):
    """[(t0, t1, rate)] pieces of the firing rate over [0, duration]."""
    stop = duration if spec["stop_s"] < 0 else min(spec["stop_s"], duration)
    cuts = [(0.0, spec["rate_Hz"])]
    key = f"mechanisms.{name}.rate_Hz"
    for e in events:
        if key in e["set"]:
            cuts.append((float(e["at_s"]), float(e["set"][key])))
    cuts.sort(key=lambda c: c[0])
    pieces = []
    for k, (t0, r) in enumerate(cuts):
        t1 = cuts[k + 1][0] if k + 1 < len(cuts) else duration
        a, b = max(t0, spec["start_s"]), min(t1, stop)
        if b > a and r > 0:
            pieces.append((a, b, r))
    return pieces


def spike_times(name, spec, events, duration, rng):
    """The spike times of one replicate (sorted), drawn from the rate schedule."""
    out = []
    for a, b, r in rate_schedule(name, spec, events, duration):
        n = rng.poisson(r * (b - a))
        out.append(np.sort(rng.uniform(a, b, n)))
    return np.concatenate(out) if out else np.zeros(0)


def mean_load(spec, mem_spec, events=(), duration=None):
    """Mean Na+ entering per second at t = 0 (for `ionmc energetics`)."""
    na, _ = ions_per_spike(spec, mem_spec)
    active = spec["start_s"] <= 0.0 and (spec["stop_s"] < 0 or spec["stop_s"] > 0.0)
    return spec["rate_Hz"] * na if active else 0.0


class SpikeTrain(Mechanism):
    """No transitions: its spikes are jumps applied at their times (runs/replicate.py).
    Each lets Na+ in and K+ out in one step; the free energy it releases is entropy
    produced (the ions flowed down their gradients through channels)."""

    #: the spikes' net charge is zero: no mean current
    CARRIES_CURRENT = False

    def __init__(self, spec):
        super().__init__(spec)
        self.tally = np.zeros(4)  # cumulative: spikes, Na+ in, K+ out, entropy (J/K)

    def build(self, model, tr):
        pass

    def jump_times(self, model, events, duration, rng):
        return spike_times(self.name, self.spec, events, duration, rng)

    def jump(self, model, x, rng, integer, free_energy):
        mspec = model.scenario.data["membranes"][self.spec["membrane"]]
        na, k = ions_per_spike(self.spec, mspec)
        if integer:
            na, k = rng.poisson(na), rng.poisson(k)  # (a given count: at most 1e12, its range)
        g0 = free_energy(x)
        moved = []
        for s, n, frm, to in (("Na", na, mspec["outside"], mspec["inside"]),
                              ("K", k, mspec["inside"], mspec["outside"])):
            i, o = model.idx(frm, s), model.idx(to, s)
            if not model.clamped[i]:
                n = min(n, x[i])  # never below zero
                x[i] -= n
            if not model.clamped[o]:
                x[o] += n
            moved.append(n)
        self.tally += [1.0, moved[0], moved[1], -(free_energy(x) - g0) / model.T]

    def mean_na_load(self, model):
        return mean_load(self.spec, model.scenario.data["membranes"][self.spec["membrane"]])

    def jump_entropy(self):
        return self.tally[3]

    def firing_columns(self, firings, integer):
        n = firings.shape[0]
        tot = self.tally
        cols = {"spikes": np.full(n, int(tot[0]), np.int64)}
        for s, v in (("Na", -tot[1]), ("K", tot[2])):
            cols[f"{s}.net_efflux"] = np.full(n, int(round(v)), np.int64) if integer \
                else np.full(n, v)
        return cols


MECHANISM = SpikeTrain


def check(t, ctx):
    """Problems with a filled spike-train table: [(key, message)]."""
    for s in ("Na", "K"):
        if s not in ctx.species:
            return [("", f"a spike train needs a species named {s!r}")]
    return []
