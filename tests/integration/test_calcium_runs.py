"""Calcium: a fast buffer (Ca + B <-> CaB), PMCA (1 Ca2+ out per ATP) and NCX in a small
compartment, against closed forms (buffer.py, cotransporter.py).
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_calcium.py."""


def test_spine_calcium_from_the_cli_with_report_and_energetics(tmp_path, capsys):
    import json

    import pandas as pd

    from ionmc.cli import main

    assert main(["list"]) == 0
    assert "spine_calcium" in capsys.readouterr().out
    out = tmp_path / "sc"
    assert main(["run", "spine_calcium", "-o", str(out), "--replicates", "2",
                 "--duration", "0.25"]) == 0
    df = pd.read_parquet(out / "timeseries")
    assert set(df["replicate"]) == {0, 1}
    assert (df.groupby("replicate")["spine.CaB.count"].max() > 1000).all()  # the entry
    assert (df["calbindin.current_pA"].dropna() == 0).all()
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 10000
    capsys.readouterr()
    assert main(["energetics", "spine_calcium", "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["buffers"]["calbindin"]["compartment"] == "spine"
