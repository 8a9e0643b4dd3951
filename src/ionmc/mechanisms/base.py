"""The interface every mechanism type implements, and the transition builder it fills.

A mechanism type is one module under `ionmc/mechanisms/` that declares, at module level:

- `TYPE` (the TOML `type`), `PARAMS` (name -> (default, meaning[, physical range:
  ionmc.ranges.Range]); None = required),
  `PARAM_TYPES` (parameters that are not numbers), `FIXED` (parameters an event may not
  change), `KINDS` (names of its transition kinds: its rate laws; registry.py numbers them);
- `check(t, ctx)`: validation of its filled-in TOML table, returning [(key, message)] (empty
  when all is well; `ctx` is a `ScenarioContext`). A key names a parameter of the table
  (`"q10"`, `"D_um2_per_s.K"`), the table itself (`""`), or, with a leading "/", a key of
  the scenario outside it (`"/species.ATP.charge"`). Optionally `resolve(raw)` for presets;
- the kernels' per-kind functions that engine/dispatch.py calls (`propensity`, and where
  it takes part, `v_factor`/`lattice_rate` or `ledger_arg`);
- `MECHANISM`: a subclass of `Mechanism` below, which compiles one [[mechanisms]] table
  into transitions and answers for it afterwards.

The central code (scenario validation, model compilation, the methods) calls only these;
it never asks which type a mechanism is.
"""
from typing import NamedTuple

import numpy as np

from ionmc.numba_conf import leaf


#: ledger codes per transition (Model.tr_ledger): what the ledger multiplies per firing --
#: the midpoint potential, nothing (fixed potentials only), or the type's own argument
#: (engine/dispatch.py's `own_ledger_arg`); LEDGER_DRIVEN: its own argument, and no entropy
#: of its own (a law driven from outside the model, whose pair need not obey detailed
#: balance: user_transporter.py's driven laws)
LEDGER_V, LEDGER_NONE, LEDGER_OWN, LEDGER_DRIVEN = 0, 1, 2, 3


#: a membrane's `outside` that is no compartment but the potential reference (0 V): such a
#: membrane is a compartment's capacitance to ground (an extracellular space with a potential
#: of its own, as NEURON's `extracellular` layer's xc); it carries no mechanisms
GROUND = "ground"


def inside_map(membranes):
    """{compartment: the membrane whose inside it is}, for `enclosing`."""
    return {t["inside"]: m for m, t in membranes.items()}


def enclosing(membranes, comp, inside_of=None):
    """Names of the membranes enclosing compartment `comp`, innermost first: the membrane
    whose inside it is, then the one whose inside that membrane's outside is, and so on
    (scenario validation refuses a compartment inside two membranes, and rings). A
    compartment's potential is the sum of their V (docs/physics.md, "Nested
    compartments"); an empty list: at 0 V. `inside_of` (`inside_map`, made once by a
    caller asking for many compartments: made per call, a tissue's N calls cost N^2)."""
    if inside_of is None:
        inside_of = inside_map(membranes)
    chain = []
    while comp in inside_of and inside_of[comp] not in chain:
        chain.append(inside_of[comp])
        comp = membranes[chain[-1]]["outside"]
    return chain


#: how many membranes' potentials one side of a coupling or an injection sums: the path
#: between its two compartments once their common enclosing membranes cancel (index-row
#: slots per side)
MAX_PATH = 4


def potential_path(membranes, a, b, inside_of=None):
    """(a's, b's): the membranes whose V, summed, give phi_a - phi_b = sum(a's) - sum(b's),
    the potential of compartment `a` over that of `b` (either None: the electrode, at 0 V).
    A compartment's potential is the sum of the V of the membranes enclosing it; those
    enclosing both cancel, so two neighbours inside one membrane, or both inside none, have
    empty paths. `inside_of`: as `enclosing`'s."""
    of_a = enclosing(membranes, a, inside_of) if a is not None else []
    of_b = enclosing(membranes, b, inside_of) if b is not None else []
    while of_a and of_b and of_a[-1] == of_b[-1]:
        of_a.pop()
        of_b.pop()
    return of_a, of_b


def membrane_path(model, a, b):
    """potential_path as the model's membrane indices: (a's, b's, the first membrane a jump
    between them charges, -1 when none: both at the same potential, whatever the charge)."""
    of_a, of_b = (np.array([model.mems.index(m) for m in side], np.int64)
                  for side in potential_path(model.scenario.data["membranes"], a, b,
                                             model.inside_of))
    first = int(of_a[0]) if len(of_a) else int(of_b[0]) if len(of_b) else -1
    return of_a, of_b, first


