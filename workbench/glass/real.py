"""Real datasets as ``SeqData`` (filled in below)."""
from workbench.errors import WorkbenchError


def load(config):
    raise WorkbenchError(f"Dataset {config.dataset!r} is not supported by glass yet.")
