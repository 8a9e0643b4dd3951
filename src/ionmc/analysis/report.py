"""`ionmc report OUTDIR`: one self-contained HTML file (figures embedded as PNG data URIs,
no network needed to view it), or Markdown with PNG files beside it (`--format md`).

What a physiologist or a teacher should see at a glance: the gradients running down, the
membrane potential against its Nernst and GHK references, the pumps working, the free
energy stored and spent, and the entropy produced, said in words with the run's own
numbers. Each figure is
drawn only when the run has its columns. Statistics use every record; plots draw about
2 x `MAX_POINTS` times (each bucket's lowest and highest, so spikes keep their peaks), so a long run stays a small file.

matplotlib (Agg) because the report must open offline and stay small: static PNGs embed in
one file, where an interactive library would ship its JavaScript with every report.
"""
import base64
import html
import io
import re
from pathlib import Path

from ionmc.analysis import tables as analysis
from ionmc.analysis.figures import Figures, si_format
from ionmc.errors import InputError
from ionmc.thermo.energetics import ROWS, energetics


def source_label(source):
    """The scenario file a run came from as a reader should see it: a built-in by its name
    (its absolute path is the machine's that ran it), any other file by its path."""
    if not source:
        return source
    from ionmc.scenario.load import builtin_dir

    try:
        rel = Path(source).resolve().relative_to(builtin_dir().resolve())
    except (ValueError, OSError):
        return source
    return f"built-in {rel.with_suffix('').as_posix()}"


def summary(run):
    m = run.manifest
    reps = m.get("replicates", {})
    done = [k for k, v in reps.items() if v.get("status") == "done"
            and (run.point is None or k.startswith(f"{run.point}/"))]
    fired = sum(int(reps[k].get("events", 0)) for k in done)
    rows = [("scenario", m.get("scenario_name"))]
    if m.get("scenario_source"):
        rows.append(("scenario file", source_label(m["scenario_source"])))
    rows += [("method", m.get("method")),
             ("replicates finished", f"{run.replicates}"),
             ("missing replicates", ", ".join(map(str, run.missing)) or "none"),
             ("root seed", m.get("seed")), ("duration", f"{m.get('duration_s')} s"),
             ("wall time", wall_time(m, done))]
    if m.get("method") != "ode":
        # the kernels' count of firings, not the scenario's [[events]] (listed apart)
        rows.append(("stochastic transitions fired (all replicates)", f"{fired:.4g}"))
    rows += [("ionmc", m.get("ionmc_version")), ("scenario hash", m.get("scenario_hash"))]
    for k, v in run.point_values.items():
        rows.append((k, v))
    rows += compartment_rows(run)
    for w in m.get("warnings", []):
        rows.append(("warning", w))
    return rows


#: compiling shorter than this (s) is not mentioned beside the wall time
COMPILE_SHOWN_S = 0.5


def wall_time(m, done):
    """The run's wall time, and the part of it spent compiling kernels when the manifest
    records it: its own "compile_s" (the whole run's), else the largest of its finished
    replicates' (they compile side by side). Runs without either: the wall time alone."""
    text = f"{m.get('wall_time_s', float('nan')):.3g} s"
    comp = m.get("compile_s")
    if comp is None:
        reps = [m["replicates"][k].get("compile_s") for k in done]
        comp = max((float(c) for c in reps if c is not None), default=None)
    if comp is not None and comp >= COMPILE_SHOWN_S:
        text += f" (of which {float(comp):.3g} s compiling kernels, first run only)"
    return text


def glance_rows(run, sc):
    """The run at a glance (what `RunResult.summary()` gives), start → end per quantity."""
    from ionmc.analysis.result import summary_values

    v = summary_values(run, sc)
    rows = []
    for k, start in v.items():
        if k.endswith(", start"):
            label, unit = k[:-len(", start")].rsplit(" (", 1)
            rows.append((label, f"{start:.4g} → {v[k[:-5] + 'end']:.4g} {unit[:-1]}"))
    if "ledger residual, largest (J)" in v:
        rows.append(("free-energy balance, largest residual",
                     f"{v['ledger residual, largest (J)']:.3g} J "
                     f"({v['ledger residual / largest term']:.2g} of its largest term)"))
    return rows


