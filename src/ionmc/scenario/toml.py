"""A resolved scenario written back as TOML (tomllib reads it to the same dict), by
tomli-w: any Unicode in names and descriptions round-trips."""
import json

import tomli_w


def _toml_value(v):
    """One value as a TOML literal (for messages and for tests that write TOML by hand)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(x)}"
                                for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _drop_none(t):
    return {k: v for k, v in t.items() if v is not None}


def dumps_toml(d):
    """Write a resolved scenario back as TOML (tomllib reads it to the same dict)."""
    out = {"scenario": d["scenario"], "species": d["species"]}
    for table in ("compartments", "membranes"):
        out[table] = {name: _drop_none(t) for name, t in d[table].items()}
    out["mechanisms"] = d["mechanisms"]
    out["events"] = d["events"]
    if d.get("sweep"):
        out["sweep"] = {"mode": d["sweep"]["mode"], **d["sweep"]["keys"]}
    return tomli_w.dumps(out)
