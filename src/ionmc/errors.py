"""Errors a user can cause (bad input): the CLI prints them as one line and exits 2."""


class InputError(Exception):
    """Bad user input. `str()` is the one line the CLI prints."""

    def __init__(self, source, key, message):
        self.source = str(source) if source is not None else None
        self.key = key
        self.message = message
        parts = [p for p in (self.source, key) if p]
        super().__init__(": ".join(parts + [message]))