def path_row(row, first, mem_indices):
    """Write membrane indices into index-row slots first .. first + MAX_PATH - 1 (-1 the
    rest), for `path_sum`."""
    row[first:first + MAX_PATH] = -1
    row[first:first + len(mem_indices)] = mem_indices


@leaf
def path_sum(V, II, j, first):
    """Sum of V over the membranes in transition j's index-row slots first .. first +
    MAX_PATH - 1 (path_row): a compartment's potential relative to the other side's."""
    v = 0.0
    for k in range(first, first + MAX_PATH):
        m = II[j, k]
        if m < 0:
            break
        v += V[m]
    return v


def path_half_dv(dv, II, j, first):
    """Half the change of `path_sum` over a jump that changes each membrane's V by dv."""
    return 0.5 * sum(dv[m] for m in II[j, first:first + MAX_PATH] if m >= 0)


class ScenarioContext(NamedTuple):
    """What a type's `check` may consult: the validated tables so far."""
    scenario: dict        # [scenario], filled in
    species: dict         # name -> {charge, permeant}
    compartments: dict    # name -> filled-in table
    membranes: dict       # name -> filled-in table
    mechanisms: list      # every [[mechanisms]] table, filled in
    pools: dict           # compartment -> name of the first metabolic pool inside it
    inside_of: dict       # compartment -> the membrane whose inside it is (inside_map)

    def enclosing(self, comp):
        """The membranes enclosing `comp`, innermost first (module function `enclosing`)."""
        return enclosing(self.membranes, comp, self.inside_of)

    def path_problem(self, a, b):
        """Why compartments a and b cannot be joined by a coupling or an injection, or ''
        (either None: the electrode): the membranes between their potentials must fit the
        index row (MAX_PATH per side)."""
        for side in potential_path(self.membranes, a, b, self.inside_of):
            if len(side) > MAX_PATH:
                return (f"the potential between {a!r} and {b!r} sums more than {MAX_PATH} "
                        f"membranes ({', '.join(map(repr, side))})")
        return ""

    def fixed_potential(self, comp):
        """Whether `comp` is at a potential no jump changes: inside no membrane, a bath, or
        inside voltage-clamped membranes only (where a clamped species may sit: the
        ledger books a reservoir's ions at a fixed potential, or at the midpoint potential
        of the one membrane a transition charges). The ledger reads the innermost clamp
        only (ledger.py), which suffices because scenario validation refuses clamped
        species in a nested compartment."""
        if self.compartments[comp]["bath"]:
            return True
        return all(self.membranes[m]["clamp_mV"] is not None for m in self.enclosing(comp))


class Transitions:
    """The transitions of a model as its mechanisms add them (Model.compile), in order.

    Each transition has a kind (registry.kind), a source index (the count its propensity
    is proportional to; its dependency on itself), a membrane (whose potential it reads
    and charges; -1 none), a sparse stoichiometry {state index: change}, a float parameter
    row (filled by `Mechanism.update_parameters`), an index row (its mechanism's layout)
    and a ledger code (engine/dispatch.py). Reversible steps are pairs built adjacent
    (2k, 2k + 1), which is how the kernels find a transition's reverse."""

    def __init__(self, n_par, n_ii):
        self.n_par, self.n_ii = n_par, n_ii
        self.kind, self.src, self.mem, self.stoich, self.ii, self.ledger = [], [], [], [], [], []

    def __len__(self):
        return len(self.kind)

    def index_row(self):
        """A fresh index row (-1: unused)."""
        return np.full(self.n_ii, -1, np.int64)

    def pair(self, kinds, src, mem, stoich, ii=None, ledger=LEDGER_V):
        """Add a forward/backward pair: `kinds`, `src` and `mem` per direction (or one `mem`
        for both), the forward stoichiometry (the backward one is its negative), index rows
        per direction (or one for both). Returns the forward transition's index."""
        j = len(self.kind)
        mems = mem if isinstance(mem, (tuple, list)) else (mem, mem)
        iis = ii if isinstance(ii, (tuple, list)) else (ii, ii)
        for d in range(2):
            self.kind.append(int(kinds[d]))
            self.src.append(int(src[d]))
            self.mem.append(int(mems[d]))
            self.stoich.append(dict(stoich) if d == 0 else {k: -v for k, v in stoich.items()})
            row = self.index_row() if iis[d] is None else np.array(iis[d], np.int64).copy()
            self.ii.append(row)
            self.ledger.append(ledger)
        return j


