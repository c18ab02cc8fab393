"""Scrubbing a column only where some rule matches gives what every rule over every value gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.secrets import REDACTED, scrub_expr, scrub_frame

# Pieces that the rules match, half match, or that sit next to a secret in a real command line.
PIECES = ["AKIAZ7VJ4QK3LD8MN2PX", "ghp_4fT7qLm2Zx9Kd1Vb8Nw3Rj6Yc0Hs5Pa2Ue7Gi", "sk-ant-api03-Qz7Lm2Xk9Vd4Tb8Nw1Rj6",
         "Authorization: Bearer ", "bearer abc.def-ghi", "https://alice:pw@host/x", "--password", "=", " -p", "mysql",
         "DB_PASSWORD", "token", ":", "'quoted secret'", '"', "-----BEGIN RSA PRIVATE KEY-----", "\n", " ", "&&", "ls -la",
         "git commit -m 'fix'", "sshpass -p hunter2", "eyJhbGciOi.eyJzdWIiOi.kQ2vR7tY9u", "xoxb-2048175930-58", "é"]
TEXTS = st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=8).map("".join), st.text(max_size=30))


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=12))
def test_scrubbing_only_the_values_a_rule_matches_changes_nothing_else(values):
    frame = pl.DataFrame({"command": values, "n": list(range(len(values)))}, schema={"command": pl.String, "n": pl.Int64})
    every_value = frame.select(scrub_expr(pl.col("command")))["command"].to_list()
    assert scrub_frame(frame, ("command",))["command"].to_list() == every_value
    assert frame["command"].to_list() == values  # the frame passed in is left as it was


def test_a_secret_is_redacted_and_its_neighbours_kept():
    frame = pl.DataFrame({"command": ["ls", "curl -H 'Authorization: Bearer abcdefghijk' x", None]})
    assert scrub_frame(frame, ("command",))["command"].to_list() == [
        "ls", f"curl -H 'Authorization: Bearer {REDACTED}' x", None]
