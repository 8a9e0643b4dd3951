"""Mechanism types, one module each, and the registry that maps a TOML `type` to them."""
