"""Osmotic water flow between compartments (docs/mechanisms/volume.md).

A membrane with `water_permeability_um_per_s` = P_f > 0 (the osmotic water permeability
coefficient, the quantity water-transport measurements report) moves water into its inside
at the van 't Hoff rate

    J_v = P_f * A * v_w * (osm_in - osm_out)          (um^3/s)

(equivalently J_v = L_p A R T (osm_in - osm_out) with L_p = P_f v_w / (R T);
e.g. Finkelstein 1987, "Water movement through lipid bilayers, pores and plasma
membranes"), v_w the molar volume of water. Every species counts in the osmolarity
osm_c = sum_s n_cs / (N_A vol_c): ions, impermeant anions, cargo and the metabolic pool's
species (ideal, dilute, reflection coefficient 1). A bath keeps its volume (and so its
clamped osmolarity); the water it gives or takes is counted in `{bath}.water_gained_um3`,
so that the sum of the non-bath volumes plus what the baths gained is constant (total
water is conserved). Membrane area and capacitance stay fixed: a swelling cell unfolds
membrane reserves rather than stretching the bilayer (which tolerates ~3% areal strain),
and V stays e*q/C (docs/physics.md, "The physical model").

What follows the volume. Concentrations (`Model.inv_nvol`) and every rate parameter that
`Model.update_parameters` derives from the scenario's volumes (a leak's P*A/vol, the pool's
O2 exchange and its capacities in molecules per mM) are recomputed whenever the volumes
move (`Water.apply`). The ledger's reference counts lam = c_ref N_A vol follow the volume,
so G_ion changes when water moves at fixed counts; that change is booked as its own term,
`thermo.water_work_J` = sum over volume moves of (dG/dvol)|_counts dvol (ledger.py). For
large counts dG/dvol_c = -k_B T N_A sum_s (c_s - c_ref,s) over the ledger's species: water
flowing down its osmotic gradient lowers G (the dissipation -T S_water of the flow), and the
term also carries the shift of the references when water moves between compartments whose
impermeant references differ. With it G(t) - G(0) = W_ATP + W_clamp + W_bath + W_event +
W_water - T S_prod.

A membrane may instead carry a water law of its own, `water_flux_um3_per_s`: an expression
for J_v (um^3/s into the inside) reading what a membrane's rate laws read (V in mV, T,
concentrations by name, its `water_parameters`; expressions/membrane.py), e.g. a model
whose osmotic pressure counts some solutes only (edNEGmodel's psi). The volumes follow it
and the ledger books it as any flow: W_water is the exact change of G as the volumes move,
so the balance closes whatever the law; the flow's own dissipation (reported beside the
balance) is J_v's product with ionmc's osmotic difference, negative where the law moves
water up that difference (work from outside).

How the methods move water:
- `ode` (`water_split = false`, the default): the volumes are extra ODE variables beside
  the counts (`ODEWater`), W_water an accumulated integral; exact to the solver's tolerance.
  Its right-hand side is Python and re-derives every volume-dependent rate parameter at
  each call: right for small models, slow for many mechanisms (edNEGmodel's cell, 40 of
  them, had not run 21 s in 10 min).
- `ssa` and `tau-leap` (any method with an integer state), and `ode` with
  `water_split = true`: Strang splitting (`Split`). Ions move at fixed volumes (discrete,
  or on the compiled stiff solver), volumes are continuous: water steps of h (a fraction
  `step_fraction` of the flow's time constant tau_w, re-taken at each step) on a grid of
  their own each open with a water half step at fixed counts (RK4; it conserves total water
  to rounding), let the method advance its ions over h at fixed volumes (through every stop
  time inside the step), and close with the second water half step. A stop inside a step
  reads the cubic Hermite interpolation of the step's ends. Strang splitting is second
  order: the volume trajectory's error is O((h/tau_w)^2) of its change, a few 1e-6 at the
  default h = 0.02 tau_w (tests/unit/test_volume.py; a first-order part below 0.04 tau_w,
  the stiff membrane charge nudged off its quasi-steady value). A step also changes no
  volume by more than `change_fraction`. Each water step books the exact
  change of G at fixed counts, each ion step books its events as without water, so the
  ledger still closes to rounding under `ssa`. Under `ode` each water step nudges the fast
  modes off their quasi-steady values, and the stiff solver takes ~30 short steps to
  follow: a small model runs faster with the volumes as variables.
"""
import math

