"""The dispatch table: the one place where the kernels meet every mechanism type.

A transition's kind (mechanisms/registry.py numbers them) selects its type's rate law;
the type's module receives its own kind offset k = kind - KIND0 (the position in its
KINDS), so no module knows another's numbers. Every per-kind function has one signature
per role, so a new type adds one line to each table it takes part in:

- `propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol)`: every type with transitions;
- `v_factor(j, k, v, P, II)` and `lattice_rate(j, k, x, n, f, P, II, inv_nvol)`: types whose
  propensity reads V through one factor that the SSA tabulates on the charge lattice
  (`LATTICE = True`: leaks, pumps; engine/lattice.py);
- `ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol)`: types whose transitions book
  their own ledger argument (ledger code LEDGER_OWN, mechanisms/base.py: a pump or
  transporter's ATP on a pool, an injection's dG).

The types are reached through the registry module (`reg.<type>`), which Numba resolves
at compile time: a registered type needs no import here.
"""
from ionmc.mechanisms import registry as reg
from ionmc.numba_conf import inlined, leaf

# The hot types' rates merged into the table's own IR (numba_conf.inlined): as separate
# calls they cost the SSA 26% of its events/s on spine_noise (4.4e6 against 5.9e6, every
# event refreshes leaks and pumps through `lattice_rate`), and ode/tau-leap ~20% through
# `propensity` (benchmarks/bench_engine.py, old vs new tree). Only thin functions are
# inlined: inlining a pump's whole rate law doubled the SSA's compile time before.
_leak_propensity, _pump_propensity = (inlined(reg.leak.propensity),
                                      inlined(reg.pump.propensity))
_leak_lattice_rate, _pump_lattice_rate = (inlined(reg.leak.lattice_rate),
                                          inlined(reg.pump.lattice_rate))
_nka_propensity, _nka_lattice_rate = (inlined(reg.nka.propensity),
                                      inlined(reg.nka.lattice_rate))


@leaf
def propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol):
    """Propensity (1/s) of transition j in state x with membrane potentials V."""
    k = kind[j]
    if reg.leak.KIND0 <= k < reg.leak.KIND1:
        return _leak_propensity(j, k - reg.leak.KIND0, x, V, src, mem, half_dv, P, II, inv_nvol)
    if reg.pump.KIND0 <= k < reg.pump.KIND1:
        return _pump_propensity(j, k - reg.pump.KIND0, x, V, src, mem, half_dv, P, II, inv_nvol)
    if reg.metabolism.KIND0 <= k < reg.metabolism.KIND1:
        return reg.metabolism.propensity(j, k - reg.metabolism.KIND0, x, V, src, mem, half_dv, P,
                                         II,
                                         inv_nvol)
    if reg.cotransporter.KIND0 <= k < reg.cotransporter.KIND1:
        return reg.cotransporter.propensity(j, k - reg.cotransporter.KIND0, x, V, src, mem, half_dv,
                                            P, II, inv_nvol)
    if reg.buffer.KIND0 <= k < reg.buffer.KIND1:
        return reg.buffer.propensity(j, k - reg.buffer.KIND0, x, V, src, mem, half_dv, P, II,
                                     inv_nvol)
    if reg.coupling.KIND0 <= k < reg.coupling.KIND1:
        return reg.coupling.propensity(j, k - reg.coupling.KIND0, x, V, src, mem, half_dv, P, II,
                                       inv_nvol)
    if reg.kir.KIND0 <= k < reg.kir.KIND1:
        return reg.kir.propensity(j, k - reg.kir.KIND0, x, V, src, mem, half_dv, P, II, inv_nvol)
    if reg.channels.KIND0 <= k < reg.channels.KIND1:
        return reg.channels.propensity(j, k - reg.channels.KIND0, x, V, src, mem, half_dv, P, II,
                                       inv_nvol)
    if reg.injection.KIND0 <= k < reg.injection.KIND1:
        return reg.injection.propensity(j, k - reg.injection.KIND0, x, V, src, mem, half_dv, P, II,
                                        inv_nvol)
    if reg.reaction.KIND0 <= k < reg.reaction.KIND1:
        return reg.reaction.propensity(j, k - reg.reaction.KIND0, x, V, src, mem, half_dv, P, II,
                                       inv_nvol)
    if reg.nka.KIND0 <= k < reg.nka.KIND1:
        return _nka_propensity(j, k - reg.nka.KIND0, x, V, src, mem, half_dv, P, II, inv_nvol)
    if reg.user_channel.KIND0 <= k < reg.user_channel.KIND1:
        return reg.user_channel.propensity(j, k - reg.user_channel.KIND0, x, V, src, mem,
                                           half_dv, P, II, inv_nvol)
    if reg.user_transporter.KIND0 <= k < reg.user_transporter.KIND1:
        return reg.user_transporter.propensity(j, k - reg.user_transporter.KIND0, x, V, src,
                                               mem, half_dv, P, II, inv_nvol)
    return 0.0


