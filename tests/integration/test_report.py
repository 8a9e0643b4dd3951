"""`ionmc report` (issue 7): the HTML holds the figures and the numbers of the Parquet, opens
offline in headless Chromium without console errors, and bad OUTDIRs get one line, exit 2."""
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import ionmc
from ionmc import analysis
from ionmc.analysis.report import build

from conftest import make, ode_run

CLI = [sys.executable, "-m", "ionmc.cli"]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return ode_run(tmp_path_factory, "pump_block", 60.0)


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("sn") / "run"
    ionmc.run(make("spine_noise", method="ssa", duration=0.2, dt=0.01, replicates=6, seed=5),
              out, workers=1, progress=False)
    return out


def _sections(text):
    return re.findall(r"<section id='([^']+)'><h2>([^<]+)</h2>", text)


def _page_text(text):
    """The page's visible words: tags and the embedded images dropped."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"src='data:[^']+'", "", text)))


def test_report_single_run_content(single):
    path = build(single)
    text = path.read_text()
    assert [t for _, t in _sections(text)] == [
        "At a glance", "Run", "Scheduled events", "Concentrations", "Membrane potential",
        "Mechanisms", "Thermodynamics", "Energetics of the initial state"]
    alts = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,", text)
    assert len(alts) == 4 == text.count("<img ")
    # alt text says what each figure shows, with its numbers, not only its title
    assert all(len(a) > 60 and re.search(r"\d", a) for a in alts), alts
    assert "Na in neuron 15 to" in html.unescape(alts[0])
    # self-contained: nothing fetched from anywhere
    assert not re.search(r"(src|href)=['\"](https?:|//)", text)
    df = pd.read_parquet(single / "timeseries")
    man = json.loads((single / "manifest.json").read_text())
    assert "<th>replicates finished</th><td>1</td>" in text
    assert f"<th>scenario hash</th><td>{man['scenario_hash']}</td>" in text
    assert "41.47 kJ/mol" in text
    words = _page_text(text)
    # the scenario's event by what it set; the kernels' firings under another name
    assert "at 10 s pump.block_fraction = 1" in re.sub(r"\s+", " ", words)
    assert "events fired" not in words
    # files the reader does not have are not cited
    assert "DESIGN.md" not in text and "REFERENCES.md" not in text
    assert not re.search(r"\b\w+\.(py|md)\b", words), re.findall(r"\b\w+\.(?:py|md)\b", words)
    # the entropy story in words, with the run's own residual (the Parquet's)
    res = df["thermo.balance_residual_J"].abs().max()
    para = next(p for p in re.findall(r"<p>([^<]+)</p>", text) if "the balance closes" in p)
    assert f"largest residual over the run is {res:.3g} J" in html.unescape(para)
    assert f"Largest balance residual: {res:.3g} J" in text
    ent = html.unescape(text)
    assert "S_mix = −G_ion/T is measured from the same reference" in ent
    assert "reference concentration" in ent and "T·S_prod is the heat" in ent
    g0 = df["thermo.free_energy_J"].iloc[0]
    from ionmc.analysis.figures import si_format

    assert f"Here G went from {si_format(g0, 'J')}" in ent
    # at a glance: the run's own start and end
    na = df["neuron.Na.mM"]
    assert f"{na.iloc[0]:.4g} → {na.iloc[-1]:.4g} mM" in ent
    assert path.stat().st_size < 10e6


def test_report_figures_are_readable(single):
    """Legible at 1280 px: at most two panels a row, no type under 9 pt at a width that
    fits the page unscaled; concentration axes labelled densely enough to read Na_i; SI
    prefixes on energies; events labelled; ATP work and T·S drawn so neither hides the
    other."""
    from matplotlib.text import Text

    from ionmc.analysis.figures import Figures, species_colour
    from ionmc.analysis.report import CSS

    F = Figures(analysis.open_run(single))
    figs = {t: f for t, _, f in F.all()}
    page = float(re.search(r"max-width:(\d+)px", CSS).group(1))
    for title, fig in figs.items():
        assert fig.get_figwidth() * 90 <= page, title  # shown at its own size, not shrunk
        axes = [ax for ax in fig.axes if ax.get_visible()]
        rows = {}
        for ax in axes:
            rows.setdefault(round(ax.get_position().y0, 2), []).append(ax)
        assert max(len(r) for r in rows.values()) <= 2, title
        for t in fig.findobj(Text):
            if t.get_visible() and t.get_text().strip():
                assert t.get_fontsize() >= 9, (title, t.get_text(), t.get_fontsize())
        # every panel of a run with an event names what it set
        for ax in axes:
            assert any(t.get_text() == "pump.block_fraction = 1" for t in ax.texts), title
    ax = figs["Concentrations"].axes[0]
    lo, hi = ax.get_ylim()
    locs = [v for v in ax.yaxis.get_majorticklocs() if lo <= v <= hi]
    labels = [lab for lab in ax.yaxis.get_major_formatter().format_ticks(locs) if lab]
    # Na_i runs 15 -> ~40 mM here: labelled ticks inside that range, not only 10 and 100
    assert len([v for v in locs if 15 <= v <= 50]) >= 2 and len(labels) >= 5, labels
    na = next(ln for ln in ax.get_lines() if ln.get_label().startswith("Na:"))
    assert na.get_color() == species_colour("Na")
    th = figs["Thermodynamics"].axes
    assert th[0].get_ylabel() == "pJ"  # ~200 pJ stored: not "200000 fJ"
    atp = next(ln for ln in th[2].get_lines() if ln.get_label() == "ATP work")
    ts = next(ln for ln in th[2].get_lines() if ln.get_label().startswith("T·S"))
    assert atp.get_linewidth() >= 2.5 * ts.get_linewidth() and atp.get_alpha() < 1
    assert ts.get_linestyle() == "--" and th[2].get_lines().index(ts) > \
        th[2].get_lines().index(atp)  # the thin dashed line drawn over the wide band


def test_colours_mean_one_thing_in_every_figure_and_run(single, ensemble):
    from ionmc.analysis.figures import Figures, mechanism_colours, species_colour

    a, b = Figures(analysis.open_run(single)), Figures(analysis.open_run(ensemble))
    for name in ("K_leak", "Na_leak", "Cl_leak", "pump"):
        assert a.mcolour[name] == b.mcolour[name]
    assert a.mcolour["Na_leak"] == species_colour("Na") == a.colour["Na"]
    assert len(set(a.mcolour.values())) == len(a.mcolour)
    # the same names in another order, and a second K mechanism: still one colour each
    mc = mechanism_colours([{"name": "Kir", "species": "K"}, {"name": "K_leak", "species": "K"},
                            {"name": "pump"}, {"name": "weird_thing"}])
    assert mc["Kir"] == species_colour("K") and mc["K_leak"] != mc["Kir"]
    assert len(set(mc.values())) == 4 and mc["pump"] == a.mcolour["pump"]
    assert species_colour("Zz") == species_colour("Zz") != species_colour("Na")
    # every line of a mechanism has its colour, in every figure it appears in
    for title, _, fig in a.all():
        for ax in fig.axes:
            for ln in ax.get_lines():
                if ln.get_label() in a.mcolour:
                    assert ln.get_color() == a.mcolour[ln.get_label()], (title, ln.get_label())


def test_si_prefixes():
    from ionmc.analysis.figures import si_format, si_scale

    assert si_scale([2e-10, -1e-12], "J") == (1e12, "pJ")
    assert si_scale([3.4e-16], "J/K") == (1e18, "aJ/K")
    assert si_format(2.1e-10, "J") == "210 pJ" and si_format(0.0, "J") == "0 J"
    assert si_format(4e-15, "F") == "4 fF" and si_format(979e-6, "s") == "979 µs"


def test_ensemble_stats_match_pandas(ensemble):
    run = analysis.open_run(ensemble)
    assert run.replicates == 6 and run.missing == []
    df = pd.read_parquet(ensemble / "timeseries")
    col = "spine.Na.count"
    st = analysis.ensemble_stats(run, [col])[col]
    g = df.groupby("time_s")[col]
    np.testing.assert_allclose(st["mean"].to_numpy(), g.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(st["sd"].to_numpy(), g.std(ddof=1).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(st["q95"].to_numpy(), g.quantile(0.95).to_numpy(), rtol=1e-12)
    text = build(ensemble).read_text()
    assert "<h2>Noise</h2>" in text and "<th>replicates finished</th><td>6</td>" in text


def test_ensemble_noise_section(ensemble):
    """V's SD against k_BT/C and the shot-noise formula, its spectrum, and the CV of counts
    against N, on the page with numbers the reader can check."""
    from scipy import constants as sc

    text = build(ensemble).read_text()
    ids = [i for i, _ in _sections(text)]
    assert ids[-2:] == ["noise", "energetics"]
    noise = html.unescape(text.split("<section id='noise'>")[1].split("</section>")[0])
    assert noise.count("<img ") == 1 and "alt='6 replicates: V fluctuations with SD" in noise
    rows = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]+)</td></tr>", noise))
    area = 0.4  # spine_noise's head, 1 uF/cm^2
    thermal = math.sqrt(sc.k * 310.0 / (1e-2 * area * 1e-12)) * 1e3
    assert rows["thermal: √(k_BT/C)"] == f"{thermal:.4g} mV"
    sd = float(rows["SD of V (head), measured"].split()[0])
    shot = float(rows["shot noise: √(e² Σ q²a / 2Cg)"].split()[0])
    assert float(rows["measured / shot noise"]) == pytest.approx(sd / shot, rel=5e-3)
    # the per-molecule pump keeps V near the thermal level: the linear-noise approximation
    # (verification: within 5% of long ssa runs) gives 1.09 mV against k_BT/C's 1.03
    lna = float(rows["linear-noise approximation (steady state)"].split()[0])
    assert lna == pytest.approx(1.094, rel=0.01)
    assert float(rows["measured / linear-noise"]) == pytest.approx(sd / lna, rel=5e-3)
    assert abs(sd / lna - 1) < 0.15  # 6 short replicates
    assert "Nyquist 1928" in noise and "power spectrum" in noise


def test_shot_noise_prediction_matches_the_closed_form(tmp_path):
    """Figures.noise_prediction (propensities and a numerical slope from the model) against
    the closed form for GHK leaks: sigma_V^2 = e^2 sum (J+ + J-) / (2 C g), with g the
    slope conductance of the GHK currents; and at the leaks' zero-current potential it is
    k_B T / C (fluctuation-dissipation)."""
    from scipy import constants as sc

    from builder import Builder
    from ionmc.analysis.figures import Figures
    from ionmc.mechanisms.design import slope_conductance
    from ionmc.thermo.closed_forms import ghk_fluxes

    area, T = 0.05, 310.0
    P = {"K": 2e-6, "Na": 4e-7}
    sc_ = (Builder("v_noise", 0.002, 0.0005, "ssa", 3, replicates=2, temperature_K=T)
           .species(Na=1, K=1).impermeant(X=-1)
           .compartment("cell", 100.0, Na=15.0, K=140.0)
           .compartment("bath", 1000.0, bath=True, Na=145.0, K=5.0)
           .membrane("m", "cell", "bath", area, V0=-40.0)
           .leaks(*P.items()).build())
    out = ionmc.run(sc_, tmp_path / "o", workers=1, progress=False)
    F = Figures(analysis.open_run(out))
    pred = F.noise_prediction("m")
    C = 1e-2 * area * 1e-12
    x = {s: F.stat(f"cell.{s}.count")["mean"].iloc[-1] for s in ("Na", "K", "X")}
    V = sc.e * (x["Na"] + x["K"] - x["X"]) / C  # the final mean state's potential
    cin = {s: F.stat(f"cell.{s}.mM")["mean"].iloc[-1] for s in ("Na", "K")}
    cout = {"Na": 145.0, "K": 5.0}
    g = slope_conductance(P, area, cin, cout, V, T, {"Na": 1, "K": 1})
    gross = sum(sum(ghk_fluxes(p, area, 1, cin[s], cout[s], V, T)) for s, p in P.items())
    expected = math.sqrt(sc.e ** 2 * gross / (2 * C * g))
    assert pred["C"] == pytest.approx(C, rel=1e-12)
    # 1%: the kernels evaluate a jump's rate at its midpoint potential (half an ion's
    # 0.32 mV from V here), which the continuous closed form does not (measured: 0.4%)
    assert pred["tau"] == pytest.approx(C / g, rel=0.01)
    assert pred["sd_shot"] == pytest.approx(expected, rel=0.01)
    assert pred["sd_thermal"] == pytest.approx(math.sqrt(sc.k * T / C), rel=1e-9)
    # relaxed to V_GHK within 2 ms (tau ~0.1 ms): the formula is k_B T / C there
    assert pred["sd_shot"] == pytest.approx(pred["sd_thermal"], rel=0.02)


def test_markdown_format(single, tmp_path):
    md = build(single, tmp_path / "r.md", fmt="md")
    text = md.read_text()
    pngs = re.findall(r"!\[[^\]]+\]\((r/fig\d+\.png)\)", text)
    assert "## At a glance" in text and "T·S_prod is the heat" in text
    assert len(pngs) == 4 and all((tmp_path / p).stat().st_size > 1000 for p in pngs)


def test_png_format(single, tmp_path):
    d = build(single, tmp_path / "figs", fmt="png")
    assert sorted(p.name for p in d.iterdir()) == [f"fig{i}.png" for i in range(1, 5)]


def test_half_finished_run_reports_what_it_has(ensemble, tmp_path):
    part = tmp_path / "half"
    shutil.copytree(ensemble, part)
    (part / "timeseries" / "part-00004.parquet").unlink()
    (part / "report.html").unlink(missing_ok=True)
    r = subprocess.run(CLI + ["report", str(part)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (part / "report.html").read_text()
    assert "1 replicate(s) missing (4)" in text
    assert "<th>replicates finished</th><td>5</td>" in text


@pytest.mark.parametrize("case", ["missing", "empty", "no parts"])
def test_bad_outdir_one_line_exit_2(tmp_path, ensemble, case):
    d = tmp_path / "d"
    if case == "empty":
        d.mkdir()
    elif case == "no parts":
        shutil.copytree(ensemble, d)
        (d / "report.html").unlink(missing_ok=True)  # an earlier test's
        for p in (d / "timeseries").glob("*.parquet"):
            p.unlink()
    r = subprocess.run(CLI + ["report", str(d)], capture_output=True, text=True)
    assert r.returncode == 2
    # one error line naming OUTDIR (a progress line before it is allowed: the CLI says when
    # it starts building)
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and str(d) in errors[0] and "Traceback" not in r.stderr
    assert not (d / "report.html").exists()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_report_opens_in_headless_chromium(single, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("IONMC_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (CI installs it and sets IONMC_REQUIRE_BROWSER)")
    page = build(single, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                        "--v=0", "--window-size=1280,3000", f"--screenshot={shot}",
                        page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 50_000, r.stderr[-2000:]
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console
    # the figures decoded: the page is mostly not blank
    from matplotlib.image import imread

    img = imread(shot)
    assert (img[..., :3] < 0.9).any(axis=2).mean() > 0.02
    # the structure as the browser parsed it: every section, and every image with its alt
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                        page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = r.stdout
    assert re.findall(r'<section id="([^"]+)"', dom) == [
        "glance", "run", "events", "concentrations", "membrane-potential", "mechanisms",
        "thermodynamics", "energetics"], r.stderr[-2000:]
    assert len(re.findall(r'<img alt="[^"]{60,}" src="data:image/png', dom)) == 4


def test_report_shows_metabolism_when_the_run_has_a_pool(tmp_path):
    out = ionmc.run(make("anoxia", method="ode", duration=60.0, dt=1.0), tmp_path / "a",
                    workers=1, progress=False)
    text = build(out).read_text()
    titles = [t for _, t in _sections(text)]
    assert titles[-2:] == ["Metabolism", "Energetics of the initial state"]
    assert "metab.O2_supply_mM = 0" in text and text.count("<img ") == 5
    # the pool's own chemistry is outside the ledger's total, and the page says so
    assert "metab: a metabolic reservoir's own chemistry, outside this total" in \
        html.unescape(text)


def test_nernst_lines_follow_the_volumes_under_water_flow(tmp_path):
    # anoxic_swelling: the ECS loses ~60% of its water by 600 s, so E_K from the counts at
    # the initial volumes would be ~28 mV off the one the concentrations give
    from ionmc.constants import F, R
    from ionmc.analysis.figures import Figures

    out = ionmc.run(make("anoxic_swelling", method="ode", dt=50.0), tmp_path / "s",
                    workers=1, progress=False)
    refs = Figures(analysis.open_run(out))._references(0)
    # its report names no source file (the volume figure's caption once cited volume.py)
    text = build(out).read_text()
    assert "<h2>Volume</h2>" in text
    assert not re.search(r"\b\w+\.(py|md)\b", _page_text(text))
    df = pd.read_parquet(out / "timeseries")
    last = df.iloc[-1]
    assert refs["t"][-1] == last["time_s"]
    assert last["ecs.volume_um3"] < 0.7 * df["ecs.volume_um3"].iloc[0]
    e_k = R * 310.0 / F * np.log(last["ecs.K.mM"] / last["neuron.K.mM"]) * 1e3
    # the counts are rounded under ode: 0.01 mV is ~4e-4 of a count ratio of ~1e9 ions
    assert refs["nernst"]["K"][-1] == pytest.approx(e_k, abs=0.01)


# -- the new-user review of pump_block's report --------------------------------------------
def _drawn(fig, dpi=90):
    """The figure laid out and drawn as the report saves it; its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_event_labels_hide_no_data(single, ensemble):
    """An event's label has no box and sits in the margin above its axes, clear of the
    title and inside the figure: it covers no curve at the moment of the event."""
    from ionmc.analysis.figures import Figures

    n = 0
    for run in (single, ensemble):
        for title, _, fig in Figures(analysis.open_run(run)).all():
            r = _drawn(fig)
            whole = fig.bbox
            for ax in fig.axes:
                for t in (t for t in ax.texts if t.get_gid() == "event"):
                    n += 1
                    assert t.get_bbox_patch() is None, (title, t.get_text())
                    box = t.get_window_extent(r)
                    assert box.y0 >= ax.bbox.y1 - 0.5, (title, t.get_text())  # above the data
                    assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and box.y1 <= whole.y1
                    assert not box.overlaps(ax.title.get_window_extent(r)), title
    assert n >= 8  # every panel of the single run (the ensemble has no events)


