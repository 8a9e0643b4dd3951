"""The kernels' arguments: the compiled model's arrays and a method object's scratch
arrays, as one named structure (a NamedTuple of arrays, which Numba passes as a tuple and
reads by field name at no cost)."""
from typing import NamedTuple

import numpy as np


class KernelArgs(NamedTuple):
    """What every kernel reads. Per transition j: `kind` (rate law, mechanisms/registry.py),
    `src` (the count its propensity is proportional to), `mem` (the membrane whose potential
    it reads), `q` (charge, in e, it adds to that membrane's inside), `p`/`ii` (its float
    and index parameters, laid out by its mechanism module), `half_dv` (half the potential
    change of its jump: the midpoint rule), `rev` (its reverse transition), `ledger` (what
    the ledger multiplies per firing: engine/dispatch.py's LEDGER_* codes) and `first_order` (its propensity is a rate per ion at the
    source, so tau-leap may draw a leap's firings as a binomial of the ions there); its stoichiometry in CSR form (`st_ptr`, `st_idx`,
    `st_del`, clamped indices left out) and its dependents (`dep_ptr`, `dep_idx`: whose
    propensity may change when it fires). Per state index: `inv_nvol` (1 / ions per mM);
    per membrane the charge its inside holds as CSR rows over state indices (`qx_ptr`,
    `qx_idx`, `qx_w`: the inside's ions and ions a mechanism holds on the inside of the
    field), `mem_C` (F), `mem_clamped`, `mem_vclamp` (V). Scratch of one method object: the SSA's
    charge-lattice tables (`lat_row`, `lat_tab`, `lat_qlo`, `lat_qc`: engine/lattice.py),
    `sprod`, the pending entropy products of `ssa.fire`, and `fail`: NaN, or the time at
    which a kernel found the propensities' sum not finite (it then stops advancing, and
    the method object raises engine/checks.py's SimulationError)."""
    kind: np.ndarray
    src: np.ndarray
    mem: np.ndarray
    q: np.ndarray
    p: np.ndarray
    ii: np.ndarray
    st_ptr: np.ndarray
    st_idx: np.ndarray
    st_del: np.ndarray
    dep_ptr: np.ndarray
    dep_idx: np.ndarray
    inv_nvol: np.ndarray
    qx_ptr: np.ndarray
    qx_idx: np.ndarray
    qx_w: np.ndarray
    mem_C: np.ndarray
    mem_clamped: np.ndarray
    mem_vclamp: np.ndarray
    half_dv: np.ndarray
    rev: np.ndarray
    ledger: np.ndarray
    first_order: np.ndarray
    lat_row: np.ndarray
    lat_tab: np.ndarray
    lat_qlo: np.ndarray
    lat_qc: np.ndarray
    sprod: np.ndarray
    fail: np.ndarray
