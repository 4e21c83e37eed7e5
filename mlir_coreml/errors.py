"""The one error type the project raises for bad input; the CLI prints it as one line."""


class MlirCoremlError(Exception):
    """A user-facing error: `where` names the file and the place (layer, line:col, op)."""

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
