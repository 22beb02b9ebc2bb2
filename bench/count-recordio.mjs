// Counts RecordIO records in the files given (walks the framing: magic, lrec, padded payload).
// Usage: node bench/count-recordio.mjs FILE... -> prints the total; exits 1 on a framing error.
import { readFileSync } from "node:fs";
let total = 0;
for (const file of process.argv.slice(2)) {
  const b = readFileSync(file);
  let at = 0;
  while (at < b.length) {
    if (b.readUInt32LE(at) !== 0xced7230a) { console.error(`${file}: bad magic at ${at}`); process.exit(1); }
    const lrec = b.readUInt32LE(at + 4);
    const cflag = lrec >>> 29, len = lrec & ((1 << 29) - 1);
    if (cflag === 0 || cflag === 3) total++;
    at += 8 + ((len + 3) & ~3);
  }
}
console.log(total);
