"""index_key: short text as it is, long text bounded, never two texts on one key."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orgledger.projections.index_key import SHORT, index_key


def test_short_text_is_its_own_key_and_long_text_is_bounded() -> None:
    assert index_key("org-1") == "org-1"
    assert index_key("é" * SHORT) == "é" * SHORT
    long = "漢" * 3000
    assert len(index_key(long).encode()) <= 4 * SHORT + 64
    assert index_key(long).startswith("漢" * SHORT)


def test_a_long_texts_key_is_longer_than_any_short_text() -> None:
    long = "a" * (SHORT + 1)
    assert len(index_key(long)) > SHORT
    # Even a short text that spells out a long one's key is not that key.
    assert index_key(index_key(long)) != index_key(long)


@given(st.text(min_size=SHORT - 2, max_size=SHORT + 3), st.text(min_size=SHORT - 2, max_size=SHORT + 3))
def test_different_texts_have_different_keys(a: str, b: str) -> None:
    assert (index_key(a) == index_key(b)) == (a == b)
