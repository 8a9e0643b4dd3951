"""`python -m ionmc.warmup` (make demo's first step): compiles what is missing, says so,
and skips what the cache holds."""
from ionmc import warmup
from ionmc.runs import runner


def test_a_method_whose_kernels_are_missing_is_compiled_and_reported(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(runner, "needs_compiling", lambda m: m == "ssa")
    monkeypatch.setattr(warmup, "compile_method", lambda m: ran.append(m) or 1.0)
    assert warmup.main(["ssa", "ode"]) == 0
    out = capsys.readouterr().out
    assert ran == ["ssa"]  # ode is cached: not run
    assert "compiling ionmc's kernels for ssa," in out and "ode" not in out.splitlines()[0]
    assert "compiled in" in out and "ssa 1 s" in out


def test_nothing_to_compile_says_so(monkeypatch, capsys):
    monkeypatch.setattr(runner, "needs_compiling", lambda m: False)
    assert warmup.main([]) == 0
    assert "are compiled" in capsys.readouterr().out


def test_an_unknown_method_is_one_line_and_exit_2(capsys):
    assert warmup.main(["gillespie"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'gillespie'" in err


def test_compile_method_runs_the_method():
    # the SSA's kernels: compiled already by earlier tests in this process, or here
    assert warmup.compile_method("ssa") > 0.0
