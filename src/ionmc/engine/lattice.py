"""Memo tables of voltage-dependent rate factors on the charge lattice (issue 8).

Under the exact methods the counts are integers, so a free membrane's potential
V = e * Q / C takes values on a lattice: Q, the charge inside in units of e, is an integer.
A leak's propensity P0 * ghk(z F (V + dV/2) / RT) * n depends on V only through Q, and one
ion moves Q by its charge, so over a run the potential revisits a narrow band of Q values
(a few dozen in a spine, ~1e3 in a whole cell at rest): computing the factor
P0 * ghk(...) once per (transition, Q) and looking it up afterwards skips almost every
exp() of the SSA's inner loop. A pump step's one V-dependent factor (K_Nai(V) or K_Nao(V),
`pump.v_factor`) is tabulated the same way.

Each entry is computed by the very expression `kernels.propensity` uses, from the same V,
so looked-up propensities are bit-identical to computed ones: trajectories, the ledger's
sums and every test are unchanged by the tables, only faster (benchmarks/peers.py).

Each method object gets its own tables (`Model.kernel_args()` allocates them), which hold
a window of W lattice points per membrane, filled lazily (0.0 marks an empty entry: a GHK
factor is never 0 at a finite potential); when Q leaves the window it is re-centred on Q
and emptied. Only leaks and pumps (counts, not individual agents) on free membranes are
tabulated (`rows`): their propensity reads one membrane's V through that one factor. Every
other kind -- couplings (two membranes' potentials), Kir (the K+ counts outside), channel
gating and conduction (the open count), buffers, cotransporters, the metabolic pool --
takes the generic `propensity`, and so does every caller that evaluates propensities off the
lattice (ode, tau-leap's implicit solve on continuous counts). Events that change rate
parameters empty the tables (`clear`, called by the methods before each advance).
"""
import numpy as np

from ionmc.constants import E_CHARGE
from ionmc.engine.dispatch import v_factor
from ionmc.numba_conf import leaf

#: lattice points per membrane window
W = 4096


def rows(tabulated, mem, mem_clamped, skip=()):
    """Table row of every transition, or -1 where it is not tabulated (`tabulated` false:
    its type does not declare LATTICE; clamped membranes; the transitions in `skip`:
    individual pump agents, whose 2 x 4 x N rows of W entries would be up to 67 MB per
    method object for 256 agents, emptied at every advance)."""
    out = np.full(len(tabulated), -1, np.int64)
    skip = set(int(j) for j in skip)
    r = 0
    for j in range(len(tabulated)):
        if tabulated[j] and not mem_clamped[mem[j]] and j not in skip:
            out[j] = r
            r += 1
    return out


def tables(row, mem_C):
    """Fresh (empty) tables, window offsets and C/e per membrane for one method object."""
    nrow = int(row.max()) + 1 if len(row) else 0
    return (np.zeros((nrow, W)), np.zeros(len(mem_C), np.int64),
            np.asarray(mem_C, float) / E_CHARGE)


def clear(M):
    """Empty the tables of a method's kernel arguments (`Model.kernel_args()`), so that rate
    parameters changed between advances (an event; volume.py's water steps) are picked up."""
    M.lat_tab[:] = 0.0


@leaf
def index(m, V, mem, row, tab, qlo, qc):
    """Column of membrane m's window for its potential V[m], re-centring (and emptying) the
    window when the charge has left it."""
    # V = e q / C was computed from an integer q, so this rounds back to q exactly
    i = np.int64(round(V[m] * qc[m])) - qlo[m]
    if i < 0 or i >= W:
        qlo[m] += i - W // 2
        i = W // 2
        for j in range(row.shape[0]):
            if row[j] >= 0 and mem[j] == m:
                for e in range(W):
                    tab[row[j], e] = 0.0
    return i


@leaf
def factor(k, r, i, V, mem, half_dv, P, II, kind, tab):
    """The V factor of transition k (table row r, column i from `index`) at the potential
    V: the one its type's propensity uses (dispatch.v_factor: P0 * ghk(+-zF V_mid / RT) of
    a leak, `pump.v_factor` of a pump step; never 0 at finite V, so 0 marks an empty
    entry)."""
    f = tab[r, i]
    if f == 0.0:
        f = v_factor(k, kind, V[mem[k]] + half_dv[k], P, II)
        tab[r, i] = f
    return f
