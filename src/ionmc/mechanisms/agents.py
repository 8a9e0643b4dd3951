"""Agent mechanisms simulated one agent at a time (`agents = "individual"`).

An agent mechanism is a population of identical molecules (pumps, voltage-gated channels)
with a set of states and transitions between them. By default
(`agents = "counts"`) the state vector holds the number of agents in each state and a
transition's propensity is that count times the per-agent rate: exact in distribution for
identical agents, and what the noise studies need. With `agents = "individual"` each of the
N agents gets state slots of its own (0 or 1) and a block of transitions of its own -- the
mechanism's usual rate law and kernels, on a block with n_agents = 1 -- so the SSA draws
which agent moves, not which state loses one: a different simulation of the same Markov
process, from which single-molecule statistics (per-agent turnover, dwell times, cycle
completion times) can be read. Each agent's jump also moves the mechanism's counts per state,
so every output column (state counts, turnover, entropy, the ledger) is the same sum as in
the counts mode.

Layout (model.py): the counts per state (and the blocked count) come first as in the counts
mode; the agents' slots follow, agent k's state i at `agent_slots[k, i]`; a blocked agent
(ouabain) has all its slots at 0. A channel's gating blocks are its only per-agent
transitions: its conduction pair stays one pair on the counts (it reads the open-state
count, which every agent's opening and closing moves), so currents and effluxes are
computed exactly as in the counts mode.

Cost: every agent's transitions read the membrane potential, so an event that moves charge
recomputes the propensities of all 2 x steps x N agent transitions. Every pump step moves
charge or reads V, so the pumps' dependency graph holds (2 x steps x N)^2 entries: O(N) per
event and O(N^2) memory. Channel gating moves no charge, so only the conduction pair depends
on all 2 x edges x N gating transitions (O(N) memory; O(1) per gating event, O(N) per
conduction event on a free membrane, O(1) under clamp). The same MAX_AGENTS holds for both:
the per-event cost of conduction on a free membrane (5120 propensities for 256 m^3h
channels) is the pumps' (2048 transitions' and the potential), and a single-channel record
needs a few channels, not thousands.

Per-agent output (replicate.py): a pump's firings of its Na+ step; a channel's openings
and open time, from the firing log (dwell.py), which is why individual channels, like dwell
times, are not run with random_streams = 'per_transition'.

Thermodynamics: agents are now distinguishable, so their free energy is sum_k g_{s(k)}
without the k_B T ln(m_i!) of the counts (ledger.py), and each firing's entropy production
ln(a_f/a_b) carries no count factor; the ledger balances exactly as in the counts mode.

Only the exact method simulates individual agents: a tau-leap or an ODE of 0/1 slots is
the counts mode with more arithmetic, so scenario validation rejects them (InputError).
"""
import numpy as np

from ionmc.errors import InputError

MODES = ("counts", "individual")
#: agents per mechanism in the individual mode; 256 pumps = 2048 transitions, a 33 MB
#: dependency graph and ~2000 propensities per event on an unclamped membrane
MAX_AGENTS = 256
PARAMS = {
    "agents": ("counts", "'counts' (per state, the default) or 'individual' (one agent at "
               "a time, ssa only)"),
    "record_dwell_times": (False, "individual agents: write every dwell (agent, state, "
                           "entered_s, left_s) to OUTDIR/dwell_times/"),
}
PARAM_TYPES = {"agents": str, "record_dwell_times": bool}
#: output directories beside OUTDIR/timeseries, one part file per replicate (and per point)
SIDE_DIRS = ("agents", "dwell_times")


def population(spec, mspec):
    """Number of agents of a mechanism: `count`, or `density_per_um2` x the membrane area."""
    if "count" in spec:
        return int(spec["count"])
    return int(round(spec["density_per_um2"] * mspec["area_um2"]))


def individual(spec):
    return spec.get("agents", "counts") == "individual"


def n_slots(spec, n, n_states):
    """State slots the individual agents add to the state vector."""
    return n * n_states if individual(spec) else 0


def blocks(mech, n_states, first):
    """[(agent, state slots)] of each block of transitions to build: one block on the counts
    per state (agent -1), or one per agent on its own slots from index `first` on (and then
    `mech.agent_slots` is set)."""
    if not individual(mech.spec):
        return [(-1, mech.states)]
    n = mech.n_agents
    mech.agent_slots = first + np.arange(n * n_states, dtype=np.int64).reshape(n, n_states)
    return [(k, list(mech.agent_slots[k])) for k in range(n)]


def step(mech, tr, agent, own, i, k):
    """The forward stoichiometry of a jump from state i to state k in a block on slots
    `own` (`blocks`); an agent's jump moves the counts per state too, and is recorded in
    `mech.agent_moves` (with its reverse, which `tr.pair` adds next)."""
    fw = {own[i]: -1, own[k]: +1}
    if own is not mech.states:
        fw.update({mech.states[i]: -1, mech.states[k]: +1})
        mech.agent_moves += [(len(tr), agent, i, k), (len(tr) + 1, agent, k, i)]
    return fw


