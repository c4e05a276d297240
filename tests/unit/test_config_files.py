from __future__ import annotations

import pytest

from chia.config_files import load_config, load_jsonc, read_config_text
from chia.errors import ChiaUsageError, ConfigFileError


def test_utf8_text_is_read(tmp_path):
    path = tmp_path / "c.jsonc"
    path.write_text('{"greeting": "grüß dich"}', encoding="utf-8")
    assert load_jsonc(path) == {"greeting": "grüß dich"}


def test_a_file_that_is_not_utf8_names_line_column_and_byte(tmp_path):
    path = tmp_path / "latin1.jsonc"
    path.write_bytes('{\n  "name": "gr\xfc\xdf"\n}'.encode("latin-1"))
    with pytest.raises(ChiaUsageError, match=rf"^{path}:2:14: not UTF-8 text \(byte 0xfc\)"):
        read_config_text(path)


def test_the_error_carries_file_line_and_column(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'{\n  "name": "gr\xfc"\n}')
    with pytest.raises(ConfigFileError) as info:
        read_config_text(path)
    assert (info.value.path, info.value.line, info.value.column) == (str(path), 2, 14)
    assert info.value.problems == ("not UTF-8 text (byte 0xfc); save the file as UTF-8",)
    assert info.value.exit_code == 2


def test_a_binary_file_is_refused(tmp_path):
    path = tmp_path / "blob.jsonc"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ChiaUsageError, match="a binary file, not a text config file"):
        read_config_text(path)


def test_a_file_over_the_limit_is_refused_naming_the_limit(tmp_path):
    path = tmp_path / "big.jsonc"
    path.write_bytes(b" " * 2048)
    with pytest.raises(ChiaUsageError, match=r"larger than the 0.00\d+ MiB limit"):
        read_config_text(path, limit=1024)
    assert read_config_text(path, limit=4096).isspace()


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ChiaUsageError, match="no such file"):
        read_config_text(tmp_path / "nope")
    with pytest.raises(ChiaUsageError, match="is a directory"):
        read_config_text(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonc"
    path.write_text("")
    with pytest.raises(ChiaUsageError, match="empty file"):
        load_jsonc(path)


def test_load_config_reads_yaml_or_jsonc_by_suffix(tmp_path):
    (tmp_path / "a.yaml").write_text("a: {b: 1}\n")
    (tmp_path / "a.json").write_text('{"a": {"b": 1,}, // a comment\n}')
    assert load_config(tmp_path / "a.yaml") == load_config(tmp_path / "a.json") == {"a": {"b": 1}}
    (tmp_path / "bad.yml").write_text("a:\n  - [1, 2\n")
    with pytest.raises(ConfigFileError, match=r"bad\.yml:3:1: YAML syntax error") as caught:
        load_config(tmp_path / "bad.yml")
    assert (caught.value.line, caught.value.column) == (3, 1)
