// DuckDB baseline for the DataPrep benchmark: the same job as
// `dataprep convert IN --out OUT --train 0.8 --validation 0.1 --test 0.1`,
// done in SQL inside one node process (which run.sh times as a whole).
//
//   node bench/duckdb-job.mjs IN OUT [THREADS]
//   node bench/duckdb-job.mjs --version      # prints DuckDB's version and exits
//
// Writes OUT/{train,validation,test}/part-00000.csv without a header. The
// split is by random() per row, so its sizes are only approximately 80/10/10.
// Columns keep the input order (the label is first in the benchmark input).

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

async function connect(threads) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`SET threads=${Number(threads)}`);
  // W3 (bench/scale.sh): the same job under a memory cap, spilling to a temp directory.
  if (process.env.DUCKDB_MEMORY_LIMIT) await conn.run(`SET memory_limit=${sqlString(process.env.DUCKDB_MEMORY_LIMIT)}`);
  if (process.env.DUCKDB_TEMP_DIRECTORY) await conn.run(`SET temp_directory=${sqlString(process.env.DUCKDB_TEMP_DIRECTORY)}`);
  return conn;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--version') {
    const conn = await connect(1);
    const reader = await conn.runAndReadAll('select version()');
    console.log(reader.getRows()[0][0]);
    return;
  }
  if (argv.length < 2) {
    console.error('usage: node duckdb-job.mjs IN OUT [THREADS]');
    process.exit(2);
  }
  const input = resolve(argv[0]);
  const out = resolve(argv[1]);
  const threads = argv[2] ?? '2';

  const t0 = performance.now();
  const conn = await connect(threads);
  await conn.run(`create table t as select *, random() r from read_csv(${sqlString(input)})`);
  const t1 = performance.now();

  const splits = [
    ['train', 0.0, 0.8],
    ['validation', 0.8, 0.9],
    ['test', 0.9, 1.0],
  ];
  for (const [name, lo, hi] of splits) {
    const dir = join(out, name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'part-00000.csv');
    await conn.run(
      `copy (select * exclude(r) from t where r >= ${lo} and r < ${hi} order by r) ` +
        `to ${sqlString(file)} (header false)`,
    );
  }
  const t2 = performance.now();
  console.error(`duckdb-job: load ${((t1 - t0) / 1000).toFixed(2)} s, split+write ${((t2 - t1) / 1000).toFixed(2)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
