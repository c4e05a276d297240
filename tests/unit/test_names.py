from __future__ import annotations

import os

import pytest

from chia.errors import ChiaUsageError
from chia.names import check_name, is_valid_name, random_id


@pytest.mark.parametrize("name", ["a", "run-1", "agent_aurora.2", "A" * 64, "9lives"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", ".x", "a b", "a/b", "A" * 65, "ünïcode", "a\n"])
def test_invalid_names_are_named_in_the_error(name):
    assert not is_valid_name(name)
    with pytest.raises(ChiaUsageError, match="invalid run id"):
        check_name(name, "run id")


def test_random_ids_are_unique_hex_of_uuid_shape():
    ids = [random_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_forked_child_draws_its_own_id_prefix():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report one id and leave at once
        os.write(write, random_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = random_id()
    assert len(child) == 32 and child[:16] != parent[:16]
