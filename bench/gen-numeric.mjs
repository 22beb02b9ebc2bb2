// Deterministic generator for the benchmark's numeric CSV.
//
//   node bench/gen-numeric.mjs [--out PATH] [--rows N] [--seed S] [--force]
//
// Writes `label,f0,...,f49` followed by N rows (default 200,000): label is an
// integer 0..9, each feature is a float printed as text with a per-column
// "style" (unit interval, standard-normal-ish, large magnitude, coarse, tiny),
// 6-9 significant digits. ~90 MB for the defaults.
//
// Own PRNG (splitmix32 seeding xoshiro128**, 32-bit integer ops), and only
// +, *, /, floor and Number#toFixed / #toPrecision on the draws (no
// Math.log/sin/exp): all exactly specified by ECMAScript, so the bytes are
// identical on every platform and Node version.
//
// A marker file PATH.marker (JSON: generator version, parameters, size,
// sha256) lets repeated runs skip regeneration; the file is re-hashed to make
// sure it was not truncated or edited.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync, createReadStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const GENERATOR_VERSION = 2;
const FEATURES = 50;

// sha256 of the default output (rows=200000, seed=20240601). A mismatch means
// the generator changed (bump GENERATOR_VERSION and update this) or the
// platform is not producing identical bytes.
const EXPECTED_DEFAULT_SHA256 = 'e5053ea3a21671ef89d6be04a739613520798a3fdd25d9945d79a4e13ebfc5a3';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}
const out = resolve(opt('--out', resolve(here, 'work', 'numeric.csv')));
const rows = Number.parseInt(opt('--rows', '200000'), 10);
const seed = BigInt(opt('--seed', '20240601'));
const force = args.includes('--force');
const markerPath = `${out}.marker`;
const isDefault = rows === 200000 && seed === 20240601n;

// ---- PRNG: xoshiro128** seeded by splitmix32 (32-bit integer ops only) ----
function splitmix32(a) {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
const sm = splitmix32(Number(seed & 0xffffffffn) ^ Number((seed >> 32n) & 0xffffffffn));
let s0 = sm(), s1 = sm(), s2 = sm(), s3 = sm();
function next32() {
  const result = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = (s3 << 11) | (s3 >>> 21);
  return result;
}
/** uniform double in [0, 1) with 53 random bits */
function uniform() {
  return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}
/** approx. standard normal via Irwin-Hall (sum of 12 uniforms - 6): no transcendental functions */
function normal() {
  let s = 0;
  for (let i = 0; i < 12; i++) s += uniform();
  return s - 6;
}
function int(n) {
  return Math.floor(uniform() * n);
}

// ---- per-column styles ------------------------------------------------------
// Each style returns the text of one value.
const STYLES = [
  // probability-like value in [0,1), 9 decimals: 0.123456789
  () => uniform().toFixed(9),
  // z-score-ish, 6 significant digits: -1.23456, 0.0345678
  () => normal().toPrecision(6),
  // large measurement, 2 decimals: 48213.07, -1532.91
  () => (normal() * 20000).toFixed(2),
  // coarse value with one decimal: -12.5, 3.0
  () => (Math.floor(normal() * 400) / 10).toFixed(1),
  // small positive magnitude, 6 significant digits: 0.00421399
  () => (uniform() * 0.01 + 1e-6).toPrecision(6),
  // price-like, 7 significant digits: 123.4568
  () => (uniform() * 1000).toPrecision(7),
  // quarter steps, count-like: 17.25, 243.50
  () => (int(4000) / 4).toFixed(2),
];
// Columns cycle through the styles so the file size is stable.
const colStyle = [];
for (let c = 0; c < FEATURES; c++) colStyle.push(STYLES[c % STYLES.length]);

function sha256File(path) {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

async function main() {
  const params = { generatorVersion: GENERATOR_VERSION, rows, seed: seed.toString(), features: FEATURES };

  if (!force && existsSync(out) && existsSync(markerPath)) {
    try {
      const m = JSON.parse(readFileSync(markerPath, 'utf8'));
      const same = Object.keys(params).every((k) => m[k] === params[k]);
      if (same && statSync(out).size === m.bytes) {
        const h = await sha256File(out);
        if (h === m.sha256) {
          console.log(`gen-numeric: ${out} is up to date (${m.bytes} bytes, sha256 ${h.slice(0, 16)}...), skipping`);
          return;
        }
      }
    } catch {
      /* fall through and regenerate */
    }
    console.log('gen-numeric: marker mismatch, regenerating');
  }

  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let buf = [];
  let bufLen = 0;
  const flush = () => {
    const b = Buffer.from(buf.join(''), 'latin1');
    hash.update(b);
    writeSync(fd, b);
    bytes += b.length;
    buf = [];
    bufLen = 0;
  };

  const header = ['label'];
  for (let c = 0; c < FEATURES; c++) header.push(`f${c}`);
  buf.push(header.join(',') + '\n');

  const t0 = Date.now();
  const fields = new Array(FEATURES + 1);
  for (let r = 0; r < rows; r++) {
    fields[0] = String(int(10));
    for (let c = 0; c < FEATURES; c++) fields[c + 1] = colStyle[c]();
    const line = fields.join(',') + '\n';
    buf.push(line);
    bufLen += line.length;
    if (bufLen >= 1 << 22) flush();
  }
  flush();
  closeSync(fd);
  renameSync(tmp, out);

  const sha256 = hash.digest('hex');
  const marker = { ...params, bytes, sha256 };
  const mfd = openSync(markerPath, 'w');
  writeSync(mfd, JSON.stringify(marker, null, 2) + '\n');
  closeSync(mfd);

  console.log(
    `gen-numeric: wrote ${out}: ${rows} rows, ${bytes} bytes (${(bytes / 1e6).toFixed(1)} MB), ` +
      `sha256 ${sha256}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (isDefault && EXPECTED_DEFAULT_SHA256 !== 'TBD' && sha256 !== EXPECTED_DEFAULT_SHA256) {
    console.error(
      `gen-numeric: WARNING: sha256 differs from the expected ${EXPECTED_DEFAULT_SHA256}; ` +
        'the data set is not byte-identical to the reference one',
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
