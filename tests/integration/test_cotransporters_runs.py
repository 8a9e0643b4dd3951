"""Cotransporters and exchangers (issue 5): one Haldane-consistent turnover law per
transporter, so its equilibrium is the thermodynamic one whatever its kinetics.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_cotransporters.py."""


# -- built-in scenarios and input checks ---------------------------------------------------
def test_builtins_listed_and_run_from_the_cli(tmp_path, capsys):
    import pandas as pd

    from ionmc.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("gaba_uptake", "kidney_sglt"):
        assert name in out
        assert main(["run", name, "-o", str(tmp_path / name), "--duration", "2"]) == 0
    df = pd.read_parquet(tmp_path / "gaba_uptake" / "timeseries")
    assert df["cell.GABA.count"].iloc[-1] > 0 and df["GAT1.GABA.net_efflux"].iloc[-1] < 0
    df = pd.read_parquet(tmp_path / "kidney_sglt" / "timeseries")
    for cell, tr in (("s1", "SGLT2"), ("s3", "SGLT1")):
        assert df[f"{cell}.glucose.mM"].iloc[-1] > 0.1
        assert df[f"{tr}.current_pA"].iloc[-1] < 0  # Na+ carried in: inward current
