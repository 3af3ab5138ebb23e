// Generate tests/data/canon/numbers.txt: "<16 hex digits of the IEEE-754 bits> <JSON.stringify>"
// per line, for test_canon (the test does not need node). Deterministic PRNG.
// Usage: node scripts/gen-canon-numbers.js > tests/data/canon/numbers.txt
'use strict';
let s = 0x8785n;
function rnd64() { // xorshift64*
  s ^= s >> 12n; s ^= (s << 25n) & 0xffffffffffffffffn; s ^= s >> 27n;
  return (s * 0x2545F4914F6CDD1Dn) & 0xffffffffffffffffn;
}
const buf = new DataView(new ArrayBuffer(8));
function bits(d) { buf.setFloat64(0, d); return buf.getBigUint64(0); }
function fromBits(b) { buf.setBigUint64(0, b); return buf.getFloat64(0); }
const out = [];
function add(d) {
  if (!Number.isFinite(d)) return;
  out.push(bits(d).toString(16).padStart(16, '0') + ' ' + JSON.stringify(d));
}
// 1000 uniformly random bit patterns (all magnitudes, subnormals included)
while (out.length < 1000) add(fromBits(rnd64()));
// 300 random doubles in ordinary ranges
for (let i = 0; i < 300; i++) add(Number(rnd64() % 2000000000000n) / 1000 * (i % 2 ? 1 : -1));
// 200 random decimals with few digits and various exponents
for (let i = 0; i < 200; i++) add(Number(`${rnd64() % 100000n}e${Number(rnd64() % 80n) - 40}`));
// powers of two and their neighbours (asymmetric rounding intervals)
for (let e = -1074; e <= 1023; e += 7) {
  const d = Math.pow(2, e); add(d);
  add(fromBits(bits(d) + 1n)); if (bits(d) > 0n) add(fromBits(bits(d) - 1n));
}
// integers around 2^53 and decimal boundaries of the ECMAScript format
for (const d of [9007199254740991, 9007199254740992, 9007199254740993, 1e21, 1e21 - 65536, 999999999999999900000,
                 1e-6, 1e-7, 0.000001234, 1.5e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308,
                 2.2250738585072014e-308, 2.225073858507201e-308, 333333333.33333329, 0.1, 0.2, 0.3, 100, 1e23]) {
  add(d); add(-d);
}
process.stdout.write(out.join('\n') + '\n');
