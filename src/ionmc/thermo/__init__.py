"""Thermodynamics: the free-energy and entropy ledger, energetics, closed forms."""
