"""Unit-rate Poisson processes addressed by time, one per transition, for paired tau-leaping.

The random time-change representation (Kurtz; Anderson 2007, 2008; Anderson & Higham 2012):
X(t) = X(0) + sum_j nu_j Y_j(T_j(t)), T_j(t) = integral of a_j, with Y_j independent
unit-rate Poisson processes. A tau-leap fires transition j Y_j(T_j + a_j tau) - Y_j(T_j)
times (Anderson 2008, J Chem Phys 128:054103). If Y_j is a fixed function of (replicate key,
j), two runs with the same key -- a control and a treatment -- read the same points wherever
their internal times agree, whatever leaps each takes: the tau-leap counterpart of the
modified next reaction method (paired.py). A rejected leap (a count would go negative)
only reads Y_j on a shorter interval; nothing is consumed. When few events are due the
leap falls back to exact steps that read the same processes (`stream_steps`).

Reading Y_j(T) in O(log) rather than O(points): internal time is cut into superblocks of
length 2^S, each holding Poisson(2^S) points, split in halves down to unit blocks by
Binomial(n, 1/2) draws; a unit block's n points sit at uniform positions. Every draw comes
from a counter-based uniform of (key, j, level, node), so the tree is one realization of a
unit-rate Poisson process (independent Poisson counts on disjoint intervals, uniform given
the count), the same in every run with that key. Each draw inverts its distribution from
the mode outward, O(sqrt(n)) steps.
"""
import math

import numpy as np

from ionmc.numba_conf import inlined, njit
from ionmc.engine.ssa import fire, flush_entropy

_fire, _flush_entropy = inlined(fire), inlined(flush_entropy)


@njit
def next_firing(a, P, Tin, t, t_end):
    """The modified next reaction method's step (Anderson 2007), shared by paired.py's
    exact loop and `stream_steps`: the transition mu whose internal time Tin reaches its
    next Poisson point P first. Advances every Tin to that moment, or to t_end when
    nothing fires before it (then mu = -1). Returns (mu, the new time)."""
    nt = a.shape[0]
    mu = -1
    dmin = np.inf
    for j in range(nt):
        if a[j] > 0.0:
            d = (P[j] - Tin[j]) / a[j]
            if d < dmin:
                dmin = d
                mu = j
    if mu < 0 or t + dmin >= t_end:
        for j in range(nt):
            Tin[j] += a[j] * (t_end - t)
        return -1, t_end
    for j in range(nt):
        Tin[j] += a[j] * dmin
    Tin[mu] = P[mu]  # exactly, against rounding
    return mu, t + dmin


_next_firing = inlined(next_firing)

S = 16                        # superblock = 2^S units of internal time
L = float(1 << S)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TAG_SUPER = S + 1
_TAG_POS = S + 2
_LN2 = math.log(2.0)


