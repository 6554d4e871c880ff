"""`is_kw_number` answers True or False for any text and never raises: one odd land-register number
(a Q or V in the court code, which has no check-digit value) in an imported GML must not stop the
whole import."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisportal.core.identifiers import InvalidInput, is_kw_number, kw_check_digit

KW_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/ abcqvx"


@pytest.mark.parametrize(
    "value",
    [
        "WA1Q/00012345/1",
        "QA1I/00012345/7",
        "WV1I/00012345/7",
        "VV9V/00000000/0",
        "wa1q/00012345/1",
        " WA1Q/00012345/1 ",
    ],
)
def test_q_or_v_in_the_court_code_is_false_not_an_exception(value):
    assert is_kw_number(value) is False


@pytest.mark.parametrize(
    "value", [None, 123, b"WA1I/00012345/7", "", "\x00", "WA1I/00012345/٧", "ＷA1I/00012345/7"]
)
def test_odd_values_are_false(value):
    assert is_kw_number(value) is False


def test_valid_numbers_still_pass():
    assert is_kw_number("WA1I/00012345/7") is True
    assert is_kw_number("wa1i/00012345/7") is True
    assert is_kw_number("WA1I/00012345/8") is False


def test_the_check_digit_function_still_refuses_q_with_a_clear_error():
    with pytest.raises(InvalidInput) as e:
        kw_check_digit("WA1Q", "00012345")
    assert e.value.code == "kw_format"


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(value):
    assert is_kw_number(value) in (True, False)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=KW_CHARS, min_size=10, max_size=20))
def test_kw_shaped_text_never_raises(value):
    assert is_kw_number(value) in (True, False)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[A-Z]{2}[0-9][A-Z]/[0-9]{8}/[0-9]\Z"))
def test_every_well_formed_number_is_answered(value):
    """Every string of the KW shape (any letters, Q and V included) gets True or False."""
    result = is_kw_number(value)
    assert result in (True, False)
    if any(c in "QV" for c in value.split("/")[0]):
        assert result is False
