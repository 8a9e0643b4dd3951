"""The rate-law expression language (ionmc/expressions): what the whitelist lets through
computes what Python would, what it refuses is named in one line, and the compiled module
is written once and reused."""
import hashlib
import math
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from ionmc.errors import InputError
from ionmc.expressions import (ExpressionError, compile_functions, module_source,
                               names_used, parse, to_numba_source)

KEY = "mechanisms.CaL.alpha_m"
NAMES = {"V": "membrane potential (mV)", "T": "temperature (K)", "Ca_i": "mM",
         "Kd_mM": "parameter", "n": "Hill coefficient"}
ARGS = list(NAMES)
POINTS = [(-80.0, 310.0, 1e-4, 0.5, 2.0), (-40.0, 298.15, 0.2, 1.0, 1.0),
          (-55.0, 280.0, 2.0, 0.3, 3.5), (12.5, 300.0, 0.05, 2.0, 0.5)]
_EXP, _ABS, _MIN, _MAX = math.exp, abs, min, max


def _hh(V):  # the classic form, 0/0 at V = -40
    return 0.1 * (V + 40) / (1 - math.exp(-(V + 40) / 10))


# (text, hand-written reference with the same arguments)
CASES = {
    "const": ("3", lambda V, T, Ca_i, Kd_mM, n: 3.0),
    "unary": ("-V + +T", lambda V, T, Ca_i, Kd_mM, n: -V + T),
    "arith": ("V + T - Ca_i * Kd_mM / 2", lambda V, T, Ca_i, Kd_mM, n: V + T - Ca_i * Kd_mM / 2),
    "neg_pow": ("-V**2", lambda V, T, Ca_i, Kd_mM, n: -(V ** 2)),
    "int_pow": ("2 ** -1 + 2 ** 3 ** 2", lambda V, T, Ca_i, Kd_mM, n: 0.5 + 512.0),
    "hill": ("10 * Ca_i**n / (Kd_mM**n + Ca_i**n)",
             lambda V, T, Ca_i, Kd_mM, n: 10 * Ca_i ** n / (Kd_mM ** n + Ca_i ** n)),
    "exp": ("4 * exp(-(V + 65) / 18)", lambda V, T, Ca_i, Kd_mM, n: 4 * _EXP(-(V + 65) / 18)),
    "log_sqrt_abs": ("log(T) + sqrt(T) * abs(V)",
                     lambda V, T, Ca_i, Kd_mM, n: math.log(T) + math.sqrt(T) * _ABS(V)),
    "min3": ("min(V, T, -Ca_i)", lambda V, T, Ca_i, Kd_mM, n: _MIN(V, T, -Ca_i)),
    "max3": ("max(V, -T, Ca_i, n)", lambda V, T, Ca_i, Kd_mM, n: _MAX(V, -T, Ca_i, n)),
    "hh_exprel": ("1 / exprel(-(V + 40) / 10)",
                  lambda V, T, Ca_i, Kd_mM, n: 1.0 if V == -40 else _hh(V)),
    "cond": ("Kd_mM / (Kd_mM + Ca_i) if V > -50 else 0.0",
             lambda V, T, Ca_i, Kd_mM, n: Kd_mM / (Kd_mM + Ca_i) if V > -50 else 0.0),
    "chained": ("1 if -60 < V <= -40 else 2",
                lambda V, T, Ca_i, Kd_mM, n: 1.0 if -60 < V <= -40 else 2.0),
    "boolops": ("V if (V > -60 and T > 290) or not Ca_i < 1 else T",
                lambda V, T, Ca_i, Kd_mM, n: V if (V > -60 and T > 290) or not Ca_i < 1 else T),
    "multiline": ("Ca_i *\n  (1 + V)", lambda V, T, Ca_i, Kd_mM, n: Ca_i * (1 + V)),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    fns = [(name, ARGS, to_numba_source(parse(text, NAMES, KEY), lambda a: a))
           for name, (text, _) in CASES.items()]
    return compile_functions(fns, tmp_path_factory.mktemp("expr"))


@pytest.mark.parametrize("case", list(CASES))
def test_every_allowed_construct_computes_what_python_does(compiled, case):
    _, ref = CASES[case]
    for point in POINTS:
        assert getattr(compiled, case)(*point) == pytest.approx(ref(*point), rel=1e-14), point


def test_exprel_is_brian2s_and_accurate_near_zero(compiled):
    exprel = compiled._exprel
    assert exprel(0.0) == 1.0
    for x in (1e-300, -1e-17, 1e-12, -1e-9, 1e-6, -3e-4):  # Taylor: 1 + x/2 + x^2/6 + x^3/24
        assert exprel(x) == pytest.approx(1 + x / 2 + x * x / 6 + x ** 3 / 24, rel=1e-15)
    for x in (-50.0, -2.0, 0.7, 30.0):
        assert exprel(x) == pytest.approx((math.exp(x) - 1) / x, rel=1e-14)
    assert exprel(800.0) == math.inf and exprel(math.inf) == math.inf
    assert exprel(-math.inf) == 0.0
    # the HH rate through exprel is continuous across V = -40, where the classic form is 0/0
    f = compiled.hh_exprel
    assert f(-40.0, 0, 0, 0, 0) == 1.0
    assert f(-40.0 + 1e-9, 0, 0, 0, 0) == pytest.approx(1.0, abs=1e-9)


def test_names_used_and_the_generated_source():
    e = parse("Kd_mM / (Kd_mM + Ca_i) if V > -50 else min(1, 2, V)", NAMES, KEY)
    assert names_used(e) == {"Kd_mM", "Ca_i", "V"}
    src = to_numba_source(e, {"Kd_mM": "p[0]", "Ca_i": "c[3]", "V": "V_mV"})
    assert src == ("((p[0] / (p[0] + c[3])) if (V_mV > (-50.0)) else "
                   "min(1.0, min(2.0, V_mV)))")
    # a fragment that is not a bare name or subscript is parenthesized
    assert to_numba_source(parse("2 * V", NAMES, KEY), lambda a: "x + 1") == "(2.0 * (x + 1))"


FORBIDDEN = [  # (text, the token the message must name)
    ("V.__class__", ".__class__"),
    ("__import__('os')", "__import__"),
    ("(lambda: 1)()", "lambda"),
    ("Ca_i[0]", "Ca_i[0]"),
    ("'V'", "'V'"),
    ("f'{V}'", "f-string"),
    ("exp(x=V)", "x="),
    ("0.1*Ca_x", "'Ca_x'"),
    ("foo(V)", "'foo'"),
    ("exp(V, T)", "exp() takes 1 argument, got 2"),
    ("min(V)", "min() takes at least 2 arguments, got 1"),
    ("exprel()", "exprel() takes 1 argument, got 0"),
    ("0.1*(V", "syntax error"),
    ("V ^ 2", "'^'"),
    ("V // 2", "'//'"),
    ("[v for v in V]", "comprehension"),
    ("(y := V)", ":="),
    ("exp(*V)", "*V"),
    ("V if Ca_i else 0", "'Ca_i'"),
    ("(V > 0) * 2", "V > 0"),
    ("True", "True"),
    ("1e999", "1e999"),
    ("", "empty"),
    ("V # + 1\n + 2", "'#'"),
]


@pytest.mark.parametrize("text,token", FORBIDDEN, ids=[t for t, _ in FORBIDDEN])
def test_forbidden_constructs_are_named_in_one_line(text, token):
    with pytest.raises(ExpressionError) as info:
        parse(text, NAMES, KEY)
    msg = str(info.value)
    assert isinstance(info.value, InputError)
    assert msg.startswith(f"{KEY}: ") and token in msg and "\n" not in msg, msg


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ExpressionError) as info:
        parse("0.1*Ca_I", NAMES, KEY)
    assert str(info.value) == (f'{KEY}: unknown name \'Ca_I\' in "0.1*Ca_I" '
                               f"(known: V, T, Ca_i, Kd_mM, n); did you mean 'Ca_i'?")


