"""The writer hands a batch's frames to DuckDB through `registered` (ingest/writer.py): every string
arrives as it was, short or long, non-ASCII, empty or NULL, and a frame of many pieces arrives whole
and in order."""

import duckdb
import polars as pl

from ingest.writer import registered

VALUES = ["", "a", "twelve bytes", "thirteen byte", "toolu_01ABCDEFGHIJKLMNOPQRSTUV" * 3, "é ü 漢字 🙂 over twelve bytes",
          None, "line\nbreak\ttab", "x" * 5000]


def test_strings_of_every_length_reach_duckdb_as_they_were():
    pieces = [pl.DataFrame({"k": VALUES, "n": list(range(len(VALUES)))}, schema={"k": pl.String, "n": pl.Int64})
              .with_columns(pl.col("n") + 100 * i) for i in range(3)]
    frame = pl.concat(pieces, rechunk=False)
    assert frame.n_chunks() == 3
    con = duckdb.connect()
    con.execute("CREATE TABLE t (k VARCHAR, n BIGINT, h UBIGINT)")
    with registered(con, "_incoming", frame):
        con.execute("INSERT INTO t BY NAME SELECT *, ('0x' || md5(k)[1:16])::UBIGINT AS h FROM _incoming")
    rows = con.execute("SELECT k, n, h FROM t ORDER BY n").fetchall()
    assert [(k, n) for k, n, _ in rows] == [(v, n + 100 * i) for i in range(3) for n, v in enumerate(VALUES)]
    # The stored hash is computed from the same bytes as a plain VARCHAR's.
    plain = dict(con.execute("SELECT k, ('0x' || md5(k)[1:16])::UBIGINT FROM (SELECT unnest(?::VARCHAR[]) AS k)",
                             [[v for v in VALUES if v is not None]]).fetchall())
    assert all(h == plain[k] for k, _, h in rows if k is not None)
    assert [h for k, _, h in rows if k is None] == [None, None, None]
