"""Random numbers for the exact methods' inner loop: xoshiro256** (Blackman & Vigna 2021,
"Scrambled linear pseudorandom number generators", ACM TOMS 47:36) and a ziggurat
exponential (Marsaglia & Tsang 2000, J. Stat. Softw. 5(8)), both inlined into the loop.

The direct method draws per event an Exp(1) waiting time and a uniform to pick the
transition. Through `numpy.random.Generator` each draw is a call through the bit
generator's function pointer, which Numba cannot inline (5.0 ns a uniform), and the
waiting time -log(1 - u) adds a libm log. benchmarks/bench_rng.py: 6.8 ns for an event's
two draws that way, 4.1 ns here as separate calls; inlined into the SSA loop, the
loop went from 47.1 to 42.7 ns per event on benchmarks/peers.py's network a.

The ziggurat follows numpy's layout (256 layers; the layer index and the abscissa from
disjoint bits of one 64-bit word, which Marsaglia & Tsang's 32-bit original shared); the
tables are Marsaglia & Tsang's recurrence for 2^53 scaling, computed at import.
tests/test_fastrand.py checks the distributions (Kolmogorov-Smirnov, the tail beyond the
base layer).

The state (four uint64) comes from the replicate's SeedSequence (`new_state`), so a run is
still fixed by its seed, and replicates are as independent as their SeedSequence children.
"""
import math

import numpy as np

from ionmc.numba_conf import inlined, leaf

_U = np.uint64
_5, _7, _9, _11, _17, _19, _45, _57 = (_U(k) for k in (5, 7, 9, 11, 17, 19, 45, 57))
_FF = _U(0xFF)
_2M53 = 2.0 ** -53


def _tables():
    """Marsaglia & Tsang's `zigset` for the exponential, with 2^53 in place of 2^32."""
    m = 2.0 ** 53
    de = 7.697117470131487  # r: where the base layer's tail starts
    te = de
    ve = 3.949659822581572e-3  # the area of each layer
    q = ve / math.exp(-de)
    ke = np.zeros(256, np.uint64)
    we = np.zeros(256)
    fe = np.zeros(256)
    ke[0] = _U(int((de / q) * m))
    ke[1] = _U(0)
    we[0] = q / m
    we[255] = de / m
    fe[0] = 1.0
    fe[255] = math.exp(-de)
    for i in range(254, 0, -1):
        de = -math.log(ve / de + math.exp(-de))
        ke[i + 1] = _U(int((de / te) * m))
        te = de
        fe[i] = math.exp(-de)
        we[i] = de / m
    return ke, we, fe


KE, WE, FE = _tables()
R_TAIL = 7.697117470131487


#: spawn-key tag of the exact steps' stream under a replicate's SeedSequence
STREAM_TAG = 0x55A


def new_state(rng):
    """Four uint64 words for a method given the replicate's numpy Generator (never all
    zero). From the Generator's SeedSequence, keyed by STREAM_TAG, when it has one: then the
    Generator itself is not drawn from, and what a run draws from it (spike times, tau-leap
    counts) is the same whatever the method."""
    ss = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(ss, np.random.SeedSequence):
        child = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (STREAM_TAG,),
                                       pool_size=ss.pool_size)
        s = child.generate_state(4, np.uint64)
    else:
        s = rng.integers(0, 2 ** 64, size=4, dtype=np.uint64)
    if not s.any():
        s[0] = 1
    return s


@leaf
def next64(s):
    """Next 64-bit word of xoshiro256** with state s (uint64[4], updated in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    r = s1 * _5
    r = ((r << _7) | (r >> _57)) * _9
    t = s1 << _17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _45) | (s3 >> _19)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return r


_next64 = inlined(next64)


@leaf
def uniform(s):
    """A double in [0, 1): the top 53 bits."""
    return float(_next64(s) >> _11) * _2M53


_uniform = inlined(uniform)


@leaf
def exponential(s):
    """An Exp(1) variate by the ziggurat: one word, a compare and a multiply 98.9% of the
    time; the wedges and the tail beyond R_TAIL by rejection (exact)."""
    while True:
        u = _next64(s)
        i = u & _FF
        ri = u >> _11
        x = float(ri) * WE[i]
        if ri < KE[i]:
            return x
        if i == 0:  # the tail: memoryless, so R_TAIL + Exp(1)
            return R_TAIL - math.log(1.0 - _uniform(s))
        if (FE[i - 1] - FE[i]) * _uniform(s) + FE[i] < math.exp(-x):
            return x


_exponential = inlined(exponential)