def event_rows(run):
    """The scenario's [[events]] as they fired: (time, what they set)."""
    from ionmc.analysis.figures import event_label

    return [(f"at {e['at_s']:g} s", event_label(e))
            for e in run.manifest.get("events_fired", [])]


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
    """{membrane: [(label, value)]}: the initial state's energetics, a table per membrane."""
    try:
        res = energetics(run.scenario())
    except InputError:
        return {}
    out = {}
    for name, b in res["membranes"].items():
        rows = out.setdefault(name, [])
        for key, label, unit in ROWS:
            v = b.get(key)
            if v is None:
                continue
            items = v.items() if isinstance(v, dict) else [(None, v)]
            for s, val in items:
                lab = label + (f", {s}" if s else "")
                rows.append((lab, f"{val:.4g} {unit}" if isinstance(val, float) else str(val)))
    return {k: v for k, v in out.items() if v}


def _inline(text):
    """Plain text as HTML: escaped, and `code` spans (the Markdown report's) as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(text)))


def _png(fig, dpi=90):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _table(rows):
    body = "".join(f"<tr><th>{_inline(k)}</th><td>{_inline(v)}</td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def entropy_text(F):
    """The ledger in words, with this run's numbers: what G and S_mix are measured from,
    what T·S_prod is, and how well the balance closed. A list of paragraphs (plain text),
    or [] when the run has no ledger."""
    L = F.ledger_numbers()
    if L is None:
        return []
    T = L["T"]
    g = (f"The free energy stored in the gradients, G, is the ions' free energy as an ideal "
         f"solution of discrete particles (k_BT Σ ln n! terms; Hill 1960, An Introduction to "
         f"Statistical Thermodynamics) plus the charge on each membrane, C·V²/2. It is "
         f"measured from a stated reference state: every ion species at its reference "
         f"concentration, which is the bath's concentration where the species touches a "
         f"bath and otherwise its mean concentration over the compartments it can reach "
         f"(the cell fully mixed with its surroundings). G is zero there and positive for "
         f"any gradient. Here G went from {si_format(L['G0'], 'J')} to "
         f"{si_format(L['G1'], 'J')}.")
    ds = L["S_mix1"] - L["S_mix0"]
    trend = ("rose toward zero: the gradients ran down" if ds > 0.01 * abs(L["S_mix0"])
             else "fell: the gradients were built up" if ds < -0.01 * abs(L["S_mix0"])
             else "stayed nearly constant: the gradients were held")
    s = (f"The mixing entropy S_mix = −G_ion/T is measured from the same reference: zero "
         f"when every species is at its reference concentration, negative while gradients "
         f"exist. It is not the entropy produced; it says how far the cell is from mixed. "
         f"Here it went from {si_format(L['S_mix0'], 'J/K')} to "
         f"{si_format(L['S_mix1'], 'J/K')} ({trend}).")
    per = []
    apart = F.outside_total()
    for m in F.d["mechanisms"]:
        col = f"{m['name']}.entropy_production_J_per_K"
        if col in F.run.columns and m["name"] not in apart:
            per.append((float(F.stat(col)["mean"].iloc[-1]) * T, m["name"]))
    per.sort(reverse=True)
    share = ""
    if per and L["TS_prod"] > 0:
        share = " Most of it was made by " + ", ".join(
            f"{n} ({v / L['TS_prod']:.0%})" for v, n in per[:3] if v > 0) + "."
    if apart:
        share += (f" ({', '.join(sorted(apart))}: a metabolic reservoir's own chemistry, "
                  "outside this total.)")
    p = (f"T·S_prod is the heat the run dissipated: every firing of a transition produces "
         f"entropy k_B ln(a_f/a_b), the log ratio of its forward and backward rates in the "
         f"states before and after (Schnakenberg 1976, Rev. Mod. Phys. 48:571), summed over "
         f"all firings and multiplied by T = {T:g} K. It only grows. Here T·S_prod = "
         f"{si_format(L['TS_prod'], 'J')}.{share}")
    work = ", ".join(f"{lab} {si_format(v, 'J')}" for lab, v in L["work"].items()) or "none"
    b = (f"The balance: G(t) − G(0) = (work done on the cell: ATP hydrolysed by pumps, "
         f"clamps, baths, events{', water' if 'water work' in L['work'] else ''}) − "
         f"T·S_prod. Here ΔG = {si_format(L['G1'] - L['G0'], 'J')}; the work terms: {work}; "
         f"T·S_prod = {si_format(L['TS_prod'], 'J')}.")
    if "residual" in L:
        b += (f" How well the balance closes: its largest residual over the run is "
              f"{L['residual']:.3g} J, {L['relative']:.2g} of its largest term"
              + (" (rounding, summed over every firing)." if L["relative"] < 1e-5 else "."))
    return [g, s, p, b]


def noise_text(F):
    if not F.noise_table:
        return []
    return [("How large V's fluctuations should be. At equilibrium (every transition "
             "balanced by its reverse, no pump running) the charge on a membrane of "
             "capacitance C fluctuates with SD(V) = √(k_BT/C), whatever the channels "
             "(Nyquist 1928, Phys. Rev. 32:110). Away from it each transition is a shot of "
             "q_r charges at rate a_r; as independent Poisson events relaxed by the slope "
             "conductance g they give SD(V)² = e² Σ q_r² a_r / (2 C g) (Campbell's theorem; "
             "Stevens 1972, Biophys. J. 12:1028), which reduces to k_BT/C at equilibrium. "
             "Both are evaluated at the run's final mean state. A pump whose cycle is several "
             "correlated steps fluctuates less than the shot-noise formula, which treats its "
             "steps as independent: over times longer than a cycle the 3 charges one step "
             "moves out and the 2 another moves in add up to 1, so the measured spectrum "
             "can lie below the formula at low frequencies."),
            ("The CV of a count falls as 1/√N for Poisson counts at steady state; counts that "
             "start equal in every replicate spread from zero, so early in a run their CV "
             "lies below that line.")]


CSS = """body{font-family:system-ui,sans-serif;max-width:1040px;margin:1.5em auto;color:#222;
font-size:16px;line-height:1.45;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:3px 10px;text-align:left;
border-bottom:1px solid #ddd;font-size:14.5px}th{font-weight:500;color:#555}
img{max-width:100%;height:auto}figure{margin:0}
figcaption{font-size:14.5px;color:#444;margin:.3em 0 2em}
.lead{color:#444;font-size:17px}.text p{max-width:52em}
code{font-size:92%;background:#f3f3f3;padding:0 3px;border-radius:3px}
.source{color:#555;font-size:14.5px;margin-top:-.6em}
.warn{background:#fff3cd;padding:.5em 1em;border-left:4px solid #e0a800}"""


def _figure_html(title, caption, alt, png):
    data = base64.b64encode(png).decode()
    return (f"<figure><img alt='{html.escape(alt, quote=True)}' "
            f"src='data:image/png;base64,{data}'><figcaption>{_inline(caption)}"
            "</figcaption></figure>")


def build(outdir, out=None, fmt="html", point=None):
    """Write the report of OUTDIR (of a sweep: of its `point`); return its path. fmt: 'html'
    (one self-contained file), 'md' (Markdown with PNG figures in a directory beside it) or
    'png' (the figures alone, in a directory)."""
    run = analysis.open_run(outdir, point)
    F = Figures(run)
    figs = F.all()
    name = run.manifest.get("scenario_name", "run")
    # the file it ran: perhaps an edited copy
    source = source_label(run.manifest.get("scenario_source"))
    stem = "report" if point is None else f"report-point{point:04d}"
    if point is not None:
        name += f", point {point}"
    out = Path(out) if out else Path(outdir) / (stem + (".html" if fmt == "html" else ".md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    missing = (f"{len(run.missing)} replicate(s) missing ({', '.join(map(str, run.missing))}): "
               "this report shows the finished ones; `ionmc run` with the same OUTDIR "
               "completes the rest." if run.missing else "")
    description = F.d["scenario"].get("description", "")
    events = event_rows(run)
    words = {"Thermodynamics": entropy_text(F), "Noise": noise_text(F)}
    tables = {"Noise": F.noise_table or []}
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
        if source:
            lines += [f"From {source}.", ""]
        if description:
            lines += [description, ""]
        if missing:
            lines += [f"> {missing}", ""]
        lines += ["## At a glance", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in glance_rows(run, F.sc)] + [""]
        lines += ["## Run", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in summary(run)] + [""]
        if events:
            lines += ["## Scheduled events", "", "| | |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in events] + [""]
        for i, (title, caption, fig) in enumerate(figs):
            png = figdir / f"fig{i + 1}.png"
            png.write_bytes(_png(fig, dpi=80))
            alt = F.alt.get(title, title).replace("]", ")").replace("[", "(")
            lines += [f"## {title}", ""]
            for para in words.get(title, []):
                lines += [para, ""]
            if tables.get(title):
                lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in tables[title]]
                lines += [""]
            lines += [f"![{alt}]({figdir.name}/{png.name})", "", caption, ""]
        en = energetics_rows(run)
        if en:
            lines += ["## Energetics of the initial state", ""]
            for mem, rows in en.items():
                lines += [f"Membrane {mem}:", "", "| | |", "|---|---|"]
                lines += [f"| {k} | {v} |" for k, v in rows] + [""]
        tmp = out.with_suffix(".md.tmp")
        tmp.write_text("\n".join(lines))
        tmp.replace(out)
        return out
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>ionmc: "
             f"{html.escape(name)}</title><style>{CSS}</style></head><body>",
             f"<h1>ionmc report: {html.escape(name)}</h1>"]
    if source:
        parts.append(f"<p class='source'>From <code>{html.escape(source)}</code></p>")
    if description:
        parts.append(f"<p class='lead'>{_inline(description)}</p>")
    if missing:
        parts.append(f"<p class='warn'>{_inline(missing)}</p>")
    parts.append("<section id='glance'><h2>At a glance</h2><p>Start → end of the run"
                 + (" (ensemble means)" if run.replicates > 1 else "") + ".</p>"
                 + _table(glance_rows(run, F.sc)) + "</section>")
    parts.append("<section id='run'><h2>Run</h2>" + _table(summary(run)) + "</section>")
    if events:
        parts.append("<section id='events'><h2>Scheduled events</h2><p>From the scenario's "
                     "[[events]]: what each one set, and when. Figures mark them with dotted "
                     "lines.</p>" + _table(events) + "</section>")
    for title, caption, fig in figs:
        sid = title.lower().replace(" ", "-")
        body = [f"<section id='{sid}'><h2>{html.escape(title)}</h2>"]
        if words.get(title):
            body.append("<div class='text'>" + "".join(f"<p>{_inline(p)}</p>"
                                                       for p in words[title]) + "</div>")
        if tables.get(title):
            body.append(_table(tables[title]))
        body.append(_figure_html(title, caption, F.alt.get(title, title), _png(fig)))
        parts.append("".join(body) + "</section>")
    en = energetics_rows(run)
    if en:
        one = len(en) == 1
        tables = "".join(("" if one else f"<h3>membrane {html.escape(mem)}</h3>") + _table(rows)
                         for mem, rows in en.items())
        parts.append("<section id='energetics'><h2>Energetics of the initial state</h2>"
                     + _inline("What the scenario's starting state implies, before anything ran"
                               + (f", across membrane {next(iter(en))}" if one else "")
                               + " (as `ionmc energetics` prints it).").join(("<p>", "</p>"))
                     + tables + "</section>")
    parts.append("</body></html>")
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(out)
    return out
