"""Counting noise across sizes (issue 6, 'What it must show' 1): the built-in spine_sweep's
cell, volume and area scaled together, from a 40 nm vesicle up; the CV of the spine's Na+
count against its mean N has log-log slope -1/2 (tolerance: 0.05 and 4 SE)."""
import numpy as np
import pandas as pd

import ionmc
from ionmc import analysis
from ionmc.scenario import load_scenario


def test_cv_of_counts_falls_as_one_over_sqrt_n(tmp_path):
    sc = load_scenario("spine_sweep", ["scenario.replicates=60", "scenario.seed=9"])
    text = sc.to_toml()
    # the sweep's first four points (the 0.5 um^3 spine is for the built-in's own run)
    text = text.replace("3.4e-05, 0.00034, 0.0034, 0.034, 0.5", "3.4e-05, 0.00034, 0.0034, 0.034")
    text = text.replace("0.00068, 0.0068, 0.068, 0.68, 10.0", "0.00068, 0.0068, 0.068, 0.68")
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    out = ionmc.run(load_scenario(path), tmp_path / "out", workers=2, progress=False)
    df = pd.read_parquet(out / "timeseries")
    end = df[df["time_s"] == df["time_s"].max()]
    g = end.groupby("sweep.compartments.spine.volume_um3")["spine.Na.count"]
    n, sd, k = g.mean().to_numpy(), g.std(ddof=1).to_numpy(), g.count().to_numpy()
    assert len(n) == 4 and (k == 60).all()
    cv = sd / n
    se_log_cv = 1.0 / np.sqrt(2 * (k - 1))  # SE of log(SD) for normal samples
    w = 1.0 / se_log_cv ** 2
    x, y = np.log(n), np.log(cv)
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    slope = np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)
    se = np.sqrt(1.0 / np.sum(w * (x - xm) ** 2))
    print(f"CV slope {slope:.3f} +- {se:.3f} over N = {n.min():.0f}..{n.max():.0f}")
    assert abs(slope + 0.5) < 0.05 and abs(slope + 0.5) < 4 * se
    # the same slope from the analysis helper (unweighted)
    s2, _ = analysis.loglog_slope(n, cv)
    assert abs(s2 + 0.5) < 0.05