def test_the_cache_reuses_the_file(tmp_path):
    src = to_numba_source(parse("2 * V", NAMES, KEY), lambda a: a)
    fns = [("double", ["V"], src)]
    m1 = compile_functions(fns, tmp_path)
    m2 = compile_functions(fns, tmp_path)
    files = list(tmp_path.glob("expr_*.py"))
    assert m1 is m2 and len(files) == 1
    digest = hashlib.sha256(module_source(fns).encode()).hexdigest()[:16]
    assert files[0].name == f"expr_{digest}.py"
    m3 = compile_functions([("triple", ["V"], src.replace("2.0", "3.0"))], tmp_path)
    assert m3 is not m1 and len(list(tmp_path.glob("expr_*.py"))) == 2
    assert m3.triple(2.0) == 6.0


def test_generated_functions_run_inside_njit_code(tmp_path):
    e = parse("4 * exp(-(V + 65) / 18) + Kd_mM * Ca_i", NAMES, KEY)
    arg = {"V": "V", "Kd_mM": "p[0]", "Ca_i": "p[1]"}
    rate = compile_functions([("beta", ["V", "p"], to_numba_source(e, arg))], tmp_path).beta

    @numba.njit
    def total(Vs, p):
        s = 0.0
        for v in Vs:
            s += rate(v, p)
        return s

    Vs, p = np.array([-80.0, -65.0, 0.0]), np.array([0.5, 0.1])
    assert total(Vs, p) == pytest.approx(sum(4 * math.exp(-(v + 65) / 18) + 0.05 for v in Vs))


def test_a_second_process_loads_the_compiled_code_from_the_cache(tmp_path):
    src = to_numba_source(parse("V * exprel(V / 10)", NAMES, KEY), lambda a: a)
    mod = compile_functions([("g", ["V"], src)], tmp_path)
    assert mod.g(5.0) == pytest.approx(10 * math.expm1(0.5))
    assert mod.g.stats.cache_misses  # compiled here, saved beside the file
    script = textwrap.dedent(f"""
        from ionmc.expressions import compile_functions
        mod = compile_functions([("g", ["V"], {src!r})], {str(tmp_path)!r})
        mod.g(5.0)
        print(sum(mod.g.stats.cache_hits.values()), sum(mod.g.stats.cache_misses.values()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "0"]
