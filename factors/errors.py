"""Error types of the pure core. Each message names the thing that is wrong and how to fix it."""


class BlurdError(ValueError):
    """Base of every user-facing BLURD error; the UI and the CLI print its message as it is."""


class FactorError(BlurdError):
    """An unknown factor, or a value a factor does not take."""


class PresetError(BlurdError):
    """A malformed preset file: the message names the file, the key and the fix."""

    def __init__(self, source: str, key: str, problem: str, fix: str = "") -> None:
        self.source, self.key, self.problem, self.fix = source, key, problem, fix
        where = f"{source}: " if source else ""
        at = f"[{key}] " if key else ""
        super().__init__(f"{where}{at}{problem}" + (f"; {fix}" if fix else ""))
