// Writes the Parquet test fixtures of DataPrep with tools other than the reader under test:
// DuckDB (@duckdb/node-api, pinned) for almost everything, and hyparquet-writer for the one file
// DuckDB cannot write (columns marked REQUIRED). DuckDB also renders the expected values, so the
// tests compare what Parquet.Net reads with what another implementation reads from the same bytes.
//
//   cd tools/parquet-fixtures && npm ci && node make.mjs
//
// Output: tests/DataPrep.Tests/Fixtures/parquet/ (committed; every file is small).
import { mkdirSync, readFileSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetWriteBuffer } from 'hyparquet-writer';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'tests', 'DataPrep.Tests', 'Fixtures', 'parquet');
mkdirSync(out, { recursive: true });
const at = (name) => join(out, name).replaceAll("'", "''");

// One thread and insertion order kept, so row order in every file is the order of the query.
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
const run = (sql) => con.run(sql);
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
await run("SET TimeZone = 'UTC'");
await run('SET preserve_insertion_order = true');

// ---------------------------------------------------------------------------------------------
// types: 300 rows of every scalar type DataPrep maps, NULLs in every column except id.
// Each column is NULL on its own stride of rows; row 2 is NULL in every column but id.
// The table is built from three UNION ALL parts of 100 rows: DuckDB closes a row group only
// between the chunks it receives, so ROW_GROUP_SIZE 100 alone still gives one group of 300.
const typesSelect = (from, to) => `
  SELECT
    i::BIGINT AS id,
    CASE WHEN i % 7 = 1 OR i = 2 THEN NULL ELSE ((i * 37) % 256 - 128)::TINYINT END AS i8,
    CASE WHEN i % 11 = 3 OR i = 2 THEN NULL ELSE ((i * 1237) % 65536 - 32768)::SMALLINT END AS i16,
    CASE WHEN i % 13 = 4 OR i = 2 THEN NULL ELSE ((i * 1234567) % 4294967296 - 2147483648)::INTEGER END AS i32,
    CASE WHEN i % 17 = 5 OR i = 2 THEN NULL
         WHEN i = 0 THEN -9223372036854775808
         WHEN i = 1 THEN 9223372036854775807
         ELSE i * 987654321987 - 123456789012345 END::BIGINT AS i64,
    CASE WHEN i % 19 = 6 OR i = 2 THEN NULL ELSE ((i * 97) % 256)::UTINYINT END AS u8,
    CASE WHEN i % 23 = 7 OR i = 2 THEN NULL ELSE ((i * 4099) % 4294967296)::UINTEGER END AS u32,
    CASE WHEN i % 5 = 2 OR i = 2 THEN NULL ELSE (i * 0.37 - 50.5)::FLOAT END AS f32,
    CASE WHEN i % 6 = 2 OR i = 2 THEN NULL
         WHEN i = 3 THEN 1.0e300
         WHEN i = 4 THEN -2.5e-300
         ELSE (i - 150) * pi() / 7 END::DOUBLE AS f64,
    CASE WHEN i % 8 = 2 OR i = 2 THEN NULL ELSE i % 3 = 0 END AS b,
    CASE WHEN i % 9 = 2 OR i = 2 THEN NULL
         WHEN i % 10 = 0 THEN ''
         WHEN i % 10 = 1 THEN 'héllo wörld ✓ ' || i
         WHEN i % 10 = 3 THEN 'quote " comma , newline' || chr(10) || 'tab' || chr(9) || i
         ELSE 'row-' || i END AS s,
    CASE WHEN i % 10 = 2 THEN NULL ELSE DATE '1969-12-25' + (i * 97)::INTEGER END AS d,
    CASE WHEN i % 12 = 2 THEN NULL ELSE make_timestamp(-200000000000000 + i * 1234567890123 + i) END AS ts,
    CASE WHEN i % 14 = 2 THEN NULL ELSE make_timestamp(1700000000000000 - i * 98765432109 - 7 * i)::TIMESTAMPTZ END AS tstz,
    CASE WHEN i % 15 = 2 THEN NULL ELSE make_timestamp(1000000000000000 + i * 3600000123)::TIMESTAMP_MS END AS ts_ms,
    CASE WHEN i % 16 = 2 THEN NULL
         ELSE make_timestamp_ns(-100000000000000000 + i * 7777777777777777 + i * 1234567)::TIMESTAMP_NS END AS ts_ns,
    CASE WHEN i % 18 = 2 THEN NULL ELSE (i * 12345.67 - 1800000)::DECIMAL(10,2) END AS dec10_2,
    CASE WHEN i % 20 = 2 OR i = 2 THEN NULL
         WHEN i = 5 THEN 9999999999999999.9999
         WHEN i = 6 THEN -9999999999999999.9999
         ELSE (i * 31415926535.8979 - 5000000000000.0001)::DECIMAL(20,4) END AS dec20_4,
    CASE WHEN i % 21 = 2 THEN NULL ELSE ((i * 7) % 1999 - 999) / 10 END::DECIMAL(4,1) AS dec4_1,
    CASE WHEN i % 22 = 2 THEN NULL ELSE unhex('00ff' || printf('%02x', i % 256) || hex(('b' || i)::BLOB)) END AS bin,
    CASE WHEN i % 24 = 2 THEN NULL ELSE md5(i::VARCHAR)::UUID END AS uid
  FROM range(${from}, ${to}) r(i)`;
