// Cross-check: re-sign twinkey's requests with npm oci-common (the OCI TypeScript SDK's signer).
//
//   node oci_common.mjs CORPUS.json [VECTORS.json ...]
//
// x-date requests are signed by oci-common's DefaultRequestSigner with a fixed x-date (its only
// header lists: `x-date (request-target) host` + `content-type content-length x-content-sha256`),
// `forceExcludeBody` for exclude-body requests. date requests are signed by http-signature, the
// library DefaultRequestSigner signs with, given the Go/Python header lists. Each SDK is given the
// URL twinkey sends (WHATWG parsing then re-derives host and request target) and the body as a
// string. `signature="..."` and the `headers="..."` list must equal twinkey's (names compared
// case-insensitively: oci-common writes `Content-Type Content-Length` in the list while signing
// lowercase names). Vector files (tests/vectors/signing/*.json) are checked the same way against
// their expected values. Exits 1 on any mismatch.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const common = require("oci-common");
const httpSignature = require("http-signature");
const sshpk = require("sshpk");
const versions = {
  "oci-common": require("oci-common/package.json").version,
  "http-signature": require("http-signature/package.json").version,
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const keys = JSON.parse(readFileSync(join(root, "tests/vectors/signing/keys.json"), "utf8")).keys;

function params(authorization) {
  const out = {};
  for (const m of authorization.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

// sshpk (used by oci-common) does not read every encrypted PEM form twinkey reads; all rsa2048-*
// keys are one key pair, so fall back to its plain PKCS#1 form (twinkey's decryption is covered
// by the vectors).
const fallbacks = new Set();
function keyFor(name, file) {
  const k = name ? keys[name] : { private_key_pem: file.private_key_pem, passphrase: null };
  try {
    sshpk.parsePrivateKey(k.private_key_pem, "auto", k.passphrase ? { passphrase: k.passphrase } : {});
    return k;
  } catch {
    fallbacks.add(name);
    return { private_key_pem: keys["rsa2048-pkcs1"].private_key_pem, passphrase: null };
  }
}

// Corpus cases and vectors in one shape.
function normalize(c, file) {
  if ("sent_url" in c) return { ...c, signature: c.signature };
  const xdate = c.date_header === "x-date" || "x-date" in c.headers;
  return {
    name: c.name,
    method: c.method,
    sent_url: c.expected_url ?? c.url,
    headers: c.headers,
    body: c.body,
    key: c.key ?? null,
    key_id: c.key_id,
    date_header: xdate ? "x-date" : "date",
    exclude_body_headers: Boolean(c.exclude_body_headers),
    signed_headers: c.signed_headers,
    added_headers: c.expected_added_headers,
    signature: c.expected_signature,
    file,
  };
}

async function signWithOciCommon(c, key) {
  const headers = new Headers();
  for (const [n, v] of Object.entries(c.headers)) headers.set(n, v);
  if (!headers.has("x-date")) headers.set("x-date", c.added_headers["x-date"]);
  const provider = {
    getKeyId: async () => c.key_id,
    getPrivateKey: () => key.private_key_pem,
    getPassphrase: () => key.passphrase,
  };
  const request = { uri: c.sent_url, method: c.method, headers, body: c.body ?? undefined };
  await new common.DefaultRequestSigner(provider).signHttpRequest(request, c.exclude_body_headers);
  return headers.get("authorization");
}

function signWithHttpSignature(c, key) {
  const url = new URL(c.sent_url);
  const headers = new Map(Object.entries(c.headers).map(([n, v]) => [n.toLowerCase(), v]));
  if (!headers.has("date")) headers.set("date", c.added_headers.date);
  headers.set("host", url.host);
  const list = ["date", "(request-target)", "host"];
  const body = ["POST", "PUT", "PATCH"].includes(c.method) && !c.exclude_body_headers;
  if (body) {
    const bytes = Buffer.from(c.body ?? "", "utf8");
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    headers.set("content-length", String(bytes.length));
    headers.set("x-content-sha256", createHash("sha256").update(bytes).digest("base64"));
    list.push("content-length", "content-type", "x-content-sha256");
  }
  const req = {
    method: c.method,
    path: url.pathname + url.search,
    getHeader: (n) => headers.get(n.toLowerCase()),
    setHeader: (n, v) => headers.set(n.toLowerCase(), v),
  };
  const pem = sshpk.parsePrivateKey(key.private_key_pem, "auto", key.passphrase ? { passphrase: key.passphrase } : {});
  httpSignature.sign(req, { key: pem.toBuffer("pem", {}), keyId: c.key_id, headers: list });
  return headers.get("authorization");
}

async function main() {
  const files = process.argv.slice(2);
  const common_ = `oci-common ${versions["oci-common"]} DefaultRequestSigner (x-date)`;
  const hs = `http-signature ${versions["http-signature"]} (date, Go/Python lists)`;
  const results = { [common_]: [0, 0], [hs]: [0, 0] };
  const bad = [];
  for (const path of files) {
    const doc = JSON.parse(readFileSync(path, "utf8"));
    const cases = (doc.cases ?? doc.vectors).map((c) => normalize(c, doc));
    for (const c of cases) {
      const key = keyFor(c.key, doc);
      const viaCommon = c.date_header === "x-date";
      const label = viaCommon ? common_ : hs;
      const auth = viaCommon ? await signWithOciCommon(c, key) : signWithHttpSignature(c, key);
      const p = params(auth);
      const list = p.headers.split(" ").map((h) => h.toLowerCase());
      const problems = [];
      if (list.join(" ") !== c.signed_headers.join(" ")) problems.push(`headers: sdk "${p.headers}" twinkey "${c.signed_headers.join(" ")}"`);
      if (p.signature !== c.signature) problems.push("signature differs");
      if (p.keyId !== c.key_id) problems.push("keyId differs");
      results[label][1] += 1;
      if (problems.length) bad.push(`${path.split("/").pop()} ${c.name}: ${problems.join("; ")}`);
      else results[label][0] += 1;
    }
  }
  for (const [label, [ok, total]] of Object.entries(results)) {
    console.log(`${label}: ${ok}/${total} signatures and header lists identical`);
  }
  if (fallbacks.size) console.log(`  (sshpk cannot read ${[...fallbacks].join(", ")}; used the same key pair's PKCS#1 form)`);
  for (const b of bad.slice(0, 10)) console.log(`  MISMATCH ${b}`);
  process.exit(bad.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
