"""Plain Python data -> scenario text.

A scenario given as a dict is written as JSON (JSON is YAML) and loaded like a
file, so it meets exactly the same validation and messages. Mappings are written
one key per line, so that a message's line number points at one key of the text
returned by :func:`scenario_text`. A str is always written as a string (``"1e8"``
is not a number, as ``'1e8'`` in a file is not), and characters a file may not
hold (control characters, lone surrogates) are written as they are, so that the
loader rejects them at their line and column as it does in a file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["UnwritableError", "scenario_text", "value_text"]

# Lists and mappings nested deeper than this are refused (a scenario is at most
# about ten levels deep), as the loader refuses a deeply nested file.
MAX_DEPTH = 64

# JSON escapes (and escaped backslashes, so that pairs are read in order).
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


class UnwritableError(ValueError):
    """Plain data that no scenario text can hold: a cycle, or nesting too deep.

    ``Model.from_dict`` raises it as :class:`ccpnet.ScenarioError`.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def scenario_text(data: Mapping[str, Any]) -> str:
    """Write a scenario given as plain data as the text that :meth:`Model.from_dict` loads.

    Parameters
    ----------
    data : Mapping
        Keys of a scenario file. Values may be None, bool, int, float (``inf`` is
        written ``.inf``), str, lists, tuples, mappings, and numpy scalars or arrays.
        A str stays a string, ``"1e8"`` included (a string where a number is expected
        is an error, as in a file). PyYAML's ``yaml.safe_load`` (YAML 1.1) reads
        ``2.0e8`` as a str: load scenario files with :func:`ccpnet.load`, or with a
        YAML 1.2 loader.

    Returns
    -------
    str
        JSON text (a subset of YAML, with ``.inf``/``-.inf``/``.nan`` for non-finite
        numbers), one mapping key per line. Error messages of ``<dict>`` refer to its
        lines.

    Raises
    ------
    TypeError
        A key is not a string, or a value has a type that has no scenario meaning.
    UnwritableError
        A list or mapping contains itself, or lists and mappings are nested more
        than ``MAX_DEPTH`` levels.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"a scenario is a mapping of keys to values, found {type(data).__name__}")
    out: list[str] = []
    _write(data, out, indent=0, path="", active=[])
    return "".join(out) + "\n"


def value_text(value: Any) -> str:
    """Write one value on one line, as the value of an override (``key.path=value``)."""
    out: list[str] = []
    _write(value, out, indent=None, path="", active=[])
    return "".join(out)


def _string(text: str) -> str:
    """A JSON string with control characters written as they are, not escaped.

    JSON would escape them and YAML unescape them; written as they are, the
    loader refuses them at their position, as in a file. Line ends and tabs keep
    their escapes (they are text).
    """

    def raw(m: re.Match[str]) -> str:
        e = m.group(1)
        if e in ("b", "f"):
            return "\b" if e == "b" else "\f"
        if e.startswith("u"):
            code = int(e[1:], 16)
            if code < 0x20 and chr(code) not in "\n\r\t":
                return chr(code)
        return m.group(0)

    return _ESCAPE.sub(raw, json.dumps(text, ensure_ascii=False))


def _scalar(value: Any, path: str) -> str | None:
    """Text of a scalar, or None when `value` is a collection."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return ".nan"
        if math.isinf(x):
            return ".inf" if x > 0 else "-.inf"
        return repr(x)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{path or 'value'}: bytes have no meaning in a scenario; decode them to str")
    return None


def _write(value: Any, out: list[str], indent: int | None, path: str, active: list[int]) -> None:
    text = _scalar(value, path)
    if text is not None:
        out.append(text)
        return
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (Mapping, list, tuple)):
        where = path or "value"
        raise TypeError(f"{where}: cannot write a {type(value).__name__} into a scenario")
    what = "mapping" if isinstance(value, Mapping) else "list"
    if id(value) in active:
        raise UnwritableError(path, f"expected plain data, found a {what} that contains itself (a cycle)")
    if len(active) >= MAX_DEPTH:
        raise UnwritableError(path, f"lists and mappings nested too deeply: the limit is {MAX_DEPTH} levels")
    active.append(id(value))
    if isinstance(value, Mapping):
        _write_mapping(value, out, indent, path, active)
    else:
        _write_list(value, out, indent, path, active)
    active.pop()


def _write_mapping(value: Mapping[Any, Any], out: list[str], indent: int | None, path: str, active: list[int]) -> None:
    if not value:
        out.append("{}")
        return
    items = []
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{path or 'scenario'}: keys are strings, found {key!r}")
        items.append(key)
    if indent is None:
        out.append("{")
        for i, key in enumerate(items):
            out.append(("" if i == 0 else ", ") + _string(key) + ": ")
            _write(value[key], out, None, _join(path, key), active)
        out.append("}")
        return
    pad = " " * (indent + 2)
    out.append("{\n")
    for i, key in enumerate(items):
        out.append(pad + _string(key) + ": ")
        _write(value[key], out, indent + 2, _join(path, key), active)
        out.append(",\n" if i + 1 < len(items) else "\n")
    out.append(" " * indent + "}")


def _write_list(
    value: list[Any] | tuple[Any, ...], out: list[str], indent: int | None, path: str, active: list[int]
) -> None:
    scalars = all(_is_scalar(v) for v in value)
    if indent is None or scalars:
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(", ")
            _write(v, out, None, f"{path}[{i}]", active)
        out.append("]")
        return
    pad = " " * (indent + 2)
    out.append("[\n")
    for i, v in enumerate(value):
        out.append(pad)
        _write(v, out, indent + 2, f"{path}[{i}]", active)
        out.append(",\n" if i + 1 < len(value) else "\n")
    out.append(" " * indent + "]")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
