from __future__ import annotations

import pytest

from chia import assets


def test_every_asset_folder_is_found():
    for name in assets.ASSET_NAMES:
        assert assets.path(name).is_dir()
    assert (assets.path("campaigns") / "federated-chat" / "campaign.jsonc").is_file()


def test_unknown_asset_folder():
    with pytest.raises(ValueError, match="unknown asset folder"):
        assets.path("secrets")  # type: ignore[arg-type]
