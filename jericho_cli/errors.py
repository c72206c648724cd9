"""One error type for every bad-input case: the CLI prints it as one line and exits 1 (2 for usage)."""


class JerichoError(Exception):
    """A problem with the user's input (file, line, value). Printed as one line, exit code 1."""

    exit_code = 1

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class UsageError(JerichoError):
    """The command line asks for something this command does not do. Exit code 2."""

    exit_code = 2
