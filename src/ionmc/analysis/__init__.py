"""Reading a run's output for notebooks and reports: `open_run` (the `Run` the statistics
functions take), the statistics (ensemble_stats, noise_sd, power_spectrum ...), `RunResult`
(what `ionmc.open_run` returns: the tidy table, a summary, the report's figures), the
HTML/Markdown report (`ionmc.analysis.report`), and `linear_noise` (`ionmc.analysis.lna`):
the linear-noise approximation of any scenario's steady state, without a run."""
from ionmc.analysis.tables import Run, autocorrelation, columns_like, cv_over_time, \
    ensemble_stats, first_passage, loglog_slope, noise_sd, open_run, power_spectrum, rate, \
    read_column, stationary_samples
from ionmc.analysis.result import RunResult, open_result
from ionmc.analysis.lna import LNA, LNAError, linear_noise

__all__ = ["LNA", "LNAError", "Run", "RunResult", "autocorrelation", "columns_like",
           "cv_over_time", "ensemble_stats", "first_passage", "linear_noise", "loglog_slope",
           "noise_sd", "open_result", "open_run", "power_spectrum", "rate", "read_column",
           "stationary_samples"]
