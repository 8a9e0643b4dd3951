"""Measuring what voltage-gated channels make: an action potential's threshold, peak,
width, Na+ entry and overlap factor, from a replicate's output columns."""
import numpy as np

from ionmc.constants import E_CHARGE


def spike_metrics(t, v_mV, na_in, C_F, t_from=0.0, dvdt_threshold_V_per_s=10.0):
    """Threshold, peak, width and Na+ entry of the (first) action potential in a trace.

    t (s), v_mV and na_in (cumulative Na+ ions that entered through the Na+ channels) are
    arrays of one replicate starting at rest. Threshold: V where dV/dt first exceeds
    `dvdt_threshold_V_per_s` (10 V/s, a common criterion) at or after `t_from` (pass the
    end of a stimulus, whose own slope would otherwise count); width: full width at half
    the amplitude from rest to peak; Na+ entry: the channels' net entry over the trace; overlap factor: that entry over
    the minimum C (V_peak - V_rest)/e (Attwell & Laughlin 2001; Alle et al. 2009). Returns
    a dict, or None when V never rises above 0 mV."""
    t = np.asarray(t, float)
    v = np.asarray(v_mV, float)
    if v.max() < 0.0:
        return None
    ip = int(np.argmax(v))
    dv = np.gradient(v, t) * 1e-3  # V/s
    k0 = min(int(np.searchsorted(t, t_from)), ip)
    up = np.nonzero(dv[k0:ip + 1] > dvdt_threshold_V_per_s)[0]
    k = k0 + int(up[0]) if len(up) else ip
    v_rest = v[0]
    v_th = v[k]
    half = 0.5 * (v_rest + v[ip])
    above = np.nonzero(v >= half)[0]
    i0 = above[0]
    i1 = above[above >= ip]
    seg = np.split(i1, np.nonzero(np.diff(i1) > 1)[0] + 1)[0]
    i_end = seg[-1]

    def cross(a, b):  # linear interpolation of the half-amplitude crossing between a, b
        return t[a] + (half - v[a]) / (v[b] - v[a]) * (t[b] - t[a]) if v[b] != v[a] else t[a]

    t_up = cross(i0 - 1, i0) if i0 > 0 else t[i0]
    t_down = cross(i_end, i_end + 1) if i_end + 1 < len(t) else t[i_end]
    na = np.asarray(na_in, float)
    entry = float(na[-1] - na[0])
    minimum = C_F * (v[ip] - v_rest) * 1e-3 / E_CHARGE
    return {"rest_mV": float(v_rest), "threshold_mV": float(v_th), "peak_mV": float(v[ip]),
            "t_peak_s": float(t[ip]), "width_ms": float((t_down - t_up) * 1e3),
            "na_entry": entry, "min_charge_ions": float(minimum),
            "overlap_factor": entry / minimum}