const typesParts = `${typesSelect(0, 100)} UNION ALL ${typesSelect(100, 200)} UNION ALL ${typesSelect(200, 300)}`;

const copyTypes = async (name, compression, extra = '') =>
  run(`COPY (${typesParts}) TO '${at(name)}' (FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE 100${extra})`);
await copyTypes('types.parquet', 'uncompressed');
await copyTypes('types-snappy.parquet', 'snappy');
await copyTypes('types-gzip.parquet', 'gzip');
await copyTypes('types-zstd.parquet', 'zstd');
await copyTypes('types-lz4.parquet', 'lz4_raw');
await copyTypes('types-brotli.parquet', 'brotli');
// Format v2: data page v2 and the newer encodings (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// BYTE_STREAM_SPLIT, RLE_DICTIONARY) instead of PLAIN / PLAIN_DICTIONARY.
await copyTypes('types-v2.parquet', 'zstd', ', PARQUET_VERSION v2');

// DuckDB's reading of types.parquet, in file order: a first line with the column names as a JSON
// array, then one JSON array per row, each made by DuckDB's json_array() (arrays rather than objects
// keep the file under 100 KB). Values are rendered so that a test can compare exactly: integers and
// booleans as JSON numbers/booleans; FLOAT and DOUBLE as JSON numbers (DuckDB writes a FLOAT widened
// to double, all digits); DECIMAL as its exact text; DATE as yyyy-MM-dd; TIMESTAMP, TIMESTAMPTZ and
// TIMESTAMP_MS as ISO 8601 in UTC with microseconds; TIMESTAMP_NS as integer nanoseconds since the
// Unix epoch (DuckDB's strftime %n is not reliable); TIMESTAMP without time zone is rendered as if it
// were UTC, which is how DataPrep reads it; BLOB as lower-case hex; UUID in its canonical text.
const iso = (col) => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%fZ')`;
const expectedColumns = ['id', 'i8', 'i16', 'i32', 'i64', 'u8', 'u32', 'f32', 'f64', 'b', 's', 'd', 'ts', 'tstz', 'ts_ms', 'ts_ns',
  'dec10_2', 'dec20_4', 'dec4_1', 'bin', 'uid'];
const expectedTypes = await rows(`
  SELECT json_array(id, i8, i16, i32, i64, u8, u32, f32, f64, b, s,
           strftime(d, '%Y-%m-%d'), ${iso('ts')}, ${iso('tstz')}, ${iso('ts_ms')}, epoch_ns(ts_ns),
           dec10_2::VARCHAR, dec20_4::VARCHAR, dec4_1::VARCHAR, lower(hex(bin)), uid::VARCHAR)::VARCHAR AS line
  FROM read_parquet('${at('types.parquet')}')`);
writeFileSync(join(out, 'expected-types.jsonl'),
  [JSON.stringify(expectedColumns), ...expectedTypes.map((r) => r.line)].join('\n') + '\n');

