"""Per-function rules from the bypass/cache YAML (``bypass:`` and ``cache:`` sections)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chia.errors import ChiaUsageError

__all__ = ["Rule", "load_rules", "rules_from_config"]


@dataclass(frozen=True)
class Rule:
    """One function's entry in a section.

    Attributes:
        enabled: The ``bypass: true`` / ``cache: true`` flag (or the ``fn: true`` shorthand).
        data: The ``data:`` path (bypass only), or None.
        tags: Regex patterns; when given, a call's tag must ``re.fullmatch`` one of them.
    """

    enabled: bool
    data: str | None = None
    tags: tuple[str, ...] = ()

    def matches(self, tag: str | None) -> bool:
        """True when the call's ``tag`` passes this rule's ``tags`` patterns."""
        if not self.tags:
            return True
        return tag is not None and any(re.fullmatch(p, tag) for p in self.tags)


def _read_yaml(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ChiaUsageError(f"bypass/cache config not found: {path}")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ChiaUsageError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ChiaUsageError(f"{path}: the top level must be a mapping")
    return data


def _parse_tags(where: str, raw: Any) -> tuple[str, ...]:
    patterns = [raw] if isinstance(raw, str) else raw
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ChiaUsageError(f"{where}: 'tags' must be a string or a list of strings")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ChiaUsageError(f"{where}: bad tag pattern {pattern!r}: {exc}") from exc
    return tuple(patterns)


def _parse_rule(where: str, flag: str, raw: Any, allow_data: bool) -> Rule:
    if isinstance(raw, bool):
        return Rule(enabled=raw)
    if not isinstance(raw, dict):
        raise ChiaUsageError(f"{where}: expected true/false or a mapping, got {raw!r}")
    allowed = {flag, "tags"} | ({"data"} if allow_data else set())
    unknown = set(raw) - allowed
    if unknown:
        raise ChiaUsageError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}"
        )
    enabled = raw.get(flag, False)
    if not isinstance(enabled, bool):
        raise ChiaUsageError(f"{where}: {flag!r} must be true or false")
    data = raw.get("data")
    if data is not None and not isinstance(data, str):
        raise ChiaUsageError(f"{where}: 'data' must be a path string")
    tags = _parse_tags(where, raw["tags"]) if "tags" in raw else ()
    return Rule(enabled=enabled, data=data, tags=tags)


def load_rules(yaml_path: str, section: str, allow_data: bool) -> dict[str, Rule]:
    """Parse one section (``bypass`` or ``cache``) of the YAML into per-function rules.

    Args:
        yaml_path: The YAML file.
        section: The top-level key; its entries' flag has the same name.
        allow_data: Whether entries may carry a ``data:`` path.

    Raises:
        ChiaUsageError: If the file is missing or an entry is malformed.
    """
    body = _read_yaml(yaml_path).get(section) or {}
    if not isinstance(body, dict):
        raise ChiaUsageError(f"{yaml_path}: '{section}:' must be a mapping of function names")
    return {
        str(name): _parse_rule(f"{yaml_path}: {section}.{name}", section, raw, allow_data)
        for name, raw in body.items()
    }


def rules_from_config(config: Any, where: str, section: str) -> dict[str, Rule]:
    """Rules from an in-memory config, as passed to an actor rather than read from YAML.

    Each value may be a ``Rule``, ``true``/``false``, a tag pattern or list of patterns
    (the parsed form ``{fn: True | [patterns]}``), or a mapping like a YAML entry.

    Args:
        config: Mapping of function names to entries, or None for no rules.
        where: What to name in error messages.
        section: The flag key of mapping entries (``bypass`` or ``cache``).

    Raises:
        ChiaUsageError: If ``config`` is not a mapping or an entry is malformed.
    """
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ChiaUsageError(f"{where}: expected a mapping of function names, got {config!r}")
    rules: dict[str, Rule] = {}
    for name, raw in config.items():
        entry = f"{where}: {section}.{name}"
        if isinstance(raw, Rule):
            rules[str(name)] = raw
        elif isinstance(raw, (str, list)):
            rules[str(name)] = Rule(enabled=True, tags=_parse_tags(entry, raw))
        else:
            rules[str(name)] = _parse_rule(entry, section, raw, section == "bypass")
    return rules
