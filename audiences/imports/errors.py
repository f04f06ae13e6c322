"""The one error of the directory import: the whole file cannot be imported, and why."""


class ImportRefused(Exception):
    """The whole file cannot be imported; the message says why, for the person who uploaded it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
