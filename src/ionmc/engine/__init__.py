"""The methods (ssa, tau-leap, ode) and the Numba kernels they share."""
