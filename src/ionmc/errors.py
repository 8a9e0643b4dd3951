"""Errors a user can cause (bad input): the CLI prints them as one line and exits 2."""


class InputError(Exception):
    """Bad user input. `str()` is the one line the CLI prints."""

    def __init__(self, source, key, message):
        self.source = str(source) if source is not None else None
        self.key = key
        self.message = message
        parts = [p for p in (self.source, key) if p]
        super().__init__(": ".join(parts + [message]))


class WarningTally:
    """Collect the warnings raised inside a block (numpy's overflow, scipy's integrator
    messages ...) instead of letting each print its lines: `counts` maps each distinct
    warning ("Category: message") to how often it came; `summary()` is one line, or ""."""

    def __init__(self):
        self.counts = {}

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self._log = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        for w in self._log:
            text = " ".join(str(w.message).split())
            key = f"{w.category.__name__}: {text[:160]}"
            self.counts[key] = self.counts.get(key, 0) + 1
        self._cm.__exit__(*exc)
        return False

    def add(self, counts):
        for k, n in counts.items():
            self.counts[k] = self.counts.get(k, 0) + n

    def summary(self):
        if not self.counts:
            return ""
        n = sum(self.counts.values())
        top = max(self.counts, key=self.counts.get)
        more = f" and {len(self.counts) - 1} other kind(s)" if len(self.counts) > 1 else ""
        return (f"{n} numerical warning(s) while running, most often {top!r} "
                f"({self.counts[top]}x){more}")
