"""A resolved scenario written back as TOML (tomllib reads it to the same dict)."""
import json


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dumps_toml(d):
    """Write a resolved scenario back as TOML (tomllib reads it to the same dict)."""
    lines = ["[scenario]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in d["scenario"].items()]
    lines += ["", "[species]"]
    lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in d["species"].items()]
    for table in ("compartments", "membranes"):
        for name, t in d[table].items():
            lines += ["", f"[{table}.{json.dumps(name)}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in t.items() if v is not None]
    for m in d["mechanisms"]:
        lines += ["", "[[mechanisms]]"] + [f"{k} = {_toml_value(v)}" for k, v in m.items()]
    for e in d["events"]:
        lines += ["", "[[events]]"] + [f"{k} = {_toml_value(v)}" for k, v in e.items()]
    if d.get("sweep"):
        lines += ["", "[sweep]", f"mode = {_toml_value(d['sweep']['mode'])}"]
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in d["sweep"]["keys"].items()]
    return "\n".join(lines) + "\n"
