// Sign one OCI request (RSA-2048) with twinkey's Node binding and with npm oci-common's
// DefaultRequestSigner, in the same process, on the same requests as
// crates/twinkey/benches/signer.rs (GET; POST with a 1 KiB body) and a fixed x-date.
// Warm-up, then 5 rounds of N; prints the medians as JSON (microseconds per request).
//
//   node bench/sign.mjs [N]
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Signer } from '../lib/index.mjs'
import { VECTORS } from '../test/support/paths.mjs'

const require = createRequire(import.meta.url)
const common = require('oci-common')
const commonVersion = JSON.parse(readFileSync(require.resolve('oci-common').replace(/index\.js$/, 'package.json'), 'utf8')).version
const key = JSON.parse(readFileSync(join(VECTORS, 'signing', 'keys.json'), 'utf8')).keys['rsa2048-pkcs1']

const URL_ = 'https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys?compartmentId=ocid1.compartment.oc1..aaaaaaaatwinkey&limit=10'
const BODY = '{"displayName":"bench","description":"'.padEnd(1023, 'x') + '}'
const DATE = 'Wed, 21 Jan 2026 10:00:00 GMT'
const KEY_ID = `ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/${key.fingerprint}`

const ours = Signer.fromPem(KEY_ID, key.private_key_pem)
const theirs = new common.DefaultRequestSigner({
  getKeyId: async () => KEY_ID,
  getPrivateKey: () => key.private_key_pem,
  getPassphrase: () => null,
})

const twinkeySign = (method, body) => () =>
  ours.sign({ method, url: URL_, headers: { 'x-date': DATE }, body }, { dateHeader: 'x-date' })
const commonSign = (method, body) => async () => {
  const headers = new Headers()
  headers.set('x-date', DATE)
  await theirs.signHttpRequest({ uri: URL_, method, headers, body })
}

// Both sign the same string: check once before timing.
{
  const a = twinkeySign('POST', BODY)().headers.authorization.match(/signature="([^"]+)"/)[1]
  const headers = new Headers({ 'x-date': DATE })
  await theirs.signHttpRequest({ uri: URL_, method: 'POST', headers, body: BODY })
  const b = headers.get('authorization').match(/signature="([^"]+)"/)[1]
  if (a !== b) throw new Error('twinkey and oci-common disagree on the benchmark request')
}

async function perRequestUs(fn, n) {
  for (let i = 0; i < Math.min(200, n); i++) await fn()
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn()
    rounds.push(Number(process.hrtime.bigint() - t) / 1000 / n)
  }
  rounds.sort((x, y) => x - y)
  return Math.round(rounds[2] * 10) / 10
}

const n = Number(process.argv[2] ?? 2000)
const out = {
  node: process.version,
  oci_common: commonVersion,
  twinkey_get: await perRequestUs(twinkeySign('GET', undefined), n),
  twinkey_post_1k: await perRequestUs(twinkeySign('POST', BODY), n),
  oci_common_get: await perRequestUs(commonSign('GET', undefined), n),
  oci_common_post_1k: await perRequestUs(commonSign('POST', BODY), n),
}
console.log(JSON.stringify(out))
