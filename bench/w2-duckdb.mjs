// DuckDB side of W2 (issue 8): time split 80/20 on `date`, label `delay`, feature `distance`, label-first CSV.
//
//   node bench/w2-duckdb.mjs IN.parquet OUT [THREADS]
//
// Writes OUT/train/part-00000.csv and OUT/test/part-00000.csv without a header.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const sql = (s) => `'${s.replaceAll("'", "''")}'`;
const [input, out, threads = '2'] = process.argv.slice(2);
const conn = await (await DuckDBInstance.create(':memory:')).connect();
await conn.run(`SET threads=${Number(threads)}`);
await conn.run(`create table t as select date, delay, distance from ${sql(resolve(input))}`);
await conn.run('create table q as select quantile_disc(date, 0.8) c from t');
for (const [name, op] of [['train', '<='], ['test', '>']]) {
  const dir = join(resolve(out), name);
  mkdirSync(dir, { recursive: true });
  await conn.run(`copy (select delay, distance from t where date ${op} (select c from q)) to ${sql(join(dir, 'part-00000.csv'))} (header false)`);
}
