from __future__ import annotations

import pytest

from chia.errors import ChiaUsageError
from chia.names import check_name, is_valid_name


@pytest.mark.parametrize("name", ["a", "run-1", "agent_aurora.2", "A" * 64, "9lives"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", ".x", "a b", "a/b", "A" * 65, "ünïcode", "a\n"])
def test_invalid_names_are_named_in_the_error(name):
    assert not is_valid_name(name)
    with pytest.raises(ChiaUsageError, match="invalid run id"):
        check_name(name, "run id")
