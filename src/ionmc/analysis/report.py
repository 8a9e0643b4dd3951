"""`ionmc report OUTDIR`: one self-contained HTML file (figures embedded as PNG data URIs,
no network needed to view it), or Markdown with PNG files beside it (`--format md`).

What a physiologist or a teacher should see at a glance: the gradients running down, the
membrane potential against its Nernst and GHK references, the pumps working, the free
energy stored and spent, and the entropy produced (DESIGN.md section 3). Each figure is
drawn only when the run has its columns. Statistics use every record; plots draw at most
`MAX_POINTS` times (a stride), so a long run stays a small file.

matplotlib (Agg) because the report must open offline and stay small: static PNGs embed in
one file, where an interactive library would ship its JavaScript with every report.
"""
import base64
import html
import io
from pathlib import Path

from ionmc.analysis import tables as analysis
from ionmc.analysis.figures import Figures, pyplot
from ionmc.errors import InputError
from ionmc.thermo.energetics import ROWS, energetics


def summary(run):
    m = run.manifest
    reps = m.get("replicates", {})
    done = [k for k, v in reps.items() if v.get("status") == "done"
            and (run.point is None or k.startswith(f"{run.point}/"))]
    events = sum(int(reps[k].get("events", 0)) for k in done)
    rows = [("scenario", m.get("scenario_name")), ("method", m.get("method")),
            ("replicates finished", f"{run.replicates}"),
            ("missing replicates", ", ".join(map(str, run.missing)) or "none"),
            ("root seed", m.get("seed")), ("duration", f"{m.get('duration_s')} s"),
            ("wall time", f"{m.get('wall_time_s', float('nan')):.3g} s"),
            ("events fired", f"{events:.4g}"),
            ("ionmc", m.get("ionmc_version")), ("scenario hash", m.get("scenario_hash"))]
    for k, v in run.point_values.items():
        rows.append((k, v))
    rows += compartment_rows(run)
    for e in m.get("events_fired", []):
        rows.append((f"event at {e['at_s']} s", ", ".join(f"{k} = {v}"
                                                          for k, v in e["set"].items())))
    for w in m.get("warnings", []):
        rows.append(("warning", w))
    return rows


def compartment_rows(run):
    """Per compartment: its volume and whether it is a bath (held) or closed -- which decides
    how fast a blocked cell runs down (a closed ECS fills with K+ and holds Na+ back)."""
    try:
        comps = run.scenario().data["compartments"]
    except InputError:
        return []
    rows = []
    for c, spec in comps.items():
        if spec.get("bath"):
            kind = "bath: concentrations held"
        else:
            kind = "closed: its concentrations follow the fluxes"
            if spec.get("clamped_species"):
                kind += f" (held: {', '.join(spec['clamped_species'])})"
        rows.append((f"compartment {c}", f"{spec['volume_um3']:.4g} µm³, {kind}"))
    return rows


def energetics_rows(run):
    try:
        res = energetics(run.scenario())
    except InputError:
        return []
    rows = []
    for name, b in res["membranes"].items():
        for key, label, unit in ROWS:
            v = b.get(key)
            if v is None:
                continue
            items = v.items() if isinstance(v, dict) else [(None, v)]
            for s, val in items:
                lab = f"{name}: {label}" + (f", {s}" if s else "")
                rows.append((lab, f"{val:.4g} {unit}" if isinstance(val, float) else str(val)))
    return rows


def _png(fig, dpi=90):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot().close(fig)
    return buf.getvalue()


def _table(rows):
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:2px 10px;text-align:left;
border-bottom:1px solid #ddd;font-size:14px}th{font-weight:500;color:#555}
img{max-width:100%}figcaption{font-size:14px;color:#444;margin-bottom:2em}
.warn{background:#fff3cd;padding:.5em 1em;border-left:4px solid #e0a800}"""


def build(outdir, out=None, fmt="html", point=None):
    """Write the report of OUTDIR (of a sweep: of its `point`); return its path. fmt: 'html'
    (one self-contained file), 'md' (Markdown with PNG figures in a directory beside it) or
    'png' (the figures alone, in a directory)."""
    run = analysis.open_run(outdir, point)
    figs = Figures(run).all()
    name = run.manifest.get("scenario_name", "run")
    stem = "report" if point is None else f"report-point{point:04d}"
    if point is not None:
        name += f", point {point}"
    out = Path(out) if out else Path(outdir) / (stem + (".html" if fmt == "html" else ".md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    missing = (f"{len(run.missing)} replicate(s) missing ({', '.join(map(str, run.missing))}): "
               "this report shows the finished ones; `ionmc run` with the same OUTDIR "
               "completes the rest." if run.missing else "")
    if fmt == "png":  # the figures alone, as fig1.png ... in a directory
        figdir = Path(out).with_suffix("") if out else Path(outdir) / stem
        figdir.mkdir(parents=True, exist_ok=True)
        for i, (title, caption, fig) in enumerate(figs):
            (figdir / f"fig{i + 1}.png").write_bytes(_png(fig, dpi=100))
        return figdir
    if fmt == "md":
        figdir = out.with_suffix("")
        figdir.mkdir(exist_ok=True)
        lines = [f"# ionmc report: {name}", ""]
        if missing:
            lines += [f"> {missing}", ""]
        lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in summary(run)] + [""]
        en = energetics_rows(run)
        if en:
            lines += ["## Energetics of the initial state", "", "| | |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in en] + [""]
        for i, (title, caption, fig) in enumerate(figs):
            png = figdir / f"fig{i + 1}.png"
            png.write_bytes(_png(fig, dpi=80))
            lines += [f"## {title}", "", f"![{title}]({figdir.name}/{png.name})", "", caption, ""]
        tmp = out.with_suffix(".md.tmp")
        tmp.write_text("\n".join(lines))
        tmp.replace(out)
        return out
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>ionmc: "
             f"{html.escape(name)}</title><style>{CSS}</style></head><body>",
             f"<h1>ionmc report: {html.escape(name)}</h1>"]
    if missing:
        parts.append(f"<p class='warn'>{html.escape(missing)}</p>")
    parts.append("<h2>Run</h2>" + _table(summary(run)))
    en = energetics_rows(run)
    if en:
        parts.append("<h2>Energetics of the initial state</h2>" + _table(en))
    for title, caption, fig in figs:
        data = base64.b64encode(_png(fig)).decode()
        parts.append(f"<h2>{html.escape(title)}</h2><figure><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{data}'><figcaption>{html.escape(caption)}"
                     "</figcaption></figure>")
    parts.append("</body></html>")
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(out)
    return out
