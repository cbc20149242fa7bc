// Cross-check: twinkey's Signer and the official npm signer (oci-common's
// DefaultRequestSigner) sign the same generated requests identically: same signed header
// list, keyId, algorithm and signature, and the same computed body headers.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { Signer } from '../lib/index.mjs'
import { generateRequests } from './support/requests.mjs'
import { vectors } from './support/paths.mjs'

const require = createRequire(import.meta.url)
const common = require('oci-common')

const TENANCY = 'ocid1.tenancy.oc1..aaaaaaaatwinkeycrosschecktenancy'
const USER = 'ocid1.user.oc1..aaaaaaaatwinkeycrosscheckuser'
const PER_KEY = 60
const keys = vectors('signing', 'keys.json').keys

/** `Signature version="1",headers="...",...` as a map, whatever the parameter order. */
function params(authorization) {
  assert.ok(authorization.startsWith('Signature '), authorization)
  const out = {}
  for (const m of authorization.slice('Signature '.length).matchAll(/([a-zA-Z]+)="([^"]*)"/g)) out[m[1]] = m[2]
  return out
}

let total = 0
for (const name of ['rsa2048-pkcs1', 'rsa2048-pkcs8', 'rsa2048-legacy-aes128', 'rsa4096-pkcs1']) {
  test(`twinkey and oci-common agree on ${PER_KEY} generated requests (${name})`, async () => {
    const key = keys[name]
    const passphrase = key.passphrase ?? undefined
    const provider = new common.SimpleAuthenticationDetailsProvider(TENANCY, USER, key.fingerprint, key.private_key_pem, passphrase ?? null, common.Region.US_CHICAGO_1)
    const theirs = new common.DefaultRequestSigner(provider)
    const ours = Signer.fromPem(`${TENANCY}/${USER}/${key.fingerprint}`, key.private_key_pem, passphrase)
    for (const r of generateRequests(PER_KEY, name)) {
      const request = { uri: r.url, method: r.method, headers: new Headers(r.headers), body: r.body }
      await theirs.signHttpRequest(request)
      const signed = ours.sign({ method: r.method, url: r.url, headers: r.headers, body: r.body }, { dateHeader: 'x-date' })
      const a = params(signed.headers.authorization)
      const b = params(request.headers.get('authorization'))
      const what = `${r.method} ${r.url} body=${JSON.stringify(r.body)}`
      // oci-common writes `Content-Type Content-Length` in the list; names are case-insensitive.
      assert.deepEqual(
        { version: a.version, headers: a.headers, keyId: a.keyId, algorithm: a.algorithm },
        { version: b.version, headers: b.headers.toLowerCase(), keyId: b.keyId, algorithm: b.algorithm },
        what,
      )
      assert.equal(a.signature, b.signature, what)
      for (const header of ['x-content-sha256', 'content-length', 'content-type', 'host']) {
        if (signed.headers[header] !== undefined) assert.equal(signed.headers[header], request.headers.get(header), `${header}: ${what}`)
      }
      total++
    }
  })
}

test('at least 200 requests were cross-checked', () => assert.ok(total >= 200, `${total}`))
