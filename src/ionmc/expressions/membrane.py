"""The rate laws of a mechanism on a membrane (a user channel's gates, a user transporter's
rate): the names an expression may read, and one compiled set of laws per mechanism.

Names: V (the membrane's potential, mV), T (K), celsius, `<species>_i` and `<species>_o`
(mM, the membrane's inside and outside), `<species>_<compartment>` (mM, any compartment by
name), and the mechanism's own `parameters`, which are compiled into the laws as constants. A law reads at most native.N_CONC concentrations.
"""
import math
import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from ionmc.expressions.codegen import compile_laws, to_numba_source
from ionmc.expressions.native import N_CONC
from ionmc.expressions.parse import names_used
from ionmc.numba_conf import CACHE_DIR

#: a parameter's name: identifier-like
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# where the generated modules live: beside ionmc's own kernel cache, outside the package
# (a file inside it would change the package's source digest and recompile every kernel)
LAW_DIR = CACHE_DIR.parent / "laws"


class _Layers(Mapping):
    """Mappings read in turn (the first that holds a name answers), iterated in that order
    without repeats: `sources` and `names` share the per-compartment part, built once per
    model, instead of copying it for each mechanism (a tissue's N channels made it N^2)."""

    def __init__(self, *layers):
        self.layers = layers

    def __getitem__(self, key):
        for layer in self.layers:
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def __iter__(self):
        seen = set()
        for layer in self.layers:
            for k in layer:
                if k not in seen:
                    seen.add(k)
                    yield k

    def __len__(self):
        return sum(1 for _ in self)


@lru_cache(maxsize=8)
def _by_compartment(species, compartments):
    """`<species>_<compartment>` -> (compartment, species), the first in compartment order."""
    out = {}
    for c in compartments:
        for s in species:
            out.setdefault(f"{s}_{c}", (c, s))
    return out


@lru_cache(maxsize=8)
def _described(species, compartments):
    """name -> meaning of the concentrations an expression may read (`names`)."""
    out = {}
    for s in species:
        out[f"{s}_i"] = f"{s} inside (mM)"
        out[f"{s}_o"] = f"{s} outside (mM)"
    for n, (c, s) in _by_compartment(species, compartments).items():
        out.setdefault(n, f"{s} in compartment {c} (mM)")
    return out


def sources(species, compartments, cin=None, cout=None):
    """Concentration name -> (compartment, species): `<species>_i` and `<species>_o` for the
    membrane's inside and outside, then `<species>_<compartment>` for every compartment by
    name (a channel's gate may read the Ca2+ of a cleft it does not face: NEURON's POINTER,
    Brian2's linked variables). The sides take precedence: a compartment named `i` or `o`
    is read as a side. Without cin/cout the sides map to None (validation)."""
    sides = {}
    for s in species:
        sides[f"{s}_i"] = (cin, s)
        sides[f"{s}_o"] = (cout, s)
    return _Layers(sides, _by_compartment(tuple(species), tuple(compartments)))


def names(parameters, species, compartments=()):
    """name -> meaning of everything an expression may read."""
    return _Layers({"V": "membrane potential (mV)", "T": "temperature (K)",
                    "celsius": "temperature (C)"},
                   _described(tuple(species), tuple(compartments)),
                   dict.fromkeys(parameters, "parameter"))


def check_parameters(parameters, known):
    """Problems with a `parameters` table: [(key, message)]."""
    for p, v in parameters.items():
        if not PARAM_NAME.match(p) or known[p] != "parameter":
            return [(f"parameters.{p}", "must be an identifier-like name that is not V, T, "
                     "celsius or a concentration (<species>_i, <species>_o, "
                     "<species>_<compartment>)")]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return [(f"parameters.{p}", f"must be a finite number, not {v!r}")]
    return []


def concentrations(expr, parameters):
    """The concentration names an expression reads."""
    return sorted(n for n in names_used(expr)
                  if n not in parameters and n not in ("V", "T", "celsius"))


def argument_source(model, parameters, conc):
    """name -> source fragment for `to_numba_source`: T, celsius and the parameters as
    constants, V as `v`, the concentrations `conc` (in order) as `c0`, `c1`, ..."""
    consts = {"T": model.T, "celsius": model.T - 273.15,
              **{p: float(v) for p, v in parameters.items()}}
    return {**{n: repr(v) for n, v in consts.items()}, "V": "v",
            **{n: f"c{m}" for m, n in enumerate(conc)}}