// ---------------------------------------------------------------------------------------------
// dict: a low-cardinality string column (dictionary encoded by DuckDB), with NULLs, over 4 row groups.
const dictSelect = (from, to) => `
  SELECT i::INTEGER AS id,
         CASE WHEN i % 13 = 5 THEN NULL ELSE ['red', 'green', 'blue', 'cyan', 'magenta'][(i * 7) % 5 + 1] END AS color,
         (i % 4)::INTEGER AS bucket
  FROM range(${from}, ${to}) r(i)`;
await run(`COPY (${[0, 1, 2, 3].map((k) => dictSelect(k * 250, k * 250 + 250)).join(' UNION ALL ')})
           TO '${at('dict.parquet')}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 250)`);
await run(`COPY (SELECT id, color, bucket FROM read_parquet('${at('dict.parquet')}')) TO '${at('expected-dict.jsonl')}' (FORMAT json)`);

// ---------------------------------------------------------------------------------------------
// required: DuckDB 1.5.6 writes every column OPTIONAL, NOT NULL constraints included (checked below),
// so the REQUIRED fixture is written by hyparquet-writer (nullable: false) from values DuckDB made,
// in three row groups, and DuckDB renders the expected rows by reading that file back.
// hyparquet-writer writes data page v2 and, by default, RLE-encoded booleans, which Parquet.Net 6.1
// cannot decode; required.parquet asks for PLAIN booleans, rle-boolean.parquet keeps the default so
// the tests can check the error DataPrep gives for it.
await run('CREATE TABLE req (id BIGINT NOT NULL, n INTEGER NOT NULL, x DOUBLE NOT NULL, flag BOOLEAN NOT NULL, name VARCHAR NOT NULL)');
await run(`INSERT INTO req SELECT i, (i * 31) % 1000 - 500, i / 8, i % 2 = 0, 'name-' || (i % 17) FROM range(120) r(i)`);
await run(`COPY req TO '${at('notnull-duckdb.parquet')}' (FORMAT parquet)`);
const duckRepetition = await rows(`SELECT name, repetition_type FROM parquet_schema('${at('notnull-duckdb.parquet')}') WHERE name <> 'duckdb_schema'`);
rmSync(join(out, 'notnull-duckdb.parquet'));
const req = await rows('SELECT id, n, x, flag, name FROM req ORDER BY id');
const buffer = parquetWriteBuffer({
  columnData: [
    { name: 'id', data: req.map((r) => BigInt(r.id)), type: 'INT64', nullable: false },
    { name: 'n', data: req.map((r) => Number(r.n)), type: 'INT32', nullable: false },
    { name: 'x', data: req.map((r) => Number(r.x)), type: 'DOUBLE', nullable: false },
    { name: 'flag', data: req.map((r) => r.flag), type: 'BOOLEAN', nullable: false, encoding: 'PLAIN' },
    { name: 'name', data: req.map((r) => r.name), type: 'STRING', nullable: false },
  ],
  rowGroupSize: 50,
  createdBy: 'hyparquet-writer (DataPrep fixtures)',
});
writeFileSync(join(out, 'required.parquet'), new Uint8Array(buffer));
const rleBoolean = parquetWriteBuffer({
  columnData: [
    { name: 'id', data: req.map((r) => BigInt(r.id)), type: 'INT64', nullable: false },
    { name: 'flag', data: req.map((r) => r.flag), type: 'BOOLEAN', nullable: false },
  ],
  createdBy: 'hyparquet-writer (DataPrep fixtures)',
});
writeFileSync(join(out, 'rle-boolean.parquet'), new Uint8Array(rleBoolean));
await run(`COPY (SELECT * FROM read_parquet('${at('required.parquet')}')) TO '${at('expected-required.jsonl')}' (FORMAT json)`);

// ---------------------------------------------------------------------------------------------
// nested: LIST and STRUCT columns, which DataPrep rejects with an error naming the column.
await run(`COPY (SELECT i::INTEGER AS id, [i, i + 1] AS tags, {'x': i, 'y': i * 2} AS point FROM range(10) r(i))
           TO '${at('nested.parquet')}' (FORMAT parquet)`);

