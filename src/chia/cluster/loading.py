"""Load a cluster YAML: expand ``${VAR}``, validate, and name the key and line of any error."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chia.cluster.config import ClusterConfig
from chia.config_files import parse_yaml, read_config_text
from chia.errors import ChiaUsageError, ConfigFileError

__all__ = ["cluster_schema", "expand_env", "key_lines", "load_cluster", "parse_cluster"]

Path_ = tuple[str | int, ...]

#: ``${VAR}`` or ``${VAR:-default}``.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def key_lines(text: str) -> dict[Path_, int]:
    """Map every key path of a YAML document to its 1-based line."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if root is not None:
        walk(root, ())
    return lines


def _line_of(path: Path_, lines: Mapping[Path_, int]) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _where(source: str, path: Path_, lines: Mapping[Path_, int]) -> str:
    line = _line_of(path, lines)
    return f"{source}:{line}" if line is not None else source


def _dotted(path: Path_) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def expand_env(
    value: Any, env: Mapping[str, str], source: str, lines: Mapping[Path_, int], path: Path_ = ()
) -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string of ``value``.

    Raises:
        ChiaUsageError: If a variable is unset and has no default; names key and line.
    """
    if isinstance(value, dict):
        return {k: expand_env(v, env, source, lines, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env, source, lines, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ChiaUsageError(
            f"{_where(source, path, lines)}: {_dotted(path)}: environment variable "
            f"${{{name}}} is not set"
        )

    return _PLACEHOLDER.sub(substitute, value)


def _describe(exc: ValidationError, source: str, lines: Mapping[Path_, int]) -> str:
    messages = []
    for err in exc.errors():
        path: Path_ = tuple(err["loc"])
        where, key = _where(source, path, lines), _dotted(path)
        if err["type"] == "extra_forbidden":
            messages.append(f"{where}: unknown key {key!r}")
        elif err["type"] == "missing":
            messages.append(f"{where}: missing required key {key!r}")
        else:
            messages.append(f"{where}: {key}: {err['msg']}")
    return "\n".join(messages)


def parse_cluster(
    text: str, source: str = "<cluster>", env: Mapping[str, str] | None = None
) -> ClusterConfig:
    """Parse and validate cluster YAML text.

    Args:
        text: The YAML document.
        source: Name used in messages (the file path).
        env: Values for ``${VAR}``; defaults to ``os.environ``.

    Raises:
        ChiaUsageError: For a YAML syntax error (with line), an unset variable, or a
            schema error (naming each key and its line).
    """
    data = parse_yaml(text, source)
    try:
        lines = key_lines(text)
    except RecursionError:
        raise ConfigFileError(source, "YAML nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigFileError(source, "a cluster file must be a YAML mapping")
    data = expand_env(data, os.environ if env is None else env, source, lines)
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as exc:
        raise ChiaUsageError(_describe(exc, source, lines)) from None


def load_cluster(path: Path, env: Mapping[str, str] | None = None) -> ClusterConfig:
    """Read and validate a cluster file.

    Raises:
        ChiaUsageError: If the file is missing or invalid (see :func:`parse_cluster`).
    """
    return parse_cluster(read_config_text(path), str(path), env)


def cluster_schema() -> dict[str, Any]:
    """The JSON Schema of cluster files, for editors and validators."""
    schema = ClusterConfig.model_json_schema()
    schema["title"] = "chia cluster file"
    return schema
