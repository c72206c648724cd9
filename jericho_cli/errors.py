"""One error type for every bad-input case: the CLI prints it as one line and exits 1."""


class JerichoError(Exception):
    """A problem with the user's input (file, line, value). Printed as one line, exit code 1."""

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
