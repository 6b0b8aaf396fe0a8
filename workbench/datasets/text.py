"""Reading a user's text files with one clear sentence for a binary or non-UTF-8 file.

Every loader reads its text through these helpers, so a wrong file (an archive, an image, a
Latin-1 export) names the file and the line instead of raising ``UnicodeDecodeError`` deep inside.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"ok\\n\\xff\\xfe\\n")
>>> try:
...     read_text(p, "sequence file")
... except WorkbenchError as err:
...     print(str(err).split(" line ", 1)[1])
2 is not UTF-8 text (byte 0xff); is this the sequence file? Save it as UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError


def decode_line(raw: bytes, path: Path, number: int, what: str, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    """Line ``number`` of ``path`` as text, trying ``encodings`` in order; a NUL byte means binary."""
    if b"\x00" in raw:
        raise WorkbenchError(f"{path} line {number} holds binary data (a NUL byte); is this the {what}?")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as err:
            error = err
    bad = raw[error.start:error.start + 1].hex()
    raise WorkbenchError(f"{path} line {number} is not UTF-8 text (byte 0x{bad}); is this the {what}? Save it as UTF-8.")


def read_text(path: Path, what: str) -> str:
    """The whole file as UTF-8 text; a binary or non-UTF-8 file gets one sentence with its line."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise WorkbenchError(f"Cannot read {path} ({err.strerror}); check the path and its permissions.") from err
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise WorkbenchError(f"{path} line {line} holds binary data (a NUL byte); is this the {what}?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise WorkbenchError(f"{path} line {line} is not UTF-8 text (byte 0x{data[err.start]:02x}); "
                             f"is this the {what}? Save it as UTF-8.") from err


def read_json(path: Path, what: str, kind: type, shape: str):
    """A whole JSON file that must decode to ``kind`` (``dict`` / ``list``); invalid JSON (with its
    line) or another shape gets one sentence naming the file and the ``shape`` expected."""
    try:
        value = json.loads(read_text(path, what))
    except json.JSONDecodeError as err:
        raise WorkbenchError(f"{path} line {err.lineno} is not valid JSON ({err.msg}); expected {shape}.") from err
    if not isinstance(value, kind):
        raise WorkbenchError(f"{path} holds a JSON {type(value).__name__}, not {shape}.")
    return value
