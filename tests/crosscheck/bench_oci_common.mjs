// Per-request signing time of npm oci-common (DefaultRequestSigner), RSA-2048, for BENCHMARKS.md.
//
//   node bench_oci_common.mjs [ITERATIONS]
//
// Signs the same two requests as crates/twinkey/benches/signer.rs (GET, POST with a 1 KiB body)
// with a fixed x-date, a fresh Headers object per request (the signer adds its headers to it).
// Warm-up, then 5 rounds; prints the medians as JSON in microseconds per request: wall clock
// and the process's CPU time (`_cpu`, user + system, from process.cpuUsage()).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const common = require("oci-common");
const version = require("oci-common/package.json").version;
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const k = JSON.parse(readFileSync(join(root, "tests/vectors/signing/keys.json"), "utf8")).keys["rsa2048-pkcs1"];

const URL_ = "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys?compartmentId=ocid1.compartment.oc1..aaaaaaaatwinkey&limit=10";
const BODY = '{"displayName":"bench","description":"'.padEnd(1023, "x") + "}";
const provider = {
  getKeyId: async () => `ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/${k.fingerprint}`,
  getPrivateKey: () => k.private_key_pem,
  getPassphrase: () => null,
};
const signer = new common.DefaultRequestSigner(provider);

async function signOnce(method, body) {
  const headers = new Headers();
  headers.set("x-date", "Wed, 21 Jan 2026 10:00:00 GMT");
  await signer.signHttpRequest({ uri: URL_, method, headers, body });
}

async function perRequestUs(fn, n) {
  for (let i = 0; i < Math.min(200, n); i++) await fn();
  const wall = [];
  const cpu = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn();
    const used = process.cpuUsage(c);
    wall.push(Number(process.hrtime.bigint() - t) / 1000 / n);
    cpu.push((used.user + used.system) / n);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[2];
  return [median(wall), median(cpu)];
}

const round1 = (x) => Math.round(x * 10) / 10;
const n = Number(process.argv[2] ?? 2000);
const out = { peer: `oci-common ${version} (Node ${process.version}) DefaultRequestSigner` };
const [getWall, getCpu] = await perRequestUs(() => signOnce("GET", undefined), n);
const [postWall, postCpu] = await perRequestUs(() => signOnce("POST", BODY), n);
Object.assign(out, { get: round1(getWall), get_cpu: round1(getCpu), post_1k: round1(postWall), post_1k_cpu: round1(postCpu) });
console.log(JSON.stringify(out));
