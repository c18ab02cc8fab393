"""Money adds up exactly: the same rows give the same figures whatever order they arrive in."""

from __future__ import annotations

import itertools

from analytics import queries


def test_money_sums_do_not_depend_on_the_order_rows_arrive_in(ledger):
    con = ledger
    queries.prepare(con)
    assert con.execute("SELECT exact_sum(0.1::DOUBLE) FROM range(10)").fetchall()[0][0] == 1.0
    # A binary sum of these gives 0.6 or 0.6000000000000001 depending on the order; the exact sum 0.6.
    values = [0.1, 0.2, 0.3]
    plain, exact = set(), set()
    for order in itertools.permutations(values):
        con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT unnest(?::DOUBLE[]) AS x", [list(order)])
        plain.add(con.execute("SELECT sum(x) FROM v").fetchall()[0][0])
        exact.add(con.execute("SELECT exact_sum(x) FROM v").fetchall()[0][0])
    assert plain == {0.6, 0.6000000000000001}
    assert exact == {0.6}
    assert con.execute("SELECT exact_sum_if(x, x > 0.15) FROM v").fetchall()[0][0] == 0.5
    assert con.execute("SELECT exact_sum(NULL::DOUBLE)").fetchall()[0][0] is None
