"""One exception type for every problem a user can fix.

A ``WorkbenchError`` carries one sentence that names the problem and the fix. The CLI and the app
print that sentence instead of a traceback from deep inside a library.
"""


class WorkbenchError(Exception):
    """A user-facing error: ``str(err)`` is one clear sentence naming the problem and the fix."""
