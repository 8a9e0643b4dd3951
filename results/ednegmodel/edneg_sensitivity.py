"""How firmly edNEG's own code fixes its 150 pA spike count: the paper's case (150 pA of K+,
1-8 s) run with edNEG's published constants on one BLAS thread (as the reference CSVs were
made) and on two (rounding only: Radau's LU sums in another order), and again with one
quantity changed by about 1e-4 at a time -- F and R replaced by CODATA's (ionmc's constants:
RT/F differs by 1e-4), the stimulus, and the delayed-rectifier conductance. Each run is a
process of its own (the BLAS thread count is fixed at import). Writes
stimulus_150pA_sensitivity.csv (one row per run: spikes, the first spike time at which it
leaves this folder's reference train, stimulus_150pA_spikes.csv, by more than 1 ms, and
how many spikes lead up to it).

Needs edNEG's code (github.com/CINPLA/edNEGmodel at the commit README.md names, not part of
this repository):

    python results/ednegmodel/edneg_sensitivity.py PATH/TO/edNEGmodel-checkout

~1 min a run on one core. Spikes as README.md counts them: upward crossings of -20 mV by the
somatic membrane potential on the solver's points in (1, 8.5] s, the times interpolated.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (name, BLAS threads, what changes): each a factor or a replacement applied after edNEG's
#: constructor
VARIANTS = (
    ("published", 1, "edNEG as published (F 96480 nC/nmol, R 8314 pJ/nmol/K), run to 8.6 s"),
    ("published", 2, "as published, two BLAS threads"),
    ("codata", 1, "F 96485.33212, R 8314.462618 (CODATA 2018, ionmc's)"),
    ("codata", 2, "CODATA's F and R, two BLAS threads"),
    ("stimulus", 1, "stimulus x (1 + 1e-4)"),
    ("stimulus", 2, "stimulus x (1 + 1e-4), two BLAS threads"),
    ("g_DR", 1, "delayed-rectifier g_DR x (1 + 1e-4)"),
    ("g_DR", 2, "g_DR x (1 + 1e-4), two BLAS threads"),
    ("g_Na", 1, "Na+ conductance g_Na x (1 + 1e-4)"),
    ("g_Na", 2, "g_Na x (1 + 1e-4), two BLAS threads"),
)


def run(root, which):
    """Spike times of one variant (s), in this process."""
    import numpy as np

    sys.path[:0] = [str(root), str(root / "simulations")]
    import edNEGmodel.edNEGmodel  # noqa: F401  (the module, not the class it re-exports)
    import solve_edNEGmodel as S
    M = sys.modules["edNEGmodel.edNEGmodel"]
    init = getattr(M.edNEGmodel, "_ionmc_init", M.edNEGmodel.__init__)
    M.edNEGmodel._ionmc_init = init

    def patched(self, *a, **k):
        init(self, *a, **k)
        if which == "codata":
            self.F, self.R = 96485.33212, 8314.462618
        elif which == "g_DR":
            self.g_DR *= 1.0001
        elif which == "g_Na":
            self.g_Na *= 1.0001

    M.edNEGmodel.__init__ = patched
    current = 150e-6 * (1.0001 if which == "stimulus" else 1.0)
    sol, cell = S.solve_edNEGmodel(8.6e3, 2.0, current, 1e3, 8e3)
    v = cell.membrane_potentials()[6]  # phi_msn
    t = sol.t / 1e3
    i = np.nonzero((v[1:] >= -20) & (v[:-1] < -20) & (t[1:] > 1.0) & (t[1:] <= 8.5))[0]
    return t[i] + (-20 - v[i]) / (v[i + 1] - v[i]) * (t[i + 1] - t[i])


def run_apart(root, which, threads):
    """Spike times of one variant from a process of its own with `threads` BLAS threads."""
    import numpy as np

    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "spikes.npy"
        subprocess.run([sys.executable, __file__, "--one", str(root), which, str(out)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        return np.load(out)


def leading(ts, ref, tol=1e-3):
    """How many leading spikes of ts lie within tol s of ref's."""
    import numpy as np

    n = min(len(ts), len(ref))
    off = np.nonzero(np.abs(ts[:n] - ref[:n]) > tol)[0]
    return int(off[0]) if len(off) else n


def first_departure(ts, ref, tol=1e-3):
    """The first spike time at which ts leaves ref by more than tol s (nan: never)."""
    k = leading(ts, ref, tol)
    return float(ref[k]) if k < min(len(ts), len(ref)) else float("nan")


def main(root):
    import pandas as pd

    rows, times = [], []
    for name, threads, what in VARIANTS:
        t0 = time.time()
        times.append(run_apart(Path(root), name, threads))
        rows.append({"variant": name, "blas_threads": threads, "change": what,
                     "spikes": len(times[-1])})
        print(name, threads, len(times[-1]), f"{time.time() - t0:.0f} s", flush=True)
    # against the folder's reference train (edNEG's 800 s run: a run to 8.6 s, the same
    # code and constants, is itself ~1 ms off it by the 258th spike)
    ref = pd.read_csv(HERE / "stimulus_150pA_spikes.csv")["spike_time_s"].to_numpy()
    for r, ts in zip(rows, times):
        r["leaves_published_at_s"] = first_departure(ts, ref)
        r["leading_spikes_within_1ms"] = leading(ts, ref)
    pd.DataFrame(rows).to_csv(HERE / "stimulus_150pA_sensitivity.csv", index=False)


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        import numpy as np

        np.save(sys.argv[4], run(Path(sys.argv[2]), sys.argv[3]))
    else:
        main(sys.argv[1])