class Mechanism:
    """One mechanism of a scenario: its spec, and after compilation its transitions and
    what the output needs to know of them. Subclasses implement `build` and
    `update_parameters`; the rest has defaults that fit a simple transport pair."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.type = spec["type"]
        self.transitions = []   # global transition indices
        self.ref = (None, None)  # (forward, backward) reference transition (or lists)
        self.efflux = {}        # species -> {transition: ions moved inside -> outside}
        self.states = []        # agent state indices (pumps, channels), contiguous
        self.agent_slots = None  # agents = "individual": (agent, state) -> index (agents.py)
        self.blocks = []        # first transition of each block (one per agent, or one)
        self.agent_moves = []   # individual agents: (transition, agent, from, to) states
        self.state_names = None  # labels of the states in output columns (default P1, P2..)
        # transitions driven by a reservoir outside the ion ledger (channel gating) and
        # whether the states' free energy enters G (pumps yes, channels no: channels.py)
        self.reservoir = []
        self.states_in_ledger = True
        self.blocked = None
        self.open_state = None  # channels: index of the conducting state in self.states
        self.n_agents = 0
        self.pool_compartment = None  # metabolism: the compartment holding the pool
        self.first_slot = None  # first state index of its own slots (n_slots > 0)

    #: it holds a metabolic pool: ATP, ADP, Pi, O2 (and PCr, Cr) in its compartment
    IS_POOL = False
    #: it draws on a pool in its cell when there is one (its parameters follow the pool's)
    USES_POOL = False
    #: its rate rows hold compartment volumes (re-derived when water moves: volume.py)
    RATES_USE_VOLUME = True
    #: tau-leap: its agent states, solved implicitly, are not held to the leap's bound on
    #: the relative change of a count (engine/tauleap.py)
    LEAP_STATES_FREE = False

    def kind(self, name):
        """The kind number of one of its type's KINDS."""
        from ionmc.mechanisms.registry import kind

        return kind(self.type, name)

    def state_label(self, k):
        return self.state_names[k] if self.state_names else f"P{k + 1}"

    # -- compilation -------------------------------------------------------------------
    def n_slots(self, model):
        """State slots of its own after the ion counts (agent states); sets n_agents."""
        return 0

    def build(self, model, tr):
        """Add its transitions to `tr` (Transitions) and set its output bookkeeping."""
        raise NotImplementedError

    def check_model(self, model):
        """Problems that only the compiled model shows (every mechanism's transitions
        built): [(key, message)], reported as `mechanisms.<name>.<key>` (exit 2)."""
        return []

    def reads(self, model, j):
        """What transition j's propensity reads, as keys ("x", state index) and ("V",
        membrane): the dependency graph's input. Default: its source count and its
        membrane's potential."""
        return {("x", int(model.tr_src[j])), ("V", int(model.tr_mem[j]))}

    def half_dv(self, model, j, dv):
        """Half the potential change of transition j's jump that its rate reads (dv: the
        change per membrane): its own membrane's (0 on none). A coupling, between two
        membranes, reads the difference source - destination."""
        m = model.tr_mem[j]
        return 0.5 * dv[m] if m >= 0 else 0.0

    def steady_current(self, model, x, V):
        """Outward current (A) this mechanism carries across its membrane once its own
        states have settled at potential V (volts), the counts x otherwise held: for the
        slope conductance `ionmc energetics` adds to the leaks'. None: not known (the
        default; leaks are counted apart)."""
        return None

    def state_charges(self, model):
        """[(state index, membrane index, charge in e)]: charge its states hold on the
        inside of a membrane's field (a pump's bound ions, until the step that moves them
        across), which the membrane's potential counts. Default: none."""
        return []

    def bound_ions(self, model):
        """[(state index, species, ions per unit count)]: ions its states hold, which
        conservation counts with the compartments' (a pump's bound Na+ and K+). Default:
        none -- ions never sit inside a transporter or channel."""
        return []

    def update_parameters(self, model):
        """(Re)compute the rate parameter rows of its transitions from its spec."""

    def initial_state(self, model, x):
        """Place its agents in x before the potentials are known (pumps)."""

    def initial_gating(self, model, x, V):
        """Place its agents in x at the potentials V of the start state (channels)."""

    def set_parameter(self, model, key, value, x, rng, continuous):
        """An event sets `key` to `value`: the spec, then the rates; a type whose state
        follows a parameter (ouabain binding pumps) moves x too."""
        self.spec[key] = float(value)
        model.update_parameters(self)

    # -- the ledger (thermo/ledger.py) -------------------------------------------------
    #: the ledger column (thermo/ledger.py's EXTRA_WORK_COLUMNS) that sums k_B T times its
    #: transitions' own ledger arguments: the work of something outside G on the system
    #: (a stimulator's, thermo.stimulus_work_J; a chemical reservoir's,
    #: thermo.chemical_work_J); None: its ledger arguments are potentials or ATP
    WORK_COLUMN = None

    def outside_G(self, model):
        """State indices of species it keeps outside the free energy G (reservoirs: a
        metabolic pool's species; those an irreversible reaction touches)."""
        return []

    def outside_ion_ledger(self):
        """Transitions whose free energy is not the ions' (a pool's own chemistry, channel
        gating driven by a reservoir outside the ledger)."""
        return self.reservoir

    def reference_counts(self, model, x, lam):
        """Set the reference counts lam of species it binds (a buffer's sites), from which
        G is measured; the ions' own references are set before."""

    def state_energies(self, ledger, g, g_chem):
        """Fill free energies (J) of its agent states into g and standard chemical
        potentials (J) of species it makes into g_chem."""

    def ledger_update(self, ledger, x):
        """Constants of its own that the ledger's references fix (an injection's), after
        the ledger's coefficients are (re)computed."""

    def atp_work(self, model):
        """[(transition, fixed J per firing, coefficient of the firing's ledger argument)]:
        the ATP work of its ATP-driven steps (fixed dG_ATP, or the pool's at each firing)."""
        return []

    # -- runs and output (runs/replicate.py, runs/output.py) --------------------------
    #: its firings move charge across a membrane (a `current_pA` column)
    CARRIES_CURRENT = True
    #: the report's turnover panel it is drawn in: "cycles" (pumps), "firings", or None
    #: (a figure of its own: the metabolic pool)
    TURNOVER_PANEL = "firings"

    def jump_times(self, model, events, duration, rng):
        """Times (s) at which it changes the state in one step outside the methods (a
        spike train's spikes), drawn for the whole run."""
        return []

    def jump(self, model, x, rng, integer, free_energy):
        """Apply its jump at one of its `jump_times` to x (`free_energy(x)`: G in J)."""

    def jump_entropy(self):
        """Entropy (J/K) its jumps have produced so far."""
        return 0.0

    def firing_columns(self, firings, integer):
        """Its columns from the cumulative firings (rows x transitions): the reference
        step's forward and backward firings."""
        f, b = self.ref  # a list: the sum of several transitions (oxphos couplings)
        return {"forward": firings[:, f].sum(axis=1) if isinstance(f, list) else firings[:, f],
                "backward": firings[:, b].sum(axis=1) if isinstance(b, list) else firings[:, b]}

    # -- `ionmc energetics` (thermo/energetics.py) ---------------------------------------
    # Each returns what the mechanism adds to its membrane's budget at state x (concs(c, s):
    # concentration in mM of species s in compartment c), or nothing.
    def passive_current(self, model, V, concs):
        """{species: outward current (A)} it carries at potential V in the steady state of
        its gating (leaks, channels, Kir): the membrane's conductance."""
        return {}

    def mean_na_load(self, model):
        """Mean Na+ entry (ions/s) it causes outside its transitions (spike trains)."""
        return 0.0

    def transport(self, model, x, V, a, concs, pool_dG_kJ):
        """A transporter's budget: {"na_in_per_s", "dG_kJ_per_mol", "atp_per_s"} (each
        optional) from the propensities a at x; pool_dG_kJ: dG_ATP of the cell's pool."""
        return None

    def pool_budget(self, model, concs):
        """A metabolic pool's: {"atp_per_o2", "basal_atp_per_s", "dG_ATP_kJ_per_mol"}."""
        return None

    def pump_cycles(self, model, x):
        """Pump cycles per second its population runs at state x (King-Altman)."""
        return None

    def current_schedule(self, model, comp):
        """[(time, current into compartment comp (A))] it sets at t = 0 and at its events
        (injections)."""
        return None

    def summary(self, model, concs):
        """A table of its own state (a buffer's free and bound sites), or None."""
        return None

    def state_columns(self, model, X, firings, inv_nvol):
        """{column name: values} it adds from the rows of counts X and cumulative firings
        firings (floats; inv_nvol per row and state index)."""
        return {}

    def membrane_sides(self, model):
        """(membrane index, inside compartment, outside compartment) of its membrane."""
        mspec = model.scenario.data["membranes"][self.spec["membrane"]]
        return model.mems.index(self.spec["membrane"]), mspec["inside"], mspec["outside"]
