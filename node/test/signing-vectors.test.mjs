// The shared signing vectors (tests/vectors/signing/) through the binding's Signer: twinkey's
// SDK-generated cases, the OCI reference key (refused: 1024-bit), bad input, config files.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { Signer, TwinkeyError } from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const keys = vectors('signing', 'keys.json').keys

function keyOf(v, file) {
  return typeof v.key === 'string' ? keys[v.key] : file
}

function signerFor(keyId, key) {
  return keyId.startsWith('ST$')
    ? Signer.session(keyId.slice(3), key.private_key_pem, key.passphrase ?? undefined)
    : Signer.fromPem(keyId, key.private_key_pem, key.passphrase ?? undefined)
}

function optionsOf(v) {
  const headers = v.headers ?? {}
  const xDate = v.date_header === 'x-date' || 'x-date' in headers
  const now = v.now ?? headers['x-date'] ?? headers.date
  return {
    dateHeader: xDate ? 'x-date' : 'date',
    excludeBody: v.exclude_body_headers ?? false,
    now: v.now ?? Date.parse(now),
  }
}

function requestOf(v) {
  return { method: v.method, url: v.url, headers: v.headers ?? {}, body: v.body ?? undefined }
}

describe('signing vectors: cases.json (signed by the official SDK)', () => {
  const doc = vectors('signing', 'cases.json')
  test('there are enough cases', () => assert.ok(doc.vectors.length >= 30, `${doc.vectors.length}`))
  for (const v of doc.vectors) {
    test(v.name, () => {
      const signer = signerFor(v.key_id, keyOf(v, doc))
      const signed = signer.sign(requestOf(v), optionsOf(v))
      assert.equal(signed.url, v.expected_url ?? v.url, 'url')
      assert.equal(signed.signingString, v.expected_signing_string, 'signing string')
      assert.equal(signed.headers.authorization, v.expected_authorization, 'authorization')
      const { authorization, ...added } = signed.headers
      assert.deepEqual(added, v.expected_added_headers, 'added headers')
    })
  }
})

describe('signing vectors: oci-reference.json', () => {
  const doc = vectors('signing', 'oci-reference.json')
  test('the 1024-bit OCI docs key is refused with INVALID_PRIVATE_KEY', () => {
    assert.equal(doc.key_bits, 1024)
    assert.throws(() => Signer.fromPem(doc.key_id_user, doc.private_key_pem), (e) => e instanceof TwinkeyError && e.code === 'INVALID_PRIVATE_KEY')
  })
})

describe('signing vectors: errors.json (coded errors, never a crash)', () => {
  const doc = vectors('signing', 'errors.json')
  const keyId = 'ocid1.tenancy.oc1..t/ocid1.user.oc1..u/00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00'
  for (const c of doc.keys) {
    test(`key: ${c.name}`, () => {
      assert.throws(
        () => Signer.fromPem(keyId, c.private_key_pem, c.passphrase ?? undefined),
        (e) => {
          assert.equal(e.code, c.expected_error, `${e}`)
          assert.ok(!e.message.includes('MII') && !e.message.includes('twinkey-test') && !e.stack.includes('MII'), e.message)
          return true
        },
      )
    })
  }
  for (const c of doc.requests) {
    test(`request: ${c.name}`, () => {
      const key = keyOf(c, doc)
      const signer = Signer.fromPem(c.key_id, key.private_key_pem)
      assert.throws(
        () => signer.sign(requestOf(c), { now: c.now }),
        (e) => {
          assert.equal(e.code, c.expected_error, `${e}`)
          assert.ok(!e.message.includes('injected'), e.message)
          return true
        },
      )
    })
  }
  for (const c of doc.key_ids) {
    test(`keyId: ${c.name}`, () => {
      const key = keyOf(c, doc)
      const make = () =>
        c.session_token !== undefined ? Signer.session(c.session_token, key.private_key_pem) : Signer.fromPem(c.key_id, key.private_key_pem)
      assert.throws(make, { code: c.expected_error })
    })
  }
})

describe('signing vectors: config.json (OCI config files, loaded off the event loop)', () => {
  const doc = vectors('signing', 'config.json')
  const dir = mkdtempSync(join(tmpdir(), 'twinkey-node-signing-'))
  for (const [name, spec] of Object.entries(doc.files)) {
    writeFileSync(join(dir, name), spec.key !== undefined ? keys[spec.key].private_key_pem : spec.text)
  }
  for (const c of doc.cases) {
    test(c.name, async () => {
      const path = join(dir, `config-${c.name}`)
      writeFileSync(path, c.config.replaceAll('{dir}', dir))
      if (c.expected_error !== undefined) {
        await assert.rejects(Signer.fromConfig(path, c.profile), { code: c.expected_error })
        assert.throws(() => Signer.fromConfigSync(path, c.profile), { code: c.expected_error })
        return
      }
      const signer = await Signer.fromConfig(path, c.profile)
      assert.equal(signer.keyId, c.expected.key_id)
      assert.equal(signer.region, c.expected.region ?? null)
      assert.equal(signer.isSession, c.expected.session)
      assert.deepEqual(signer.fingerprintMismatch, c.expected.fingerprint_mismatch ?? null)
    })
  }
  test('clean up', () => rmSync(dir, { recursive: true, force: true }))
})
