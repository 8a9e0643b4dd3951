"""Where a tissue run's time goes (issue "Speed, second round", item 5): the compiled
kernels of one `ode` step and one tau-leap leap timed alone on a generated chain of N units
(ionmc.mechanisms.tissue), and the solver's own counts, so that cost = count x unit time can be
read per part. Also the Model's build, by phase (cProfile, top functions).

And what sparsity would give: the ode's Newton matrix I - cJ factored by SuperLU
(scipy.sparse.linalg.splu, COLAMD ordering) against the dense LU, its fill, its bandwidth in
the model's order and after reverse Cuthill-McKee; and the tau-leap's fast unknowns split
into independent blocks (unknown c couples to r when a transition whose propensity reads c
moves r).

usage: python benchmarks/profile_tissue.py [--units 30 100] [--duration 1.0] [--layout chain]
"""
import argparse
import cProfile
import io
import pstats
import time

import numpy as np

import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee

from ionmc.engine.implicit import damp_noise, solve_fast
from ionmc.engine.kernels import all_propensities, voltages
from ionmc.engine.linalg import band_lu_factor, band_lu_solve, lu_factor, lu_solve
from ionmc.engine.meanfield import count_jac, count_jac_band, count_rhs
from ionmc.engine.ode import ODE
from ionmc.engine.tauleap import TauLeap
from ionmc.model import Model
from ionmc.scenario import validate
from ionmc.mechanisms.tissue import tissue_scenario