import numpy as np

from ionmc.constants import R, UM3_TO_M3
from ionmc.physics import conc_of, count_of
from ionmc.engine.checks import SimulationError
from ionmc.engine.meanfield import count_jac, ode_rhs
from ionmc.engine.ode import ODE
from ionmc.scenario.validate import moves_water

KEY = "water_permeability_um_per_s"
#: a membrane's written water law (um^3/s into the inside) and its constants
LAW_KEY, LAW_PARAMETERS = "water_flux_um3_per_s", "water_parameters"
#: molar volume of water at 37 C, m^3/mol (18.015 g/mol / 0.99333 g/cm^3); times an
#: osmolarity in mM (mol/m^3) it is a volume fraction
V_W = 18.14e-6


class WaterLaw:
    """A membrane's written water flux (um^3/s into its inside): the expression compiled
    once (expressions/codegen.py, cached across processes like the rate laws), reading V
    (mV), T, celsius, the membrane's concentrations by name (expressions/membrane.py's
    names, any number of them) and its `water_parameters`."""

    def __init__(self, model, mem, spec):
        from ionmc.expressions import parse, to_numba_source
        from ionmc.expressions.membrane import (argument_source, concentrations, names,
                                                sources)

        par = spec[LAW_PARAMETERS]
        expr = parse(spec[LAW_KEY], names(par, model.species, model.comps),
                     f"membranes.{mem}.{LAW_KEY}")
        conc = concentrations(expr, par)
        where = sources(model.species, model.comps, spec["inside"], spec["outside"])
        #: per argument: the state index and the compartment of the concentration
        self.idx = np.array([model.idx(*where[n]) for n in conc], np.int64)
        self.comp = self.idx // model.ns
        self.mem = model.mems.index(mem)
        arg = argument_source(model, par, conc)
        fname = "water_" + mem
        args = ["v", *(f"c{k}" for k in range(len(conc)))]
        self._fn = (fname, args, to_numba_source(expr, arg.__getitem__))
        self._load()

    def _load(self):
        from ionmc.expressions.codegen import compile_functions
        from ionmc.expressions.membrane import LAW_DIR

        self.fn = getattr(compile_functions([self._fn], LAW_DIR), self._fn[0])

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "fn"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._load()

    def __call__(self, x, vol, V):
        """The flux at counts x, volumes vol (um^3) and membrane potentials V (volts)."""
        c = np.asarray(x, float)[self.idx] / count_of(1.0, vol[self.comp])
        return float(self.fn(V[self.mem] * 1e3, *c))


