"""The report's plots thin long runs by min/max decimation (analysis/figures.py `thin`):
a spike narrower than a bucket keeps its peak, and short series are drawn whole."""
import numpy as np

from ionmc.analysis.figures import MAX_POINTS, thin


def test_a_narrow_spike_keeps_its_peak_and_trough():
    t = np.arange(60001) * 5e-4
    v = np.full(t.size, -67.0)
    v[20035:20040] = [10.0, 15.0, -20.0, -75.0, -70.0]  # 2.5 ms: less than a bucket
    keep = thin(v)
    assert len(keep) <= 2 * MAX_POINTS + 2 * (t.size // MAX_POINTS)
    assert v[keep].max() == 15.0 and v[keep].min() == -75.0
    assert keep[0] == 0 and keep[-1] == t.size - 1 and np.all(np.diff(keep) > 0)
    # a stride of the same length misses it
    assert v[::t.size // MAX_POINTS].max() == -67.0


def test_short_series_and_nans():
    assert np.array_equal(thin(np.arange(100.0)), np.arange(100))
    v = np.sin(np.arange(10000) / 50.0)
    v[500:700] = np.nan
    keep = thin(v)
    assert np.nanmax(v[keep]) == np.nanmax(v) and np.nanmin(v[keep]) == np.nanmin(v)