@njit
def _mix(z):
    """SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijection on 64 bits."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit
def uniform(key, j, tag, node, k):
    """A uniform on (0, 1), a fixed function of its five integer arguments."""
    h = _mix(key ^ _mix(np.uint64(j) * _GOLDEN + np.uint64(tag + 1)))
    h = _mix(h + np.uint64(node) * _GOLDEN)
    z = _mix(h + np.uint64(k + 1) * _M1)
    return (float(z >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit
def binomial_half(n, u):
    """Binomial(n, 1/2) by inversion of uniform u, summing the pmf outward from the mode
    (up, down, up, ...): an exact sampler in O(sqrt(n)) steps."""
    if n == 0:
        return 0
    m = n // 2
    p = math.exp(math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0)
                 - n * _LN2)
    c = p
    if u <= c:
        return m
    lo, hi, plo, phi = m, m, p, p
    while lo > 0 or hi < n:
        if hi < n:
            phi *= (n - hi) / (hi + 1.0)
            hi += 1
            c += phi
            if u <= c:
                return hi
        if lo > 0:
            plo *= lo / (n - lo + 1.0)
            lo -= 1
            c += plo
            if u <= c:
                return lo
    return m  # u beyond the summed mass by rounding (< 1e-13)


@njit
def poisson_mode(mu, u):
    """Poisson(mu) by the same outward inversion from the mode."""
    m = math.floor(mu)
    p = math.exp(-mu + m * math.log(mu) - math.lgamma(m + 1.0))
    c = p
    if u <= c:
        return int(m)
    lo, hi, plo, phi = m, m, p, p
    while True:
        phi *= mu / (hi + 1.0)
        hi += 1.0
        c += phi
        if u <= c:
            return int(hi)
        if lo > 0:
            plo *= lo / mu
            lo -= 1.0
            c += plo
            if u <= c:
                return int(lo)
        elif phi < 1e-300:
            return int(m)


@njit
def super_count(key, j, b):
    return poisson_mode(L, uniform(key, j, _TAG_SUPER, b, 0))


@njit
def count_to(key, j, T, sb, before):
    """Y_j(T): points of transition j's process in (0, T], given that `before` points lie
    before superblock `sb` and T is at or past its start."""
    B = int(T // L)
    c = before
    for b in range(sb, B):
        c += super_count(key, j, b)
    n = super_count(key, j, B)
    x = T - B * L
    node = B
    for level in range(S, 0, -1):
        left = binomial_half(n, uniform(key, j, level, node, 0))
        half = float(1 << (level - 1))
        if x < half:
            n = left
            node = 2 * node
        else:
            c += left
            n -= left
            node = 2 * node + 1
            x -= half
    for k in range(n):
        if uniform(key, j, _TAG_POS, node, k) <= x:
            c += 1
    return c


@njit
def move_cursor(key, j, T, sb, before):
    """Advance transition j's superblock cursor to the one holding T (T only grows)."""
    B = int(T // L)
    while sb[j] < B:
        before[j] += super_count(key, j, sb[j])
        sb[j] += 1


@njit
def point(key, j, rank, sb, before):
    """Internal time of the rank-th point (1-based) of transition j's process, searching
    from superblock sb (with `before` points before it)."""
    b = sb
    n = super_count(key, j, b)
    while before + n < rank:
        before += n
        b += 1
        n = super_count(key, j, b)
    r = rank - before
    node = b
    x = b * L
    for level in range(S, 0, -1):
        left = binomial_half(n, uniform(key, j, level, node, 0))
        if r <= left:
            n = left
            node = 2 * node
        else:
            r -= left
            n -= left
            node = 2 * node + 1
            x += float(1 << (level - 1))
    pos = np.empty(n)
    for k in range(n):
        pos[k] = uniform(key, j, _TAG_POS, node, k)
    pos.sort()
    return x + pos[r - 1]


@njit
def stream_steps(x, firings, S_, ledger_sum, t, t_end, a, V, M, max_events, streams):
    """Exact steps reading the streams (the modified next reaction method of paired.py with
    these processes): paired tau-leap's fallback when few events are due, so the pair stays
    coupled through it. Returns (t, events fired); advances the streams' state."""
    key, Tin, Y, sb, before = streams
    nt = a.shape[0]
    P = np.empty(nt)
    for j in range(nt):
        P[j] = point(key, j, Y[j] + 1, sb[j], before[j])
    fired = 0
    while fired < max_events:
        mu, t = _next_firing(a, P, Tin, t, t_end)
        if mu < 0:
            break
        _fire(mu, x, firings, S_, ledger_sum, V, a, M)
        Y[mu] += 1
        fired += 1
        move_cursor(key, mu, Tin[mu], sb, before)
        P[mu] = point(key, mu, Y[mu] + 1, sb[mu], before[mu])
    for j in range(nt):
        move_cursor(key, j, Tin[j], sb, before)
    _flush_entropy(S_, M)  # `fire` keeps ln(a_j/a_r) as pending products
    return t, fired
