"""Parse JSONC/JSON5 text with a compiled parser, keeping ``line:column`` in every error.

pyjson5 (Cython) parses a megabyte in milliseconds, where the pure-Python ``json5`` took
seconds; it reports a character offset, which :func:`parse_jsonc` turns into a line and a
column. pyjson5 keeps the last of two equal keys, so after a successful parse the keys of
the result are counted against the key separators in the text, and a difference is then
located by a scan of the text's tokens: a campaign with ``"name"`` twice is a mistake that
must not pass silently.
"""

from __future__ import annotations

import re
from typing import Any

import pyjson5

from chia.errors import ConfigFileError

__all__ = ["MAX_NESTING", "parse_jsonc", "position"]

MAX_NESTING = 64
"""Deepest nesting of objects and arrays accepted (a config file never needs more)."""

_NEAR = re.compile(r"^(?P<msg>.*?) near (?P<offset>\d+)(?P<rest>.*)$", re.DOTALL)

# The tokens that matter for finding object keys; everything else is skipped as a whole.
_TOKEN = re.compile(
    r"""
      (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<punct>[{}\[\]:,])
    | (?P<word>[^\s{}\[\]:,"'/]+)
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


# Strings and comments as whole matches, so that what is left as ":" separates a key.
_COLONS = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|//[^\n]*|/\*.*?\*/|:""", re.DOTALL)


def _key_count(value: Any) -> int:
    """How many keys the parsed objects hold (fewer than in the text if one repeated)."""
    if isinstance(value, dict):
        return len(value) + sum(_key_count(item) for item in value.values())
    if isinstance(value, list):
        return sum(_key_count(item) for item in value)
    return 0


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def parse_jsonc(text: str, source: str) -> Any:
    """Parse JSON, JSONC or JSON5 text.

    Args:
        text: The document.
        source: What to name in messages (the file path).

    Returns:
        The parsed value.

    Raises:
        ConfigFileError: ``source:line:column: JSON syntax error: ...`` for invalid text,
            too deep a nesting, or a key given twice in one object.
    """
    try:
        value = pyjson5.decode(text, maxdepth=MAX_NESTING)
    except pyjson5.Json5DecoderException as exc:
        raise _syntax_error(text, source, exc) from None
    keys = _key_count(value)
    # Every key in the text has one separator colon, so as many colons in all as parsed
    # keys means no key repeated (the common case, 1 ms per MB); else count only the
    # colons outside strings and comments (30 ms per MB), and scan if a key still is missing.
    if text.count(":") != keys and _COLONS.findall(text).count(":") != keys:
        _reject_duplicate_keys(text, source)  # some key was given twice: find where
    return value


def _syntax_error(text: str, source: str, exc: Exception) -> ConfigFileError:
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    if isinstance(exc, pyjson5.Json5NestingTooDeep):
        detail = f"nested deeper than {MAX_NESTING} levels" + detail[detail.find(" near ") :]
    elif isinstance(exc, pyjson5.Json5EOF) and not text.strip():
        return ConfigFileError(source, "empty file (expected a JSON object)")
    match = _NEAR.match(detail)
    if match is None:
        return ConfigFileError(source, f"JSON syntax error: {detail}")
    # pyjson5's offset is just past the character it stopped at, except for extra data.
    offset = int(match["offset"]) - (0 if isinstance(exc, pyjson5.Json5ExtraData) else 1)
    line, column = position(text, offset)
    message = _readable((match["msg"] + match["rest"]).strip())
    return ConfigFileError(source, f"JSON syntax error: {message}", line=line, column=column)


_CODEPOINT = re.compile(r"U\+([0-9a-fA-F]{4,6})")
_NAMES = {"b'JSON5Value'": "a value", "b'comma'": "comma", "b'colon'": "colon"}


def _readable(message: str) -> str:
    """``Expected b'JSON5Value', found U+007d`` -> ``Expected a value, found '}'``."""
    for raw, name in _NAMES.items():
        message = message.replace(raw, name)
    return _CODEPOINT.sub(lambda m: repr(chr(int(m[1], 16))), message)


def _key_value(token: str) -> str:
    if token[0] in "\"'":
        body = token[1:-1]
        return body if "\\" not in body else str(pyjson5.decode(token))
    return token


def _reject_duplicate_keys(text: str, source: str) -> None:
    """Scan a text that parsed, raising on the first key repeated within one object."""
    stack: list[set[str] | None] = []  # a set of keys per open object, None per array
    previous: re.Match[str] | None = None
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "comment":
            continue
        value = token.group()
        if value in "{[" and kind == "punct":
            stack.append(set() if value == "{" else None)
        elif value in "}]" and kind == "punct":
            stack.pop()
        elif value == ":" and kind == "punct" and previous is not None and stack:
            keys = stack[-1]
            if keys is not None:
                key = _key_value(previous.group())
                if key in keys:
                    line, column = position(text, previous.start())
                    raise ConfigFileError(
                        source,
                        f"JSON syntax error: Duplicate key {key!r} in one object",
                        line=line,
                        column=column,
                    )
                keys.add(key)
        previous = token