#: the potentials (mV) over which each law is checked before a run
CHECK_MV = np.linspace(-150.0, 100.0, 251)


#: checks already made in this process (`checked`): a tissue's thousand copies of one
#: channel at the same concentrations are checked once, not a thousand times (~10 ms each)
_CHECKED = {}


def checked(key, check):
    """check()'s result, computed once per key (`Laws.memo_key`)."""
    if key not in _CHECKED:
        if len(_CHECKED) > 4096:  # a long sweep's many concentrations: start again
            _CHECKED.clear()
        _CHECKED[key] = check()
    return _CHECKED[key]


class Laws:
    """One mechanism's compiled laws. `items`: [(law name, key, expressions, combine)],
    `combine(sources)` the law's source from its expressions' (each reading `v` and the
    slots `c0`... of the concentrations the item's expressions read together). Per law:
    `addr` (for native.call_law), `conc` (the state indices of its concentrations, slot
    order), `keys`; `value(law, V_volts, conc_of)` evaluates it in Python."""

    def __init__(self, model, cin, cout, parameters, items):
        laws, self.conc, self.keys = [], [], []
        where = sources(model.species, model.comps, cin, cout)
        for name, key, exprs, combine in items:
            conc = sorted(set().union(*(concentrations(e, parameters) for e in exprs)))
            if len(conc) > N_CONC:
                raise ValueError(key, f"reads {len(conc)} concentrations (at most {N_CONC})")
            arg = argument_source(model, parameters, conc)
            # named by the law, not by the mechanism: mechanisms with the same laws (a
            # tissue's thousand NaP channels) share one module, imported and loaded once
            laws.append((f"law_{name}",
                         combine([to_numba_source(e, arg.__getitem__) for e in exprs])))
            self.conc.append([model.idx(*where[n]) for n in conc])
            self.keys.append(key)
        self._laws = laws
        self._load()

    def _load(self):
        # the module stays referenced here: the addresses point into its compiled code
        self.module = compile_laws(self._laws, LAW_DIR)
        self.fns = [getattr(self.module, n) for n, _ in self._laws]
        self.addr = [getattr(self.module, n + "_c").address for n, _ in self._laws]

    def __getstate__(self):
        """The laws' source, not the module or its addresses (valid in this process only):
        unpickling compiles (or loads from the cache) and takes this process's addresses."""
        return {"_laws": self._laws, "conc": self.conc, "keys": self.keys}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._load()

    def memo_key(self, model, x, *more):
        """What a check of these laws at counts x depends on: the module (so the laws),
        their keys and the concentrations they read (`checked`)."""
        return (self.module.__name__, tuple(self.keys), *more,
                tuple(float(x[i] * model.inv_nvol[i]) for c in self.conc for i in c))

    def check(self, model, x, signed=False):
        """Each law finite and (unless `signed`: a net rate) non-negative over CHECK_MV at
        the concentrations of counts x: [(key, message)] for the first that is not (a NaN:
        a removable 0/0, with a hint)."""
        return checked(self.memo_key(model, x, "laws", signed),
                       lambda: self._check(model, x, signed))

    def _check(self, model, x, signed):
        conc = lambda i: x[i] * model.inv_nvol[i]  # noqa: E731
        for v in CHECK_MV:
            for law in range(len(self.fns)):
                r = self.value(law, v * 1e-3, conc)
                if not (math.isfinite(r) and (signed or r >= 0.0)):
                    hint = (": a removable 0/0 such as x/(1 - exp(-x/k)) is written "
                            "k/exprel(-x/k)") if math.isnan(r) else ""
                    what = "finite" if signed else "finite and not negative"
                    return [(self.keys[law], f"gives {r:g} at V = {v:g} mV (a rate must be "
                             f"{what}){hint}")]
        return []

    def value(self, law, V, conc_of):
        """Law `law` at V (volts), conc_of(state index) -> mM."""
        c = [conc_of(i) for i in self.conc[law]]
        return self.fns[law](V * 1e3, *(c + [0.0] * (N_CONC - len(c))))
