"""Filling and type-checking one TOML table against its schema: the helpers every part of
scenario validation shares."""
import copy
import math

from ionmc import ranges
from ionmc.errors import InputError

#: a number: a TOML integer is accepted where a float is expected
NUM = (int, float)


def check_type(src, key, value, typ):
    if typ is NUM:
        ok = isinstance(value, NUM) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise InputError(src, key, f"{value!r} is not a finite number")
        want = "a number"
    elif typ is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "an integer"
    else:
        ok = isinstance(value, typ)
        want = {str: "a string", bool: "true or false", dict: "a table",
                list: "an array"}.get(typ, typ.__name__)
    if not ok:
        raise InputError(src, key, f"{value!r} is not {want}")


def did_you_mean(word, known, n=1):
    """"; did you mean 'x'?" (or 'x' or 'y' ..., up to n) for the nearest of `known` to a
    misspelt `word`, else ""."""
    import difflib

    near = difflib.get_close_matches(str(word), [str(k) for k in known], n=n, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(k) for k in near)}?" if near else ""


def fill_table(src, prefix, given, schema):
    """Fill defaults and type-check one table against its schema: key -> (default, type[,
    physical range]); a given number outside its range is an InputError."""
    if not isinstance(given, dict):
        raise InputError(src, prefix, "must be a table")
    out = {}
    for k in given:
        if k not in schema:
            raise InputError(src, f"{prefix}.{k}", "unknown key" + did_you_mean(k, schema)
                             + f" (known: {', '.join(schema)})")
    for k, (default, typ, *rng) in schema.items():
        key = f"{prefix}.{k}"
        if k in given and given[k] is None and k == "clamp_mV":
            out[k] = None  # a resolved scenario read back (optional key, unset)
        elif k in given:
            check_type(src, key, given[k], typ)
            v = given[k]
            if rng and typ in (NUM, int):
                ranges.check(src, key, v, rng[0])
            out[k] = float(v) if typ is NUM else v
        elif default is None and k not in ("clamp_mV",):
            raise InputError(src, key, "missing (required)")
        else:
            out[k] = copy.deepcopy(default)
    return out
