"""Errors a person can act on. The UI shows their message as-is, so each one says what to do."""


class PlaygroundError(Exception):
    """Base class: anything with a message meant for the person using the app."""


class UserInputError(PlaygroundError):
    """The input is empty, too long, of the wrong kind, or out of range."""


class ModelUnavailableError(PlaygroundError):
    """A model could not be loaded (no network, failed download, not enough memory)."""

