"""Calling a user-written rate law from inside ionmc's cached kernels, through its address.

The kernels (engine/) are compiled once per installation and cached on disk; a rate law a
scenario writes is compiled per distinct expression set (codegen.py). Linking the laws into
the kernels statically would recompile every kernel for every new model (20-30 s). Instead
each law is also compiled as a C-callable `numba.cfunc` with one fixed signature, LAW_SIG;
its address sits in the transition's index row (an int64, filled in each process: addresses
are not portable), and `call_law` casts it to a function pointer and calls it. The kernel's
own types never change, so it is compiled once whatever laws exist.

Measured (a prototype of this in a loop of 1e7 calls): 2 ns per call over the same law
linked statically, against 10-15 ns for a bytecode interpreter. `call_law` belongs in
`numba_conf.leaf` functions (no reference counting): inside an ordinary njit function the
indirect call stopped LLVM from inlining it and every call through the table cost ~40 ns,
built-in kinds included.

ABI: double law(double v_mV, double c0, ..., double c{N_CONC - 1}); the arguments are the
transition's midpoint potential in mV and up to N_CONC concentrations in mM (unused ones
0). Addresses are valid in the process that compiled the law only: a Model rebuilds its
laws and their addresses when it is unpickled (Laws.__setstate__, Model.__setstate__).
A zero address returns NaN (no law installed) rather than jumping to 0: the kernels'
non-finite check then stops the run naming the mechanism.
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ionmc.numba_conf import leaf

#: concentrations a law may read
N_CONC = 6
#: the C signature of every compiled law (as Numba spells it)
LAW_SIG = "float64(" + ", ".join(["float64"] * (1 + N_CONC)) + ")"
#: the version of this calling convention, written into every generated file's text (so
#: into its hash and name): a change of the ABI can never call an old compiled law
LAW_ABI = 1


@intrinsic
def call_law(typingctx, addr, v, c0, c1, c2, c3, c4, c5):
    """call_law(address, v, c0..c5) -> float64: the law at `address` (0, no law installed:
    NaN, so that the run stops and names the mechanism instead of reading a zero rate)."""
    scalars = (v, c0, c1, c2, c3, c4, c5)
    if not isinstance(addr, types.Integer) or not all(isinstance(a, (types.Float,
                                                                      types.Integer))
                                                      for a in scalars):
        return None
    sig = types.float64(addr, *scalars)

    def codegen(context, builder, signature, args):
        dbl, i64 = ir.DoubleType(), ir.IntType(64)
        a = context.cast(builder, args[0], signature.args[0], types.int64)
        vals = [context.cast(builder, x, t, types.float64)
                for x, t in zip(args[1:], signature.args[1:])]
        fnty = ir.FunctionType(dbl, [dbl] * len(vals))
        res = builder.alloca(dbl)
        builder.store(dbl(float("nan")), res)
        with builder.if_then(builder.icmp_unsigned("!=", a, i64(0)), likely=True):
            builder.store(builder.call(builder.inttoptr(a, fnty.as_pointer()), vals), res)
        return builder.load(res)

    return sig, codegen


@leaf
def _slot(x, i, shift, inv_nvol):
    """Concentration (mM) of state index i, its count taken `shift` lower, at least 0
    (i < 0: 0). A shifted count below 0 belongs to a step that cannot fire under the exact
    methods (its source is empty); under `ode` a count below one ion would otherwise hand a
    law a negative concentration."""
    return max(x[i] - shift, 0.0) * inv_nvol[i] if i >= 0 else 0.0


@leaf
def law_value(j, v_mV, x, II, i0, inv_nvol, P, p0, s):
    """The law of transition j at v_mV: its address in II[j, i0], the state indices of the
    concentrations it reads in II[j, i0 + 1 .. i0 + N_CONC] (-1: unused, passed as 0), each
    count taken s x P[j, p0 + slot] lower (s = 1: a reverse step reads its forward law at
    the state before the forward step; s = 0: the counts as they are). Written out for
    N_CONC = 6: a loop would need an array, and a leaf kernel allocates nothing."""
    return call_law(II[j, i0], v_mV,
                    _slot(x, II[j, i0 + 1], s * P[j, p0], inv_nvol),
                    _slot(x, II[j, i0 + 2], s * P[j, p0 + 1], inv_nvol),
                    _slot(x, II[j, i0 + 3], s * P[j, p0 + 2], inv_nvol),
                    _slot(x, II[j, i0 + 4], s * P[j, p0 + 3], inv_nvol),
                    _slot(x, II[j, i0 + 5], s * P[j, p0 + 4], inv_nvol),
                    _slot(x, II[j, i0 + 6], s * P[j, p0 + 5], inv_nvol))