def best(fn, reps=3):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def sparsity(model, J, tl):
    A = sp.csc_matrix(np.eye(model.nx) - 1e-3 * J)
    t_splu = best(lambda: spl.splu(A))
    lu = spl.splu(A)
    b = np.ones(model.nx)
    t_spsolve = best(lambda: lu.solve(b))
    coo = A.tocoo()
    bw = int(np.max(np.abs(coo.row - coo.col)))
    p = reverse_cuthill_mckee(sp.csr_matrix(A), symmetric_mode=False)
    rc = A[p][:, p].tocoo()
    bw_rcm = int(np.max(np.abs(rc.row - rc.col)))
    print(f"  sparse: I - cJ has {A.nnz} nonzeros; splu {t_splu * 1e3:.2f} ms (L+U "
          f"{lu.L.nnz + lu.U.nnz} nonzeros), solve {t_spsolve * 1e3:.3f} ms; bandwidth "
          f"{bw} in model order, {bw_rcm} after RCM")
    reads = {}
    for j in range(model.nt):
        for what, k in model.mechs[model.tr_mech[j]].reads(model, j):
            reads.setdefault((what, int(k)), []).append(j)
    keys = [("V", int(k)) for k in tl.fmem] + [("x", int(i)) for i in tl.fidx]
    where = {key: r for r, key in enumerate(keys)}
    rows, cols = [], []
    for c, key in enumerate(keys):
        for j in reads.get(key, []):
            for m in model.jump_charge(j):
                if ("V", int(m)) in where:
                    rows.append(where[("V", int(m))])
                    cols.append(c)
            for i in model.nu.getrow(j).indices:
                if ("x", int(i)) in where:
                    rows.append(where[("x", int(i))])
                    cols.append(c)
    nf = len(keys)
    G = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(nf, nf)).tocsr()
    nc, lab = connected_components(G, directed=False)
    print(f"  tau-leap fast Jacobian: {G.nnz} nonzeros of {nf}^2; {nc} independent blocks, "
          f"the largest {np.bincount(lab).max()} unknowns")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="+", default=[30, 100])
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--layout", default="chain")
    args = ap.parse_args()
    for n in args.units:
        sc = validate(tissue_scenario(n, layout=args.layout, block_at_s=0.0,
                                      block_units=0), "tissue")
        pr = cProfile.Profile()
        t0 = time.perf_counter()
        pr.enable()
        model = Model(sc)
        pr.disable()
        build = time.perf_counter() - t0
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(6)
        top = [ln for ln in s.getvalue().splitlines() if "(" in ln and ":" in ln][:6]
        print(f"\n## {args.layout} N={n}: nx {model.nx}, nt {model.nt}, "
              f"{len(model.mems)} membranes; Model build {build:.2f} s; top by own time:")
        for ln in top:
            print("   ", ln.strip())
        # -- ode
        ode = ODE(model, model.x0.astype(float))
        x = ode.x.copy()
        count_rhs(x, ode.JS, ode.M)
        count_jac(x, ode.JS, ode.M)
        t_rhs = best(lambda: count_rhs(x, ode.JS, ode.M))
        t_jac = best(lambda: count_jac(x, ode.JS, ode.M))
        J = count_jac(x, ode.JS, ode.M)
        nnz = int(np.count_nonzero(J))
        A = np.eye(model.nx) - 1e-3 * J
        piv = np.empty(model.nx, np.int64)
        lu_factor(A.copy(), piv)
        t_lu = best(lambda: lu_factor(A.copy(), piv))
        LU = A.copy()
        lu_factor(LU, piv)
        b = np.ones(model.nx)
        y = np.empty(model.nx)
        lu_solve(LU, piv, b, y)
        t_sol = best(lambda: lu_solve(LU, piv, b, y))
        fill = int(np.count_nonzero(LU))
        t0 = time.perf_counter()
        ode.advance(np.array([args.duration]))
        wall = time.perf_counter() - t0
        steps, nf, nj = ode.stats
        print(f"  ode {args.duration:g} s at rest: {wall:.2f} s wall; {steps} steps, {nf} rhs, "
              f"{nj} Jacobians")
        print(f"    count_rhs {t_rhs * 1e3:.3f} ms  count_jac {t_jac * 1e3:.2f} ms "
              f"(J {model.nx}^2, {nnz} nonzeros = {nnz / model.nx ** 2:.2%})  "
              f"lu_factor {t_lu * 1e3:.2f} ms (LU fill {fill} nonzeros)  "
              f"lu_solve {t_sol * 1e3:.3f} ms")
        print(f"    => rhs {nf * t_rhs:.2f} s + Jacobians {nj * t_jac:.2f} s + "
              f"LU >= {nj * t_lu:.2f} s (one per Jacobian; more on step-size changes) + "
              f"solves ~{nf * t_sol:.2f} s (one per Newton iteration ~ per rhs)")
        kl, ku, banded = (int(v) for v in ode.JS.band)
        if banded:  # what the solver does instead (bdf._newton_factor / _newton_solve)
            count_jac_band(x, ode.JS, ode.M)
            t_jb = best(lambda: count_jac_band(x, ode.JS, ode.M))
            Bn = -1e-3 * count_jac_band(x, ode.JS, ode.M)
            Bn[:, kl] += 1.0
            band_lu_factor(Bn.copy(), kl, ku, piv)
            t_blu = best(lambda: band_lu_factor(Bn.copy(), kl, ku, piv))
            band_lu_factor(Bn, kl, ku, piv)
            band_lu_solve(Bn, kl, ku, piv, b, y)
            t_bsol = best(lambda: band_lu_solve(Bn, kl, ku, piv, b, y))
            print(f"    banded (the solver's path; RCM band kl {kl}, ku {ku}): "
                  f"count_jac_band {t_jb * 1e3:.2f} ms  band_lu_factor {t_blu * 1e3:.2f} ms  "
                  f"band_lu_solve {t_bsol * 1e3:.3f} ms")
        # -- tau-leap: one implicit solve and one noise answer at rest
        tl = TauLeap(model, model.x0.copy(), np.random.default_rng(1))
        M = tl.M
        nf_ = tl.fmem.shape[0] + tl.fidx.shape[0]
        xi = model.x0.copy()
        V = np.zeros(len(model.mems))
        voltages(xi, V, M)
        a = np.zeros(model.nt)
        all_propensities(xi.astype(np.float64), V, a, M)
        t_prop = best(lambda: all_propensities(xi.astype(np.float64), V, a, M))
        dA = np.zeros((model.nt, tl.blocks.width))
        tau = 1e-3
        solve_fast(xi, V, tau, tl.fmem, tl.fidx, a, M, dA, tl.blocks)
        t_fast = best(lambda: solve_fast(xi, V, tau, tl.fmem, tl.fidx, a, M, dA, tl.blocks), 1)
        K = np.zeros(model.nt, np.int64)
        relax = np.zeros(len(model.mems))
        rng = np.random.default_rng(2)
        damp_noise(K, a, dA, tau, tl.fmem, tl.fidx, rng, relax, tl.blocks)
        t_damp = best(lambda: damp_noise(K, a, dA, tau, tl.fmem, tl.fidx, rng, relax,
                                         tl.blocks), 1)
        print(f"  tau-leap: {nf_} fast unknowns (V of {tl.fmem.shape[0]} membranes, "
              f"{tl.fidx.shape[0]} pump states); per leap: all_propensities "
              f"{t_prop * 1e3:.3f} ms, solve_fast {t_fast * 1e3:.1f} ms, damp_noise "
              f"{t_damp * 1e3:.1f} ms")
        sparsity(model, J, tl)


if __name__ == "__main__":
    main()