class Water:
    """The water-flow part of a model: which membranes move water, by which law, and the
    volumes."""

    def __init__(self, model):
        self.model = model
        d = model.scenario.data
        comps = model.comps
        self.bath = np.array([d["compartments"][c]["bath"] for c in comps], bool)
        self.mem_in, self.mem_out, self.kw, self.laws = [], [], [], []
        for m, spec in d["membranes"].items():
            if not moves_water(spec):
                continue
            self.mem_in.append(comps.index(spec["inside"]))
            self.mem_out.append(comps.index(spec["outside"]))
            # van 't Hoff: um/s * um^2 * (m^3/mol * mol/m^3 per mM): um^3/s per mM of
            # difference; a written law: its own expression
            self.kw.append(spec[KEY] * spec["area_um2"] * V_W)
            self.laws.append(WaterLaw(model, m, spec) if spec[LAW_KEY] else None)
        self.mem_in = np.array(self.mem_in, np.int64)
        self.mem_out = np.array(self.mem_out, np.int64)
        self.kw = np.array(self.kw)
        self.on = len(self.kw) > 0
        self._applied = model.vol.copy()
        self.follow = self._volume_dependent() if self.on else []

    # -- physics -------------------------------------------------------------------------
    def osmolarity(self, x, vol):
        """Total osmolarity (mM) of every compartment: all species of its counts."""
        m = self.model
        n = np.asarray(x[:m.nion], float).reshape(m.nc, m.ns).sum(axis=1)
        return conc_of(n, vol)

    def fluxes(self, x, vol, osm=None):
        """Water flow (um^3/s) into the inside of each water-moving membrane."""
        if osm is None:
            osm = self.osmolarity(x, vol)
        j = self.kw * (osm[self.mem_in] - osm[self.mem_out])
        if any(law is not None for law in self.laws):
            V = self.model.voltages(np.asarray(x, float))  # fixed while water moves
            for k, law in enumerate(self.laws):
                if law is not None:
                    j[k] = law(x, vol, V)
                    if not math.isfinite(j[k]):
                        m = self.model.mems[law.mem]
                        raise SimulationError(f"membranes.{m}.{LAW_KEY} gives {j[k]:g} "
                                              "(a water flow must be finite)")
        return j

    def flows(self, x, vol):
        """(dvol/dt per compartment, water gained per second per compartment, entropy
        production rate of the flow in J/K/s): a bath's volume does not move, what it
        gains is counted in the second vector; dS/dt = R sum_m J_v,m (osm_in - osm_out),
        J_v Delta pi / T over all osmolytes (>= 0 for van 't Hoff's law; a written law
        that moves water against that difference makes it negative: work from outside)."""
        osm = self.osmolarity(x, vol)
        dosm = osm[self.mem_in] - osm[self.mem_out]
        j = self.fluxes(x, vol, osm)
        nc = self.model.nc
        change = np.bincount(self.mem_in, j, nc) - np.bincount(self.mem_out, j, nc)
        dvol = np.where(self.bath, 0.0, change)
        gain = np.where(self.bath, change, 0.0)
        return dvol, gain, R * UM3_TO_M3 * float(j @ dosm)

    def rates(self, x, vol, dv0=None):
        """(relaxation, change) of the flow at state x and volumes vol, 1/s: the Gershgorin
        bound on the volumes' Jacobian d(dvol/dt)/dvol (its fastest relaxation: every
        membrane on a compartment adds to its row; by differences, so any law answers) and
        the fastest relative change |dvol/dt| / vol (a law that hardly depends on the
        volumes still moves them). `dv0`: dvol/dt at (x, vol) when the caller has it."""
        free = np.nonzero(~self.bath)[0]
        if dv0 is None:
            dv0 = self.flows(x, vol)[0]
        rows = np.zeros(len(vol))
        for c in free:
            d = 1e-6 * vol[c]
            vp = vol.copy()
            vp[c] += d
            rows += np.abs(self.flows(x, vp)[0] - dv0) / d
        return (rows[free].max(initial=0.0),
                (np.abs(dv0[free]) / vol[free]).max(initial=0.0))

    # -- the model follows the volumes ---------------------------------------------------
    def _volume_dependent(self):
        """The mechanisms whose parameters `apply` re-derives: all but those whose rate rows
        hold no volume (`RATES_USE_VOLUME = False`: the Na/K pump reads concentrations
        through `inv_nvol`). Every other mechanism follows, so a new one with a volume in
        its rates needs nothing here."""
        return [mech for mech in self.model.mechs if mech.RATES_USE_VOLUME]

    def _set(self, vol, mechs):
        m = self.model
        d = m.scenario.data
        m.vol[:] = vol
        for ci, c in enumerate(m.comps):
            d["compartments"][c]["volume_um3"] = float(vol[ci])
            m.inv_nvol[ci * m.ns:(ci + 1) * m.ns] = 1.0 / count_of(1.0, vol[ci])
        for mech in mechs:
            m.update_parameters(mech)

    def apply(self, vol):
        """Make the model's concentrations and rate parameters those of volumes `vol`:
        `inv_nvol` in place (the kernels hold it) and the parameters of every mechanism
        that depends on them through `update_parameters`, which reads the scenario's
        volumes."""
        vol = np.asarray(vol, float)
        if np.array_equal(vol, self._applied):
            return
        self._set(vol, self.follow)
        self._applied = vol.copy()

    # -- the ledger's water term ---------------------------------------------------------
    def g_ion(self, ledger, x, vol):
        """G_ion (J) of counts x at volumes vol (ledger.py's formula)."""
        return float(ledger.g_ion(np.asarray(x, float)[None, :], np.asarray(vol)[None, :])[0])

    def dG_dvol(self, ledger, x, vol):
        """(dG/dvol_c) at fixed counts, J per um^3, per compartment: from the lgamma form,
        dG/dlam = k_B T [ln lam - psi(lam + 1) - n/lam + 1], dlam/dvol = c_ref N_A."""
        m = self.model
        idx = ledger.ion_idx
        comp = idx // m.ns
        per_um3 = count_of(ledger.cref[idx], 1.0)  # ions per um^3 at the reference
        lam = per_um3 * vol[comp]
        n = np.asarray(x, float)[idx]
        from scipy.special import digamma  # not at the top: ~0.15 s of every start-up

        dg = ledger.kT * (np.log(lam) - digamma(lam + 1.0) - n / lam + 1.0) * per_um3
        return np.bincount(comp, dg, m.nc)


