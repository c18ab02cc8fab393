"""The fast forms of the edit counts agree with their definitions, line by line."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.edits import diff_line_counts, hashed_lines, line_hash

LINES = st.lists(st.sampled_from(["", "  ", "}", "return x", "  return   x ", "\treturn x", "a = 1", "é", "\x0c"]),
                 max_size=12)


@settings(max_examples=300, deadline=None)
@given(LINES, LINES)
def test_diff_line_counts_counts_the_lines_only_in_one_side_with_multiplicity(old, new):
    before, after = "\n".join(old), "\n".join(new)
    old_count, new_count = Counter(before.splitlines()), Counter(after.splitlines())
    assert diff_line_counts(before, after) == (sum((new_count - old_count).values()), sum((old_count - new_count).values()))


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_hashed_lines_counts_the_hash_of_every_non_blank_normalised_line(lines):
    assert hashed_lines(lines) == Counter(line_hash(line) for line in lines if line_hash(line))
    assert list(hashed_lines(lines)) == list(dict.fromkeys(h for h in map(line_hash, lines) if h))  # first-seen order


def test_a_worked_edit():
    assert diff_line_counts("a\nb\nb\nc", "a\nb\nd\nd") == (2, 2)  # +d +d, -b -c
    assert diff_line_counts("a\nb", "c\nd\ne") == (3, 2)  # nothing shared
    assert diff_line_counts("a\nb\nc", "c\nb\nx") == (1, 1)  # no repeats: b and c shared, +x -a
    assert diff_line_counts("}\n}\n}\nx", "}\ny") == (1, 3)  # one of three } shared: +y, -} -} -x
    assert hashed_lines(["return  x", "", "return x", " }"]) == {line_hash("return x"): 2, line_hash("}"): 1}