def check(src, pre, t, mspec, sc, from_log=False):
    """Validate an agent mechanism's `agents` and `record_dwell_times` (scenario validation).
    `from_log`: its individual agents' records come from the SSA's firing log (channels'
    openings and open times: its module declares AGENTS_FROM_LOG)."""
    mode = t.get("agents", "counts")
    if mode not in MODES:
        raise InputError(src, f"{pre}.agents", f"unknown value {mode!r} (known: "
                         f"{', '.join(MODES)})")
    if t.get("record_dwell_times") and mode != "individual":
        raise InputError(src, f"{pre}.record_dwell_times", "needs agents = 'individual' "
                         "(counts per state do not know which agent moved)")
    if mode != "individual":
        return
    n = population(t, mspec)
    if not 1 <= n <= MAX_AGENTS:
        raise InputError(src, f"{pre}.agents", f"'individual' needs 1 to {MAX_AGENTS} agents "
                         f"(this membrane has {n}): every agent reads the membrane "
                         "potential, so the cost per event grows with N; use 'counts' "
                         "for larger populations")
    if sc["method"] != "ssa":
        raise InputError(src, f"{pre}.agents", "'individual' agents need method 'ssa' "
                         f"(not {sc['method']!r}): a tau-leap or ODE of one-agent slots is "
                         "the counts mode")
    if t.get("record_dwell_times") and sc.get("random_streams") == "per_transition":
        raise InputError(src, f"{pre}.record_dwell_times", "not recorded with "
                         "random_streams = 'per_transition'")
    if from_log and sc.get("random_streams") == "per_transition":
        raise InputError(src, f"{pre}.agents", "individual channels' openings and open "
                         "times come from the firing log, which random_streams = "
                         "'per_transition' does not keep")


def largest_remainder(total, probs, who="a population"):
    """Integer counts summing to `total` closest to total * probs (Hamilton's method): how
    a population is dealt over its states. Probabilities that are not finite (rates that
    overflowed at an extreme potential) raise rather than become counts."""
    probs = np.asarray(probs, float)
    if not (np.all(np.isfinite(probs)) and np.all(probs >= 0)):
        from ionmc.engine.checks import SimulationError

        raise SimulationError(f"{who}: its states' probabilities are not finite "
                              f"({', '.join(f'{p:g}' for p in probs)}); check its parameters "
                              "and the membrane's potential")
    raw = probs * total
    out = np.floor(raw).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        out[np.argsort(-(raw - out))[:short]] += 1
    return out


def assign(mech, x):
    """Give the agents states matching the counts per state in x (agent 0 upwards in state
    order; the blocked ones last, with no slot set)."""
    if mech.agent_slots is None:
        return
    counts = np.asarray(x[mech.states], np.int64)
    x[mech.agent_slots.ravel()] = 0
    state = np.repeat(np.arange(len(mech.states)), counts)
    x[mech.agent_slots[np.arange(len(state)), state]] = 1


def states_of(mech, x):
    """Each agent's state index, or -1 when blocked."""
    s = np.asarray(x[mech.agent_slots])
    return np.where(s.any(axis=1), s.argmax(axis=1), -1)


def reblock(mech, x, rng, delta, probs):
    """Ouabain binding (delta > 0 agents) or unbinding (delta < 0) for individual agents:
    binding picks agents uniformly among the active ones, wherever they are in the cycle
    (the hypergeometric draw of the counts mode), unbinding puts each released agent in a
    state drawn from the cycle's steady state (the multinomial of the counts mode)."""
    st = states_of(mech, x)
    if delta > 0:
        for k in rng.choice(np.nonzero(st >= 0)[0], delta, replace=False):
            x[mech.agent_slots[k, st[k]]] = 0
            x[mech.states[st[k]]] -= 1
    elif delta < 0:
        for k in rng.choice(np.nonzero(st < 0)[0], -delta, replace=False):
            s = rng.choice(len(probs), p=probs)
            x[mech.agent_slots[k, s]] = 1
            x[mech.states[s]] += 1


def turnover(mech, firings):
    """Per agent: (forward, backward) firings of its reference step (the Na+ step)."""
    f, b = mech.ref
    return np.asarray(firings)[f], np.asarray(firings)[b]


def side_file(ts_file, kind):
    """The part file of output `kind` (SIDE_DIRS) that goes with a timeseries part file:
    OUTDIR/timeseries[/point=NNNN]/NAME -> OUTDIR/kind[/point=NNNN]/NAME."""
    parts = list(ts_file.parts)
    i = len(parts) - 1 - parts[::-1].index("timeseries")
    parts[i] = kind
    return type(ts_file)(*parts)
