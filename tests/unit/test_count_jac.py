"""meanfield.count_jac against differences of count_rhs itself, where its columns are
differenced near 0: a channel's nearly empty gating states (a fast gate's closed states at
rest hold 1e-6..1e-2 channels, below count_jac's step of 0.01)."""
import numpy as np
import pytest

from ionmc.engine.meanfield import count_jac, count_rhs, jac_structure
from ionmc.model import Model
from ionmc.scenario import load_scenario


def _channel_states(model):
    return [mech.first_slot + k for mech in model.mechs if mech.first_slot is not None
            for k in range(mech.n_slots(model))]


@pytest.mark.parametrize("count", [0.0, 1e-6, 1e-4, 0.005, 0.02, 3.0])
def test_columns_of_nearly_empty_channel_states(count):
    """Gating and conduction rates are linear in a state's count, so a column is the
    forward difference of count_rhs to rounding. Divided by 2 h with its lower point
    clipped at 0, a count below h = 0.01 got half its outflow (2x off at 1e-4), and the
    ode's Newton iteration stalled on a myocyte's resting Na+ channels (860 steps and 425
    Jacobians for 0.5 s at rest, 36 and none after)."""
    model = Model(load_scenario("squid_axon", [("scenario.method", "ode")]))
    JS = jac_structure(model)
    x = np.asarray(model.x0, float).copy()
    states = _channel_states(model)
    assert len(states) >= 8
    x[states] = np.maximum(x[states], 10.0)  # neighbours away from 0
    for i in states:
        y = x.copy()
        y[i] = count
        J = count_jac(y, JS, model.kernel_args())
        f0 = count_rhs(y, JS, model.kernel_args())
        d = 1e-3
        y[i] += d
        col = (count_rhs(y, JS, model.kernel_args()) - f0) / d
        assert np.any(col != 0.0)
        tol = 1e-6 * np.max(np.abs(col)) + 1e-9
        assert np.all(np.abs(J[:, i] - col) <= tol), (i, J[:, i][col != 0], col[col != 0])