def rk4_volumes(water, x, vol, h):
    """One RK4 step of the volumes over h at fixed counts x; (vol, water gained, entropy
    produced). The volume increments are combinations of flows that sum to zero over
    compartments and baths, so total water is conserved to rounding."""
    k1, g1, s1 = water.flows(x, vol)
    k2, g2, s2 = water.flows(x, vol + 0.5 * h * k1)
    k3, g3, s3 = water.flows(x, vol + 0.5 * h * k2)
    k4, g4, s4 = water.flows(x, vol + h * k3)
    return (vol + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), h / 6.0 * (g1 + 2 * g2 + 2 * g3 + g4),
            h / 6.0 * (s1 + 2 * s2 + 2 * s3 + s4))


class Split:
    """Strang splitting of water and ions around any method (see the module docstring).
    `volume_rows` after `advance`: (volumes, water gained, W_water, S_water) at the stop
    times.

    The water steps run on a grid of their own, not the record's: a step of h opens with
    a water half step, the method advances its ions over h at fixed volumes (through as
    many stop times as fall inside, each recorded at the cubic Hermite interpolation of the
    step's ends: `_inside`), and the step closes with the second water half step. h is `step_fraction` of the flow's
    time constant at the step's start, so it follows a compartment that shrinks."""

    #: the water step as a fraction of the flow's relaxation time tau_w
    step_fraction = 0.02
    #: and at most this change of any volume, relative: the ions see concentrations off by
    #: half of it at most (0.013 mV of a Nernst potential); binds for a law that hardly
    #: depends on the volumes (a constant secretion), where tau_w says nothing
    change_fraction = 1e-3

    def __init__(self, inner, water, ledger):
        self.inner = inner
        self.water = water
        self.ledger = ledger
        self.model = inner.model
        self.vol = water.model.vol.copy()
        self.gain = np.zeros(water.model.nc)
        self.W = 0.0
        self.S = 0.0
        self.volume_rows = self._rows(1)

    name = property(lambda self: self.inner.name)
    integer = property(lambda self: self.inner.integer)
    events = property(lambda self: self.inner.events)
    x = property(lambda self: self.inner.x)
    t = property(lambda self: self.inner.t)

    def _rows(self, n):
        return (np.repeat(self.vol[None, :], n, axis=0), np.repeat(self.gain[None, :], n, 0),
                np.full(n, self.W), np.full(n, self.S))

    def _water(self, h, apply=True):
        """Move water over h at fixed counts; book the change of G_ion. `apply`: make the
        model's parameters those of the new volumes (for the ions' step; a step's closing
        half leaves that to the next step's opening half or the end of `advance`)."""
        x = np.asarray(self.inner.x, float)
        g0 = self.water.g_ion(self.ledger, x, self.vol)
        self.vol, gained, s = rk4_volumes(self.water, x, self.vol, h)
        self.gain = self.gain + gained
        self.S += s
        if apply:
            self.water.apply(self.vol)
        self.W += self.water.g_ion(self.ledger, x, self.vol) - g0

    def _state(self, t):
        """The water's state at time t with its rates (Hermite interpolation's slopes)."""
        rates = self.water.flows(np.asarray(self.inner.x, float), self.vol)
        return t, (self.vol, self.gain, self.S), rates

    def _inside(self, X, times, a, b):
        """(volumes, water gained, W_water, S_water) at stops inside a water step, whose
        ions advanced at the half step's volumes `mid`: a cubic Hermite interpolation in
        time between the step's ends a and b (their values and rates; the half step's
        volumes at every stop would be off by up to half a step's change, and a straight
        line by (h/tau_w)^2 / 8 of the change). W_water is booked at the recorded volumes,
        so that the balance closes at every row."""
        (ta, ya, ra), (tb, yb, rb) = a, b
        hh = tb - ta
        th = ((np.asarray(times, float) - ta) / hh)[:, None]
        h00, h10 = 2 * th**3 - 3 * th**2 + 1, th**3 - 2 * th**2 + th
        h01, h11 = -2 * th**3 + 3 * th**2, th**3 - th**2
        vol, gain, S = (h00 * np.atleast_1d(p) + h10 * hh * np.atleast_1d(dp)
                        + h01 * np.atleast_1d(q) + h11 * hh * np.atleast_1d(dq)
                        for p, dp, q, dq in zip(ya, ra, yb, rb))
        X = np.asarray(X, float)
        vmid, wmid = self.mid
        W = wmid + self.ledger.g_ion(X, vol) - self.ledger.g_ion(X, vmid[None, :])
        return vol, gain, W, S[:, 0]

    def advance(self, stop_times):
        stop_times = np.asarray(stop_times, float)
        n = len(stop_times)
        out = None
        vols, gains, W, S = self._rows(n)

        def keep(rows, r0, k, take=slice(None), between=None):
            """Rows r0 .. r0 + k - 1 of the output: the method's rows[take] and the water's
            state now, or inside the step between its two ends."""
            nonlocal out
            if out is None:
                out = [np.empty((n,) + np.shape(a)[1:], np.asarray(a).dtype) for a in rows]
            sl = slice(r0, r0 + k)
            for a, b in zip(out, rows):
                a[sl] = b[take]
            if between is None:
                vols[sl], gains[sl], W[sl], S[sl] = self.vol, self.gain, self.W, self.S
            elif k:
                vols[sl], gains[sl], W[sl], S[sl] = self._inside(out[0][sl], stop_times[sl],
                                                                 *between)

        r = 0
        while r < n:
            t = self.inner.t
            if stop_times[r] <= t:  # no time to move water in
                keep(self.inner.advance(stop_times[r:r + 1]), r, 1)
                r += 1
                continue
            # a step of h, never past the call's last stop (so none stays open between
            # calls, when events may change the model), landing on a stop a hair away
            start = self._state(t)  # its rates: the step's dvol/dt too
            relax, change = self.water.rates(np.asarray(self.inner.x, float), self.vol,
                                             start[2][0])
            h = min(self.step_fraction / relax if relax > 0 else math.inf,
                    self.change_fraction / change if change > 0 else math.inf)
            end = min(t + h, stop_times[-1])
            k = r + int(np.searchsorted(stop_times[r:], end, side="left"))
            if k < n and stop_times[k] - end <= 1e-9 * (end - t):
                end = stop_times[k]
            h = end - t
            self._water(0.5 * h)
            self.mid = (self.vol, self.W)
            rows = self.inner.advance(np.append(stop_times[r:k], end))
            self._water(0.5 * h, apply=False)
            keep(rows, r, k - r, slice(0, k - r), between=(start, self._state(end)))
            if k < n and stop_times[k] == end:
                keep(rows, k, 1, slice(-1, None))
                k += 1
            r = k
        self.water.apply(self.vol)  # events and the ledger read the model at these volumes
        self.volume_rows = (vols, gains, W, S)
        return tuple(out)


