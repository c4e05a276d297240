"""Read JSON/JSONC config files and turn their errors into one clear line.

Campaign and profile files share this: a syntax error names the file, line and column; a
schema error names the file and the dotted key that is wrong or unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import json5
from pydantic import BaseModel, ValidationError

from chia.errors import ChiaUsageError
from chia.names import is_valid_name

__all__ = ["describe_validation_error", "load_jsonc", "parse_model", "resolve_config"]

M = TypeVar("M", bound=BaseModel)

_JSON5_POSITION = re.compile(r"^<string>:(?P<line>\d+) (?P<msg>.*?)(?: at column (?P<col>\d+))?$")


def load_jsonc(path: Path) -> Any:
    """Parse a JSON or JSONC (comments, trailing commas) file.

    Raises:
        ChiaUsageError: If the file is missing or is not valid JSONC; the message carries
            ``file:line:column``. Duplicate keys are errors, not silently overwritten.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChiaUsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ChiaUsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json5.loads(text, allow_duplicate_keys=False)
    except ValueError as exc:
        match = _JSON5_POSITION.match(str(exc))
        if match:
            where = f"{path}:{match['line']}" + (f":{match['col']}" if match["col"] else "")
            raise ChiaUsageError(f"{where}: JSON syntax error: {match['msg']}") from None
        raise ChiaUsageError(f"{path}: JSON syntax error: {exc}") from None


def resolve_config(ref: str | Path, packaged: Mapping[str, Path], what: str) -> Path:
    """Find a config file given as a path or as the name of a packaged one.

    Args:
        ref: A file path, or a packaged name.
        packaged: Packaged names to their files.
        what: What is looked for ("campaign", "profile"), for the message.

    Raises:
        ChiaUsageError: If ``ref`` is neither an existing file nor a packaged name.
    """
    candidate = Path(ref).expanduser()
    if candidate.is_file():
        return candidate
    if isinstance(ref, str) and is_valid_name(ref) and ref in packaged:
        return packaged[ref]
    raise ChiaUsageError(
        f"{ref}: no such {what} file or packaged {what} (packaged: {', '.join(packaged) or 'none'})"
    )


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """Render a pydantic error as lines naming the source file and each dotted key."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "<top level>"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key {key!r}")
        elif err["type"] == "missing":
            lines.append(f"{source}: missing required key {key!r}")
        else:
            lines.append(f"{source}: {key}: {err['msg']}")
    return "\n".join(lines)


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate ``data`` as ``model``, raising a ChiaUsageError that names file and key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ChiaUsageError(describe_validation_error(exc, source)) from None
