"""Reading a run's output for notebooks and reports (`ionmc.analysis.open_run` ...), and
the HTML/Markdown report (`ionmc.analysis.report`)."""
from ionmc.analysis.tables import Run, autocorrelation, columns_like, cv_over_time, \
    ensemble_stats, first_passage, loglog_slope, noise_sd, open_run, power_spectrum, rate, \
    read_column, stationary_samples

__all__ = ["Run", "autocorrelation", "columns_like", "cv_over_time", "ensemble_stats",
           "first_passage", "loglog_slope", "noise_sd", "open_run", "power_spectrum", "rate",
           "read_column", "stationary_samples"]