@leaf
def v_factor(j, kind, v, P, II):
    """The tabulated V factor of transition j at midpoint potential v (LATTICE types)."""
    k = kind[j]
    if reg.leak.KIND0 <= k < reg.leak.KIND1:
        return reg.leak.v_factor(j, k - reg.leak.KIND0, v, P, II)
    if reg.pump.KIND0 <= k < reg.pump.KIND1:
        return reg.pump.step_v_factor(j, k - reg.pump.KIND0, v, P, II)
    if reg.nka.KIND0 <= k < reg.nka.KIND1:
        return reg.nka.step_v_factor(j, k - reg.nka.KIND0, v, P, II)
    return 1.0


@leaf
def lattice_rate(j, kind, x, n, f, P, II, inv_nvol):
    """Propensity of transition j (n > 0 at its source) from its tabulated factor f."""
    k = kind[j]
    if reg.leak.KIND0 <= k < reg.leak.KIND1:
        return _leak_lattice_rate(j, k - reg.leak.KIND0, x, n, f, P, II, inv_nvol)
    if reg.pump.KIND0 <= k < reg.pump.KIND1:
        return _pump_lattice_rate(j, k - reg.pump.KIND0, x, n, f, P, II, inv_nvol)
    if reg.nka.KIND0 <= k < reg.nka.KIND1:
        return _nka_lattice_rate(j, k - reg.nka.KIND0, x, n, f, P, II, inv_nvol)
    return 0.0


@leaf
def own_ledger_arg(j, x, V, kind, mem, half_dv, P, II, inv_nvol):
    """The ledger argument a type books itself (LEDGER_OWN; see ledger_arg in kernels.py)."""
    k = kind[j]
    if reg.pump.KIND0 <= k < reg.pump.KIND1:
        return reg.pump.ledger_arg(j, k - reg.pump.KIND0, x, V, mem, half_dv, P, II, inv_nvol)
    if reg.cotransporter.KIND0 <= k < reg.cotransporter.KIND1:
        return reg.cotransporter.ledger_arg(j, k - reg.cotransporter.KIND0, x, V, mem, half_dv, P,
                                            II, inv_nvol)
    if reg.injection.KIND0 <= k < reg.injection.KIND1:
        return reg.injection.ledger_arg(j, k - reg.injection.KIND0, x, V, mem, half_dv, P, II,
                                        inv_nvol)
    if reg.reaction.KIND0 <= k < reg.reaction.KIND1:
        return reg.reaction.ledger_arg(j, k - reg.reaction.KIND0, x, V, mem, half_dv, P, II,
                                       inv_nvol)
    if reg.nka.KIND0 <= k < reg.nka.KIND1:
        return reg.nka.ledger_arg(j, k - reg.nka.KIND0, x, V, mem, half_dv, P, II, inv_nvol)
    if reg.user_transporter.KIND0 <= k < reg.user_transporter.KIND1:
        return reg.user_transporter.ledger_arg(j, k - reg.user_transporter.KIND0, x, V, mem,
                                               half_dv, P, II, inv_nvol)
    return 0.0