class ODEWater(ODE):
    """`ode` with the volumes as ODE variables: y = (counts, firings, S, ledger_sum, volumes, water
    gained per compartment, W_water, the flow's entropy production)."""

    def __init__(self, model, x, water, ledger):
        super().__init__(model, x)
        self.water = water
        self.ledger = ledger
        nc = model.nc
        self.n0 = len(self.y)
        self.y = np.concatenate([self.y, model.vol, np.zeros(nc), [0.0, 0.0]])
        free = np.nonzero(~water.bath)[0]
        self.cols = np.concatenate([self.moved, self.n0 + free]).astype(np.int64)
        kT = ledger.kT
        self.atol_vec = np.concatenate([np.full(self.n0, self.atol),
                                        1e-12 * model.vol, 1e-12 * model.vol,
                                        [1e-3 * kT, 1e-3 * kT / model.T]])
        self.volume_rows = self._rows(self.y[None, :])

    def _rows(self, Y):
        nc = self.model.nc
        return (Y[:, self.n0:self.n0 + nc], Y[:, self.n0 + nc:self.n0 + 2 * nc], Y[:, -2],
                Y[:, -1])

    def rhs(self, t, y):
        nx, nc, n0 = self.model.nx, self.model.nc, self.n0
        vol = y[n0:n0 + nc]
        self.water.apply(vol)
        dy = np.empty_like(y)
        dy[:n0] = ode_rhs(y[:n0], nx, self.JS, self.M)
        dvol, gain, sdot = self.water.flows(y[:nx], vol)
        dy[n0:n0 + nc] = dvol
        dy[n0 + nc:n0 + 2 * nc] = gain
        dy[-2] = self.water.dG_dvol(self.ledger, y[:nx], vol) @ dvol
        dy[-1] = sdot
        return dy

    def jac(self, t, y):
        """The counts' block from the compiled `count_jac` at the state's volumes; the
        volumes' rows in the counts analytically (van 't Hoff's J_v is linear in the counts; a
        written law's rows by differences); the
        volumes' columns by central differences of the whole right-hand side. The rows of
        the accumulators (firings, S, ledger sums, W_water, S_water) in the counts are left
        out: nothing depends on them, so Newton's iteration still converges (as the counts
        do)."""
        m, n0, nc, nx = self.model, self.n0, self.model.nc, self.model.nx
        n = len(y)
        J = np.zeros((n, n))
        vol = y[n0:n0 + nc]
        self.water.apply(vol)
        J[:nx, :nx] = count_jac(y[:nx], self.JS, self.M)
        w = self.water
        x = np.array(y[:nx])
        for k in range(len(w.kw)):
            rows = [(n0 + (nc if w.bath[c] else 0) + c, s)
                    for c, s in ((w.mem_in[k], 1.0), (w.mem_out[k], -1.0))]
            if w.laws[k] is None:
                for c, sign in ((w.mem_in[k], 1.0), (w.mem_out[k], -1.0)):
                    # dJ_v/dn for every species of compartment c (van 't Hoff: linear)
                    d = sign * conc_of(w.kw[k], vol[c])
                    sl = slice(c * m.ns, (c + 1) * m.ns)
                    for row, s in rows:
                        J[row, sl] += s * d
                continue
            # a written law: dJ_v/dx by differences, over every count (V reads charges);
            # one-sided where a count is near 0 (a law may take sqrt or log of it)
            for i in range(nx):
                h = max(1e-7 * abs(x[i]), 1e-3)
                lo = h if x[i] >= h else 0.0
                xi = x[i]
                x[i] = xi + h
                up = w.fluxes(x, vol)[k]
                x[i] = xi - lo
                down = w.fluxes(x, vol)[k]
                x[i] = xi
                for row, s in rows:
                    J[row, i] += s * (up - down) / (h + lo)
        yp = y.copy()
        for i in self.cols[self.cols >= n0]:
            h = 1e-7 * abs(y[i])
            yp[i] = y[i] + h
            f1 = self.rhs(t, yp)
            yp[i] = y[i] - h
            f0 = self.rhs(t, yp)
            yp[i] = y[i]
            J[:, i] = (f1 - f0) / (2.0 * h)
        return J

    def advance(self, stop_times):
        from scipy.integrate import solve_ivp  # as ode.py: only when the ode method runs

        stop_times = np.asarray(stop_times, float)
        nx, nt = self.model.nx, self.model.nt
        if stop_times[-1] > self.t:
            sol = solve_ivp(self.rhs, (self.t, stop_times[-1]), self.y, method="LSODA",
                            t_eval=stop_times, rtol=self.rtol, atol=self.atol_vec,
                            jac=self.jac)
            if not sol.success:
                raise RuntimeError(f"ODE solver failed at t={self.t}: {sol.message}")
            Y = sol.y.T
        else:
            Y = np.repeat(self.y[None, :], len(stop_times), axis=0)
        self.y = Y[-1].copy()
        self.t = float(stop_times[-1])
        # leave the model at the volumes of the state (events and the ledger read them)
        self.water.apply(self.y[self.n0:self.n0 + self.model.nc])
        self.volume_rows = self._rows(Y)
        return Y[:, :nx], Y[:, nx:nx + nt], Y[:, nx + nt:nx + 2 * nt], Y[:, nx + 2 * nt:self.n0]


