import pytest

from chia.base.llm_call import LLMCallBase, QueryResult


def test_query_result_fields_as_documented():
    result = QueryResult(result="r", returncode=0, stderr="", stream_result="t")
    assert result.success is False
    assert QueryResult("r", 0, "", "t", True).success


def test_llm_call_base_is_abstract():
    with pytest.raises(TypeError):
        LLMCallBase("sys")  # type: ignore[abstract]

    class Echo(LLMCallBase):
        def prompt(self, user_message, tools=()):
            return QueryResult(user_message, 0, "", self.system_message, True)

    assert Echo("sys").prompt("hi") == QueryResult("hi", 0, "", "sys", True)
