from __future__ import annotations

import pytest

from chia.errors import ChiaUsageError
from chia.jsonc import MAX_NESTING, parse_jsonc, position


def test_jsonc_and_json5_syntax_parse():
    text = "// top\n{\n  name: 'x', /* inline */ \"list\": [1, 2,],\n}\n"
    assert parse_jsonc(text, "f") == {"name": "x", "list": [1, 2]}


def test_syntax_error_points_at_the_offending_character():
    with pytest.raises(ChiaUsageError, match=r"^f:3:11: JSON syntax error: Stray comma$"):
        parse_jsonc('{\n "a": 1,\n  b: [1,2,,]\n}', "f")
    expected = r"^f:1:15: JSON syntax error: Expected a value, found '}'$"
    with pytest.raises(ChiaUsageError, match=expected):
        parse_jsonc('{"a": 1, "b": }', "f")


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ('{"a": 1, "a": 2}', "1:10", "a"),
        ("{a: 1, 'a': 2}", "1:8", "a"),
        ('{"x": {"k": 1}, "y": {"k": 2, "b\\u0061": 1, "ba": 3}}', "1:45", "ba"),
    ],
)
def test_a_key_twice_in_one_object_is_an_error(text, where, key):
    with pytest.raises(ChiaUsageError, match=rf"^f:{where}: .*Duplicate key '{key}'"):
        parse_jsonc(text, "f")


def test_equal_keys_in_different_objects_and_keys_inside_strings_and_comments_pass():
    text = '{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "a: 1, a: 2", /* "c": */ "d": 1}'
    assert parse_jsonc(text, "f")["d"] == 1


def test_empty_and_deeply_nested_documents_are_refused_clearly():
    with pytest.raises(ChiaUsageError, match=r"^f: empty file"):
        parse_jsonc("  \n", "f")
    deep = "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
    with pytest.raises(ChiaUsageError, match=rf"nested deeper than {MAX_NESTING} levels"):
        parse_jsonc(deep, "f")
    shallow = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert parse_jsonc(shallow, "f") is not None


def test_position_counts_lines_and_columns_from_one():
    assert position("ab\ncd", 0) == (1, 1)
    assert position("ab\ncd", 4) == (2, 2)
    assert position("ab", 99) == (1, 3)


def test_extra_data_after_the_document_points_at_it():
    with pytest.raises(ChiaUsageError, match=r"^f:1:11: JSON syntax error: Extra data '}'$"):
        parse_jsonc('{"a": 1, }}', "f")