def donnan_osmotic_equilibrium(model, x, guess=None):
    """The Gibbs-Donnan state with osmotic balance that a pumpless cell relaxes to when its
    outside is a finite compartment (closed form up to a 2-unknown root solve).

    One membrane (model.mems[0]) between two non-bath compartments; every species that a
    transition moves across it is a permeant ion, everything else stays where it is.
    Conditions (exact, with the charge-difference potential): each permeant species at
    its Nernst potential, c_in/c_out = exp(-z u) with u = FV/RT; the inside's net charge
    sum_s z_s n_s,in = C V / e; equal osmolarity on both sides (all species); every
    species' total count and the total volume conserved. Unknowns: vol_in and u.
    Returns (vol_in, vol_out, V in volts, counts x at equilibrium)."""
    from scipy.optimize import fsolve

    from ionmc.constants import E_CHARGE, F

    m = model
    d = m.scenario.data
    spec = d["membranes"][m.mems[0]]
    ci, co = m.comps.index(spec["inside"]), m.comps.index(spec["outside"])
    ns = m.ns
    x = np.asarray(x, float)
    vtot = m.vol[ci] + m.vol[co]
    moved = m.stoich_full[:, ci * ns:(ci + 1) * ns].getnnz(axis=0) > 0
    total = x[ci * ns:(ci + 1) * ns] + x[co * ns:(co + 1) * ns]
    rt_f = R * m.T / F

    def split(vin, u):
        vout = vtot - vin
        xin = x[ci * ns:(ci + 1) * ns].copy()
        w = np.exp(-m.charge * u) * vin
        xin[moved] = (total * w / (w + vout))[moved]
        return xin, total - xin, vout

    def eqs(p):
        vin, u = p[0] * vtot, p[1]
        xin, xout, vout = split(vin, u)
        charge = float(xin @ m.charge) - m.mem_C[0] * u * rt_f / E_CHARGE
        osm = xin.sum() / vin - xout.sum() / vout
        return [charge / total.sum(), osm * vtot / total.sum()]

    p0 = guess if guess is not None else [m.vol[ci] / vtot, -0.5]
    p, info, ok, msg = fsolve(eqs, p0, full_output=True, xtol=1e-13)
    if ok != 1:
        raise RuntimeError(f"no Donnan-osmotic equilibrium found: {msg}")
    vin = p[0] * vtot
    xin, xout, vout = split(vin, p[1])
    xe = x.copy()
    xe[ci * ns:(ci + 1) * ns] = xin
    xe[co * ns:(co + 1) * ns] = xout
    return vin, vout, p[1] * rt_f, xe


def attach(method, model, ledger):
    """The method with water flow when a membrane passes water (a permeability or a written
    law), else itself: `ode` with the volumes as ODE variables unless the scenario says
    `water_split`, every other method split."""
    water = Water(model)
    if not water.on:
        return method
    if isinstance(method, ODE) and not model.scenario.data["scenario"]["water_split"]:
        return ODEWater(model, method.x, water, ledger)
    return Split(method, water, ledger)