def test_legends_cover_no_data_and_keep_labels_whole(single, ensemble):
    """Every legend covers no line, band or marker of its axes (no line vertex inside it, no
    segment through it), lies inside the figure, and shows each label whole."""
    from ionmc.analysis.figures import Figures, covers_data

    seen = set()
    for run in (single, ensemble):
        for title, _, fig in Figures(analysis.open_run(run)).all():
            r = _drawn(fig)
            for ax in fig.axes:
                leg = ax.get_legend()
                if leg is None or not ax.get_visible():
                    continue
                handles, labels = ax.get_legend_handles_labels()
                assert [t.get_text() for t in leg.get_texts()] == labels, title
                box = leg.get_window_extent(r)
                assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 + 0.5 \
                    and fig.bbox.y0 - 0.5 <= box.y0, (title, labels)
                for ln in ax.get_lines():
                    xy = ln.get_transform().transform(ln.get_xydata())
                    assert not box.padded(-1).count_contains(xy[np.isfinite(xy).all(axis=1)]), \
                        (title, ax.get_title(), ln.get_label())
                assert not covers_data(ax, box), (title, ax.get_title(), labels)
                seen.add(ax.get_title())
    # the panel the review found: its legend (ATP work, event work, T·S) covers nothing
    assert "work done on the cell and heat dissipated" in seen


