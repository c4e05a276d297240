"""Read JSON/JSONC and YAML config files and turn their errors into one clear line.

Campaign, profile, cluster and price files share this: a syntax error names the file,
line and column; a schema error names the file and the dotted key that is wrong or unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chia.errors import ConfigFileError
from chia.jsonc import parse_jsonc, position
from chia.names import is_valid_name

__all__ = [
    "MAX_CONFIG_BYTES",
    "describe_validation_error",
    "load_config",
    "load_jsonc",
    "parse_model",
    "parse_yaml",
    "read_config_text",
    "resolve_config",
    "validation_problems",
]

M = TypeVar("M", bound=BaseModel)

MAX_CONFIG_BYTES = 10 * 1024 * 1024
"""Largest campaign, profile or cluster file read (10 MiB); larger ones are refused."""


def read_config_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """Read a config file as UTF-8 text, refusing what no config file can be.

    Raises:
        ConfigFileError: If the file is missing, unreadable, a directory, larger than
            ``limit`` bytes, binary (holds a NUL byte) or not UTF-8; the message names the
            file, and the line and column of a bad byte.
    """
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ConfigFileError(path, "is a directory, not a file")
        if size > limit:
            raise ConfigFileError(
                path,
                f"{size / 2**20:.1f} MiB is larger than the {limit / 2**20:g} MiB "
                "limit for a config file",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(path, "no such file") from None
    except OSError as exc:
        raise ConfigFileError(path, f"cannot read: {exc.strerror}") from None
    if b"\0" in data:
        line, column = position(data.decode("latin-1"), data.index(b"\0"))
        raise ConfigFileError(
            path, "a binary file, not a text config file", line=line, column=column
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = position(data.decode("latin-1"), exc.start)
        raise ConfigFileError(
            path,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line=line,
            column=column,
        ) from None


def load_jsonc(path: Path) -> Any:
    """Parse a JSON, JSONC (comments, trailing commas) or JSON5 file.

    Raises:
        ConfigFileError: If the file cannot be read as text (see :func:`read_config_text`)
            or is not valid JSONC; the message carries ``file:line:column``. Duplicate
            keys are errors, not silently overwritten.
    """
    return parse_jsonc(read_config_text(path), str(path))


def parse_yaml(text: str, source: str) -> Any:
    """Parse a YAML document (PyYAML's safe loader).

    Raises:
        ConfigFileError: For a syntax error (with its line and column) or a document
            nested too deeply to parse.
    """
    import yaml  # JSON-only commands (campaign validate) never pay for it

    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise ConfigFileError(source, "YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigFileError(
            source,
            f"YAML syntax error: {problem}",
            line=mark.line + 1 if mark is not None else None,
            column=mark.column + 1 if mark is not None else None,
        ) from None


def load_config(path: Path) -> Any:
    """Read a YAML (``.yaml``/``.yml``) or JSON/JSONC file, by its suffix.

    Raises:
        ConfigFileError: If the file cannot be read as text or parsed; see
            :func:`read_config_text`, :func:`parse_yaml` and :func:`load_jsonc`.
    """
    if path.suffix in (".yaml", ".yml"):
        return parse_yaml(read_config_text(path), str(path))
    return load_jsonc(path)


def resolve_config(ref: str | Path, packaged: Mapping[str, Path], what: str) -> Path:
    """Find a config file given as a path or as the name of a packaged one.

    Args:
        ref: A file path, or a packaged name.
        packaged: Packaged names to their files.
        what: What is looked for ("campaign", "profile"), for the message.

    Raises:
        ConfigFileError: If ``ref`` is neither an existing file nor a packaged name.
    """
    candidate = Path(ref).expanduser()
    if candidate.is_file():
        return candidate
    if isinstance(ref, str) and is_valid_name(ref) and ref in packaged:
        return packaged[ref]
    raise ConfigFileError(
        ref, f"no such {what} file or packaged {what} (packaged: {', '.join(packaged) or 'none'})"
    )


def validation_problems(exc: ValidationError) -> list[str]:
    """A pydantic error as one line per problem, each naming its dotted key."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "<top level>"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {key!r}")
        elif err["type"] == "missing":
            lines.append(f"missing required key {key!r}")
        else:
            lines.append(f"{key}: {err['msg']}")
    return lines


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """Render a pydantic error as lines naming the source file and each dotted key."""
    return "\n".join(f"{source}: {problem}" for problem in validation_problems(exc))


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate ``data`` as ``model``, raising a ConfigFileError that names file and key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigFileError(source, *validation_problems(exc)) from None
