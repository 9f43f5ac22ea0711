"""Plain Python data -> scenario text.

A scenario given as a dict is written as JSON (JSON is YAML) and loaded like a
file, so it meets exactly the same validation and messages. Mappings are written
one key per line, so that a message's line number points at one key of the text
returned by :func:`scenario_text`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["scenario_text", "value_text"]

# A number with an exponent: a float in YAML 1.2, a string in YAML 1.1 unless it
# also has a dot and a signed exponent (PyYAML reads 2.0e8 and 1e6 as strings).
_EXPONENT_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+")


def scenario_text(data: Mapping[str, Any]) -> str:
    """Write a scenario given as plain data as the text that :meth:`Model.from_dict` loads.

    Parameters
    ----------
    data : Mapping
        Keys of a scenario file. Values may be None, bool, int, float (``inf`` is
        written ``.inf``), str, lists, tuples, mappings, and numpy scalars or arrays.
        A str that is a number with an exponent (``"2.0e8"``, ``"1e6"``) is written
        as a number: YAML 1.2 reads ``2.0e8`` as a number, YAML 1.1 parsers such as
        PyYAML as a string, so that the dict of ``yaml.safe_load`` of a scenario file
        is the file's scenario. Other str values stay strings (and a number where a
        number is expected is an error, as in a file).

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
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"a scenario is a mapping of keys to values, found {type(data).__name__}")
    out: list[str] = []
    _write(data, out, indent=0, path="")
    return "".join(out) + "\n"


def value_text(value: Any) -> str:
    """Write one value on one line, as the value of an override (``key.path=value``)."""
    out: list[str] = []
    _write(value, out, indent=None, path="")
    return "".join(out)


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
        if _EXPONENT_NUMBER.fullmatch(value):
            return value  # what a YAML 1.1 parser left as text, e.g. yaml.safe_load("capital: 2.0e8")
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{path or 'value'}: bytes have no meaning in a scenario; decode them to str")
    return None


def _write(value: Any, out: list[str], indent: int | None, path: str) -> None:
    text = _scalar(value, path)
    if text is not None:
        out.append(text)
        return
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, Mapping):
        _write_mapping(value, out, indent, path)
    elif isinstance(value, (list, tuple)):
        _write_list(value, out, indent, path)
    else:
        where = path or "value"
        raise TypeError(f"{where}: cannot write a {type(value).__name__} into a scenario")


def _write_mapping(value: Mapping[Any, Any], out: list[str], indent: int | None, path: str) -> None:
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
            out.append(("" if i == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": ")
            _write(value[key], out, None, _join(path, key))
        out.append("}")
        return
    pad = " " * (indent + 2)
    out.append("{\n")
    for i, key in enumerate(items):
        out.append(pad + json.dumps(key, ensure_ascii=False) + ": ")
        _write(value[key], out, indent + 2, _join(path, key))
        out.append(",\n" if i + 1 < len(items) else "\n")
    out.append(" " * indent + "}")


def _write_list(value: list[Any] | tuple[Any, ...], out: list[str], indent: int | None, path: str) -> None:
    scalars = all(_is_scalar(v) for v in value)
    if indent is None or scalars:
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(", ")
            _write(v, out, None, f"{path}[{i}]")
        out.append("]")
        return
    pad = " " * (indent + 2)
    out.append("[\n")
    for i, v in enumerate(value):
        out.append(pad)
        _write(v, out, indent + 2, f"{path}[{i}]")
        out.append(",\n" if i + 1 < len(value) else "\n")
    out.append(" " * indent + "]")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