// misc: TIME, a UBIGINT above Int64's range, strings that hold numbers/booleans/dates (for type
// overrides), a BLOB of UTF-8 text. interval: an INTERVAL column, a type DataPrep does not read.
await run(`COPY (SELECT * FROM (VALUES
    (1, TIME '00:00:00', 1::UBIGINT, '42', '1.5', 'true', '2024-03-01T12:00:00Z', encode('plain')),
    (2, TIME '12:34:56.789012', 2::UBIGINT, '-7', '-0.25', 'false', '1999-12-31', encode('ünï')),
    (3, NULL, 18446744073709551615::UBIGINT, NULL, '1e3', NULL, NULL, NULL))
  AS t(id, tod, big, n_text, x_text, flag_text, t_text, raw)) TO '${at('misc.parquet')}' (FORMAT parquet)`);
await run(`COPY (SELECT 1 AS id, INTERVAL 3 DAY AS span) TO '${at('interval.parquet')}' (FORMAT parquet)`);

// empty: a schema and no rows.
await run(`COPY (SELECT i::BIGINT AS id, 'x' AS s FROM range(0) r(i)) TO '${at('empty.parquet')}' (FORMAT parquet)`);

// ---------------------------------------------------------------------------------------------
// corrupt: types.parquet cut short, so the footer and the trailing magic PAR1 are gone.
const types = readFileSync(join(out, 'types.parquet'));
writeFileSync(join(out, 'corrupt.parquet'), types.subarray(0, Math.floor(types.length / 2)));
// garbled-footer: the full length with the trailing magic intact, the footer metadata overwritten.
const garbled = Buffer.from(types);
const footerLength = garbled.readUInt32LE(garbled.length - 8);
for (let k = garbled.length - 8 - footerLength; k < garbled.length - 8; k++) garbled[k] = (k * 131) & 0xff;
writeFileSync(join(out, 'garbled-footer.parquet'), garbled);

// ---------------------------------------------------------------------------------------------
// Report what was written, and the facts the tests rely on.
const meta = async (file) => rows(`
  SELECT count(*) AS row_groups, sum(n) AS rows, string_agg(DISTINCT c, ',') AS compression
  FROM (SELECT row_group_id, any_value(row_group_num_rows) AS n, string_agg(DISTINCT compression, ',') AS c
        FROM parquet_metadata('${at(file)}') GROUP BY row_group_id)`);
for (const f of ['types.parquet', 'types-snappy.parquet', 'types-gzip.parquet', 'types-zstd.parquet', 'types-lz4.parquet',
  'types-brotli.parquet', 'types-v2.parquet', 'dict.parquet', 'required.parquet', 'nested.parquet', 'misc.parquet', 'interval.parquet', 'rle-boolean.parquet']) {
  console.log(f.padEnd(24), String(statSync(join(out, f)).size).padStart(7), 'bytes', JSON.stringify((await meta(f))[0]));
}
console.log('types-v2.parquet encodings:', JSON.stringify(await rows(`
  SELECT string_agg(DISTINCT encodings, ' | ') AS encodings FROM parquet_metadata('${at('types-v2.parquet')}')`)));
console.log('types-v2.parquet b encodings:', JSON.stringify(await rows(`
  SELECT string_agg(DISTINCT encodings, ' | ') AS encodings FROM parquet_metadata('${at('types-v2.parquet')}') WHERE path_in_schema = 'b'`)));
console.log('dict.parquet color encodings:',
  JSON.stringify(await rows(`SELECT DISTINCT encodings FROM parquet_metadata('${at('dict.parquet')}') WHERE path_in_schema = 'color'`)));
console.log('flag encodings (required, rle-boolean):', JSON.stringify(await rows(`
  SELECT file_name.split('/')[-1] AS file, string_agg(DISTINCT encodings, ',') AS encodings FROM parquet_metadata(['${at('required.parquet')}', '${at('rle-boolean.parquet')}'])
  WHERE path_in_schema = 'flag' GROUP BY ALL ORDER BY ALL`)));
console.log('required.parquet repetition:',
  JSON.stringify(await rows(`SELECT name, repetition_type FROM parquet_schema('${at('required.parquet')}') WHERE name <> 'root'`)));
console.log('DuckDB NOT NULL columns written as:', JSON.stringify(duckRepetition));
for (const f of ['corrupt.parquet', 'garbled-footer.parquet', 'empty.parquet', 'expected-types.jsonl', 'expected-dict.jsonl', 'expected-required.jsonl']) {
  console.log(f.padEnd(24), String(statSync(join(out, f)).size).padStart(7), 'bytes');
}
