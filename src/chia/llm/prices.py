"""Model prices: what one call cost, from a price table per provider and model.

Prices are USD per million tokens: ``input``, ``output`` and ``cached_input`` (prompt
tokens the provider served from its cache; the input price when not given). Three layers,
the later winning per model:

1. the package's table (``chia/llm/prices.json``: indicative public list prices, dated
   by its ``as_of``),
2. the campaign's top-level ``prices`` (``{provider: {model: {input, output,
   cached_input}}}``),
3. a user price file: ``$CHIA_PRICES``, then ``chia spawn-site --prices FILE``.

A price file (JSON or YAML) holds ``{"prices": {provider: {model: ...}}}`` and may say
``as_of`` and ``note``. A model is found by its exact name, or by its name without a date
suffix (``claude-sonnet-4-5-20250929`` is priced as ``claude-sonnet-4-5``). A model with
no price costs ``None`` (never 0), with the reason in the call's ``cost_note``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from chia.config_files import load_config, parse_model

__all__ = [
    "PRICES_ENV",
    "CallCost",
    "ModelPrice",
    "PriceFile",
    "PriceMap",
    "PriceTable",
    "load_price_file",
    "package_prices",
    "user_prices",
]

#: The variable naming a user price file.
PRICES_ENV = "CHIA_PRICES"
_DATE_SUFFIX = re.compile(r"^(?P<base>.+?)-(?:\d{8}|\d{4}-\d{2}-\d{2})(?:[-:@].*)?$")


class ModelPrice(BaseModel):
    """One model's prices, USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, description="USD per million prompt tokens.")
    output: float = Field(ge=0, description="USD per million completion tokens.")
    cached_input: float | None = Field(
        None, ge=0, description="USD per million cached prompt tokens (default: input)."
    )


#: Prices by provider, then model.
PriceMap = dict[str, dict[str, ModelPrice]]


class PriceFile(BaseModel):
    """A price file: the table, and when and where its prices come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: str | None = Field(None, description="When the prices were taken.")
    note: str = ""
    prices: PriceMap


def load_price_file(path: Path) -> PriceFile:
    """Read and check a price file (JSON, JSONC or YAML, by its suffix).

    Raises:
        ConfigFileError: For a missing, unreadable or over-large file, bad JSON/YAML (with
            line and column), an unknown key or a negative price; the message names the
            file and the field.
    """
    return parse_model(PriceFile, load_config(path), str(path))


@functools.cache
def package_prices() -> PriceFile:
    """The package's indicative price table (read once per process; do not modify it)."""
    source = resources.files("chia.llm").joinpath("prices.json")
    return parse_model(PriceFile, json.loads(source.read_text()), "chia/llm/prices.json")


def user_prices(path: Path | None = None, environ: Mapping[str, str] | None = None) -> PriceMap:
    """The user's prices: ``$CHIA_PRICES``'s file, then ``path`` over it (empty if neither).

    Raises:
        ConfigFileError: If a named file cannot be used (see :func:`load_price_file`).
    """
    merged: PriceMap = {}
    named = (os.environ if environ is None else environ).get(PRICES_ENV, "").strip()
    for source in (Path(named).expanduser() if named else None, path):
        if source is not None:
            _merge(merged, load_price_file(source).prices)
    return merged


def _merge(into: PriceMap, layer: Mapping[str, Mapping[str, ModelPrice]]) -> None:
    for provider, models in layer.items():
        into.setdefault(provider, {}).update(models)


@dataclass(frozen=True)
class CallCost:
    """What one call cost, or why that is unknown.

    Attributes:
        usd: The cost in USD, or None when the model has no price.
        note: Where the price came from, or why there is none.
    """

    usd: float | None
    note: str


@dataclass
class PriceTable:
    """Prices layered package < campaign < user, and the cost of a call.

    Args:
        layers: ``(source, prices)`` pairs, later ones winning per model.
    """

    layers: list[tuple[str, Mapping[str, Mapping[str, ModelPrice]]]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        campaign: Mapping[str, Mapping[str, ModelPrice]] | None = None,
        user: Mapping[str, Mapping[str, ModelPrice]] | None = None,
    ) -> PriceTable:
        """The package's table, then the campaign's ``prices``, then the user's."""
        shipped = package_prices()
        layers: list[tuple[str, Mapping[str, Mapping[str, ModelPrice]]]] = [
            (f"package prices as of {shipped.as_of}", shipped.prices)
        ]
        if campaign:
            layers.append(("campaign prices", campaign))
        if user:
            layers.append(("user prices", user))
        return cls(layers)

    def find(self, provider: str, model: str) -> tuple[ModelPrice, str] | None:
        """The price of ``provider``'s ``model`` and its source, or None."""
        names = [model]
        dated = _DATE_SUFFIX.match(model)
        if dated is not None:
            names.append(dated["base"])
        for name in names:
            for source, prices in reversed(self.layers):
                price = prices.get(provider, {}).get(name)
                if price is not None:
                    return price, f"{source} for {provider}:{name}"
        return None

    def cost(
        self,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        tokens_cached: int = 0,
        *,
        asked: str | None = None,
    ) -> CallCost:
        """The cost of one call; ``tokens_in`` includes the ``tokens_cached`` ones.

        Args:
            provider: The provider name as configured.
            model: The model that answered.
            tokens_in: Prompt tokens.
            tokens_out: Completion tokens.
            tokens_cached: Prompt tokens served from the provider's cache.
            asked: The model name asked for, tried when ``model`` has no price.
        """
        found = self.find(provider, model)
        if found is None and asked is not None and asked != model:
            found = self.find(provider, asked)
        if found is None:
            sources = ", ".join(source for source, _ in self.layers) or "no price table"
            return CallCost(None, f"no price for {provider}:{model} ({sources})")
        price, source = found
        cached = min(tokens_cached, tokens_in)
        cached_price = price.input if price.cached_input is None else price.cached_input
        usd = ((tokens_in - cached) * price.input + cached * cached_price) / 1e6
        usd += tokens_out * price.output / 1e6
        return CallCost(round(usd, 9), source)