def _lab(colour):
    import matplotlib.colors as mc

    c = np.array(mc.to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_work_colours_are_disjoint_from_species_and_mechanisms(single):
    """The ledger's work terms are drawn in hues no species or mechanism has (CIE76 ΔE >= 30
    from every palette colour and from each other), so "event work" is not read as Cl."""
    from ionmc.analysis.figures import (FALLBACK, MECHANISM_COLOURS, QUANTITY_COLOURS,
                                        SPECIES_COLOURS, Figures)

    palette = set(SPECIES_COLOURS.values()) | set(MECHANISM_COLOURS.values()) | set(FALLBACK)
    work = {k: v for k, v in QUANTITY_COLOURS.items() if k not in ("G", "S_mix", "T·S produced")}
    assert not set(QUANTITY_COLOURS.values()) & palette
    for k, v in work.items():
        near = min(palette, key=lambda p: np.linalg.norm(_lab(v) - _lab(p)))
        assert np.linalg.norm(_lab(v) - _lab(near)) >= 30, (k, v, near)
    for (a, u), (b, v) in ((x, y) for x in work.items() for y in work.items() if x < y):
        assert np.linalg.norm(_lab(u) - _lab(v)) >= 30, (a, b)
    # as drawn: no line of the thermodynamics figure has a species' or mechanism's colour
    F = Figures(analysis.open_run(single))
    th = next(f for t, _, f in F.all() if t == "Thermodynamics")
    taken = set(F.colour.values())
    import matplotlib.colors as mc

    for ln in th.axes[2].get_lines():
        if ln.get_label() in work:
            assert mc.to_hex(ln.get_color()) not in taken | palette, ln.get_label()


def test_report_names_its_file_renders_code_and_groups_energetics(single, tmp_path):
    """An edited copy's report says which file produced it; `code` in the words is <code>
    in the HTML (no stray backticks), the Markdown keeps its backticks; the energetics table
    of one membrane does not repeat its name on every row; the wall time says how much of
    it was compiling when the manifest records it."""
    from ionmc.analysis.report import energetics_rows, wall_time

    copy = tmp_path / "copy"
    shutil.copytree(single, copy)
    man = json.loads((copy / "manifest.json").read_text())
    man["scenario_source"] = "/home/me/my.toml"
    man.pop("compile_s", None)  # the replicates' own, as a manifest may hold alone
    for rep in man["replicates"].values():
        rep["compile_s"] = 12.5
    (copy / "manifest.json").write_text(json.dumps(man))
    text = build(copy).read_text()
    assert "<th>scenario file</th><td>/home/me/my.toml</td>" in text
    assert "<p class='source'>From <code>/home/me/my.toml</code></p>" in text
    words = _page_text(text)
    assert "`" not in words
    assert "<code>ionmc energetics</code>" in text
    assert re.search(r"<th>wall time</th><td>[\d.]+ s \(of which 12\.5 s compiling kernels, "
                     r"first run only\)</td>", text)
    # the energetics rows: grouped by membrane, the one membrane named once
    en = energetics_rows(analysis.open_run(single))
    assert list(en) == ["soma"] and not any(k.startswith("soma") for k, _ in en["soma"])
    sec = text[text.index("<section id='energetics'>"):]
    assert "<th>soma:" not in sec and "across membrane soma" in sec
    # the run's own total first (its set-up compiles too), else the replicates' largest;
    # without either (older runs), or under half a second, the wall time alone
    assert wall_time({"wall_time_s": 30.0, "compile_s": 20.0, "replicates": {"0": {
        "compile_s": 12.5}}}, ["0"]) == "30 s (of which 20 s compiling kernels, first run only)"
    assert wall_time({"wall_time_s": 3.0, "replicates": {"0": {}}}, ["0"]) == "3 s"
    assert wall_time({"wall_time_s": 3.0, "compile_s": 0.01, "replicates": {}}, []) == "3 s"
    man = json.loads((single / "manifest.json").read_text())
    recorded = max([man.get("compile_s") or 0.0] + [r.get("compile_s") or 0.0 for r in
                                                    man["replicates"].values()]) >= 0.5
    assert ("of which" in _page_text(build(single).read_text())) == recorded
    md = build(copy, tmp_path / "r.md", fmt="md").read_text()
    assert "<code>" not in md and "From /home/me/my.toml." in md
