"""The prototype of ionmc's lattice tables (issue 8, item 5), kept as a reference kernel.

V = e * Q / C takes values on a lattice (Q the integer charge inside), so every V-dependent
factor of a propensity -- the GHK factors of the leaks at their midpoint potentials, the
pump's exp(delta*phi) and exp((1+delta)*phi) -- can be tabulated once per run over Q and
looked up, with Q updated by each jump's charge instead of re-summed. This is the direct
method of benchmarks/peers.py's hand-written kernel with those lookups; it is run beside
ionmc and the hand-written kernel on networks (a) and (a+pump), interleaved, and the mean
states are compared. ionmc itself now looks these factors up (src/ionmc/lattice.py, filled
lazily per method object); what separates it from this kernel is its bookkeeping (firings,
entropy and potential sums per transition), its dependency graph and its generic rate laws.

usage: python benchmarks/peers_lattice.py [--repeats 7]
"""
import math
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import Hand, IonmcSSA, Net, interleaved, spine_scenario, zmax  # noqa: E402

@numba.njit(cache=True, nogil=True)
def tab_ssa(x, t_end, lk, lsrc, ldst, lq, gout, gin, qmin, p, st, ions, inv_nvol, ei, eo,
            pq, Q, seed):
    """The direct method with lattice lookups (clamped bath: outside counts untouched)."""
    np.random.seed(seed)
    nl = lk.shape[0]
    npump = 8 if st.shape[0] == 4 else 0
    a = np.zeros(2 * nl + npump)
    t = 0.0
    n = 0
    while True:
        iq = Q - qmin
        for i in range(nl):
            a[2 * i] = lk[i, 0] * gout[i, iq] * x[lsrc[i]]
            a[2 * i + 1] = lk[i, 1] * gin[i, iq] * x[ldst[i]]
        if npump:
            nai = x[ions[0]] * inv_nvol[ions[0]]
            ki = x[ions[1]] * inv_nvol[ions[1]]
            nao = x[ions[2]] * inv_nvol[ions[2]]
            ko = x[ions[3]] * inv_nvol[ions[3]]
            tki = ki / p[10]
            tko = ko / p[11]
            for step in range(4):
                for bw in range(2):
                    j = 2 * step + bw
                    if step == 0:
                        if bw:
                            r = p[1]
                        else:
                            tnai = nai * ei[j, iq]
                            r = p[0] * tnai ** 3 / ((1.0 + tnai) ** 3 + (1.0 + tki) ** 2 - 1.0)
                    elif step == 1:
                        if bw:
                            tnao = nao * eo[j, iq]
                            r = p[3] * tnao ** 3 / ((1.0 + tnao) ** 3 + (1.0 + tko) ** 2 - 1.0)
                        else:
                            r = p[2]
                    elif step == 2:
                        if bw:
                            r = p[5]
                        else:
                            tnao = nao * eo[j, iq]
                            r = p[4] * tko ** 2 / ((1.0 + tnao) ** 3 + (1.0 + tko) ** 2 - 1.0)
                    else:
                        if bw:
                            tnai = nai * ei[j, iq]
                            r = p[7] * tki ** 2 / ((1.0 + tnai) ** 3 + (1.0 + tki) ** 2 - 1.0)
                        else:
                            r = p[6]
                    a[2 * nl + j] = r * x[st[(step + 1) % 4] if bw else st[step]]
        a0 = a.sum()
        t += -math.log(1.0 - np.random.random()) / a0
        if t > t_end:
            return n
        r = np.random.random() * a0
        j = 0
        acc = a[0]
        while acc <= r:
            j += 1
            acc += a[j]
        n += 1
        if j < 2 * nl:
            i = j // 2
            sgn = 1 if j % 2 == 0 else -1
            x[lsrc[i]] -= sgn
            Q -= sgn * lq[i]
        else:
            step = (j - 2 * nl) // 2
            sgn = -1 if (j - 2 * nl) % 2 else 1
            x[st[step]] -= sgn
            x[st[(step + 1) % 4]] += sgn
            if step == 1:
                x[ions[0]] -= 3 * sgn
                Q -= 3 * sgn
            elif step == 3:
                x[ions[1]] += 2 * sgn
                Q += 2 * sgn

class Tab:
    label = "lattice tables"

    def __init__(self, net, T, qmin=-1500, qmax=1500):
        self.net, self.T = net, T
        V = net.vq * np.arange(qmin, qmax + 1)

        def ghk(u):
            small = np.abs(u) < 1e-9
            return np.where(small, 1.0 + 0.5 * u, u / np.where(small, 1.0, -np.expm1(-u)))

        with np.errstate(over="ignore"):
            gout = np.array([ghk(L["zf"] * (V + L["hdv_out"])) for L in net.leaks])
            gin = np.array([ghk(-L["zf"] * (V + L["hdv_in"])) for L in net.leaks])
        lk = np.array([[L["k_out"], L["k_in"]] for L in net.leaks])
        lsrc = np.array([L["src_in"] for L in net.leaks])
        ldst = np.array([L["src_out"] for L in net.leaks])
        lq = np.array([net.charge[L["src_in"] - net.ins[0]] for L in net.leaks], np.int64)
        if net.pump:
            P = net.pump
            p = P["p"]
            phi = np.array([p[13] * (V + P["hdv"][j]) / 3.0 for j in range(8)])
            ei = 1.0 / (p[8] * np.exp(p[12] * phi))
            eo = 1.0 / (p[9] * np.exp((1 + p[12]) * phi))
            st, ions = np.array(P["states"]), P["ii"]
        else:
            p, ei, eo = np.zeros(14), np.zeros((8, 1)), np.zeros((8, 1))
            st, ions = np.zeros(0, np.int64), np.zeros(4, np.int64)
        q0 = int(round(sum(net.charge[k] * net.x0[i] for k, i in enumerate(net.ins))))
        self.args = (lk, lsrc, ldst, lq, gout, gin, qmin, p, st, ions, net.inv_nvol, ei, eo,
                     0, q0)

    def run(self, seed):
        x = self.net.x0.copy()
        t0 = time.perf_counter()
        n = tab_ssa(x, self.T, *self.args, seed)
        return n, time.perf_counter() - t0, self.net.final(x)


def main():
    R = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 7
    for pump, T in ((False, 200.0), (True, 50.0)):
        net = Net(spine_scenario(pump, T))
        es = [IonmcSSA(net, T), Hand(net, T), Tab(net, T)]
        for e in es:
            e.run(0)
        res = interleaved(es, R)
        wi = statistics.median(res["ionmc ssa"][0])
        for e in es:
            w = statistics.median(res[e.label][0])
            ev = statistics.mean(res[e.label][1])
            print(f"{'(a+pump)' if pump else '(a)':9s} {e.label:26s} {ev / w:.3g} events/s, "
                  f"speed / ionmc {wi / w:.2f}, mean state vs ionmc "
                  f"{zmax(res['ionmc ssa'][2], res[e.label][2]):.1f} SE", flush=True)


if __name__ == "__main__":
    main()
