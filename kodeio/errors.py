"""User-facing errors: the CLI prints these as one line and exits non-zero, no traceback."""


class KodeioError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 1


class ConfigError(KodeioError):
    """A config file or override that does not validate."""

    exit_code = 2


class InputError(KodeioError):
    """A data file that is missing, unreadable or has the wrong shape."""

    exit_code = 1
