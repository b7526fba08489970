#!/usr/bin/env python3
"""Prints the rows of mercury's quotes Parquet files as JSON Lines, read
with pyarrow (an independent reader), after checking the column types:

    price          decimal128(38, 18)   printed as its exact decimal text
    exchange_time  timestamp[ns, tz=UTC] printed as integer nanoseconds (or null)
    received_at    timestamp[ns, tz=UTC] printed as integer nanoseconds
    exchange, symbol, kind              string, or a dictionary of strings

Usage: read_parquet.py FILE.parquet...   (exit 1 and a message on stderr
when a file is not of that schema). Used by tests/record_formats.rs.
"""
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

NAMES = ("exchange", "symbol", "kind")
TIMES = ("exchange_time", "received_at")
COLUMNS = ("seq", "conn", "conn_seq", "exchange", "symbol", "kind", "price",
           "exchange_time", "received_at", "after_gap")


def check_schema(path, schema):
    problems = []
    if tuple(schema.names) != COLUMNS:
        problems.append(f"columns {schema.names}")
    for name in NAMES:
        t = schema.field(name).type
        if not (pa.types.is_string(t) or
                (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type))):
            problems.append(f"{name} is {t}")
    if schema.field("price").type != pa.decimal128(38, 18):
        problems.append(f"price is {schema.field('price').type}")
    for name in TIMES:
        if schema.field(name).type != pa.timestamp("ns", tz="UTC"):
            problems.append(f"{name} is {schema.field(name).type}")
    for name in ("seq", "conn", "conn_seq"):
        if schema.field(name).type != pa.int64():
            problems.append(f"{name} is {schema.field(name).type}")
    if schema.field("after_gap").type != pa.bool_():
        problems.append(f"after_gap is {schema.field('after_gap').type}")
    metadata = schema.metadata or {}
    if metadata.get(b"mercury.schema_version") != b"1":
        problems.append("no mercury.schema_version 1")
    if problems:
        sys.exit(f"{path}: " + "; ".join(problems))


def main(paths):
    out = sys.stdout
    for path in paths:
        file = pq.ParquetFile(path)
        check_schema(path, file.schema_arrow)
        for batch in file.iter_batches(batch_size=8192):
            columns = {}
            for name in COLUMNS:
                column = batch.column(name)
                if name in TIMES:
                    column = column.cast(pa.int64())
                if name == "price":
                    columns[name] = [format(d, "f") for d in column.to_pylist()]
                else:
                    columns[name] = column.to_pylist()
            for i in range(batch.num_rows):
                out.write(json.dumps({name: columns[name][i] for name in COLUMNS}))
                out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
