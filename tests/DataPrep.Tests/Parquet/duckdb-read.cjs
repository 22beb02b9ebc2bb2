// Reads DataPrep's Parquet output with DuckDB (@duckdb/node-api, pinned in the root package.json), a reader
// independent of Parquet.Net, and prints what ParquetDuckDbTests compares with what DataPrep wrote, as one JSON line:
//
//   node duckdb-read.cjs FILE...
//   {"columns":[{"name":"churn","type":"BIGINT"},…],"rows":1600,"sums":["417",…],"rowGroups":2,"first":["0",…]}
//
// The files are read together, as one table (as a SageMaker channel is). Sums are DuckDB's text of sum(column):
// exact for integers; for doubles, one thread keeps the summation order (file order), so the test compares them
// with a tolerance only. "first" is the first row, every value as DuckDB's VARCHAR cast.
const { DuckDBInstance } = require('@duckdb/node-api');

const quote = (text, q) => q + text.replaceAll(q, q + q) + q;

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: node duckdb-read.cjs FILE...');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const list = '[' + files.map((f) => quote(f, "'")).join(', ') + ']';
  const table = `read_parquet(${list})`;
  const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${table}`)).getRowObjectsJson();
  const columns = described.map((r) => ({ name: r.column_name, type: r.column_type }));
  const sums = columns.map((c) => `sum(${quote(c.name, '"')})::VARCHAR`).join(', ');
  const [aggregate] = (await con.runAndReadAll(`SELECT count(*)::BIGINT, ${sums} FROM ${table}`)).getRowsJson();
  const [groups] = (await con.runAndReadAll(`SELECT count(DISTINCT (file_name, row_group_id))::BIGINT FROM parquet_metadata(${list})`)).getRowsJson();
  const firstRow = columns.map((c) => `${quote(c.name, '"')}::VARCHAR`).join(', ');
  const [first] = (await con.runAndReadAll(`SELECT ${firstRow} FROM ${table} LIMIT 1`)).getRowsJson();
  console.log(JSON.stringify({
    columns,
    rows: Number(aggregate[0]),
    sums: aggregate.slice(1),
    rowGroups: Number(groups[0]),
    first: first ?? null,
  }));
})().catch((e) => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
