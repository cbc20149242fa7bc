// TokenKeyRing and RelayGate as a Node server uses them: generated keys, what leaves the ring
// (public keys only unless asked for private material explicitly), rotation of the signing key,
// mint then verify on the real clock, and no key material or token in any output or error.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { test } from 'node:test'
import { KeyDocumentError, RelayGate, TokenError, TokenKeyRing } from '../lib/index.mjs'

const SCOPE = { models: ['openai.gpt-oss-120b'], endpoints: ['chat.completions'], max_output_tokens: 64, max_requests: 2 }

/** Every way a value can be shown. */
function shown(value) {
  const out = [inspect(value), inspect(value, { showHidden: true, getters: true, depth: Infinity }), String(value), JSON.stringify(value) ?? '']
  if (value instanceof Error) out.push(value.message, value.stack ?? '')
  return out.join('\n')
}

function caught(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected an error')
}

test('generated rings: public JWKs out by default, private material only when asked', () => {
  const ed = TokenKeyRing.generate('EdDSA', 'ed-1')
  const hs = TokenKeyRing.generate('HS256', 'hs-1')
  assert.deepEqual(ed.kids, ['ed-1'])
  assert.equal(ed.signingKid, 'ed-1')
  const edPrivate = JSON.parse(ed.toJson({ private: true })).keys[0]
  const hsPrivate = JSON.parse(hs.toJson({ private: true })).keys[0]
  assert.equal(edPrivate.kty, 'OKP')
  assert.ok(edPrivate.d && hsPrivate.k)
  for (const [ring, material] of [
    [ed, edPrivate.d],
    [hs, hsPrivate.k],
  ]) {
    const text = shown(ring) + ring.toJson()
    assert.ok(!text.includes(material), `key material shown:\n${text}`)
  }
  assert.deepEqual(JSON.parse(JSON.stringify(ed)).keys.map((k) => [k.kid, k.d]), [['ed-1', undefined]])
  assert.deepEqual(JSON.parse(JSON.stringify(hs)), { keys: [] }, 'an HS256 key has no public half')
  assert.match(inspect(ed), /^TokenKeyRing \[ed-1 EdDSA \(signing\)\]$/)
  assert.equal(caught(() => TokenKeyRing.generate('RS256', 'r')).code, 'INVALID_TOKEN_KEY')
})

test('mint and verify on the real clock; a public ring verifies; refusals carry codes', () => {
  const ring = TokenKeyRing.generate('EdDSA', 'ed-1')
  const minted = ring.mint({ subject: 'user-42', scope: SCOPE, ttlSeconds: 60 })
  assert.equal(minted.claims.sub, 'user-42')
  assert.equal(minted.claims.exp - minted.claims.iat, 60)
  assert.ok(!shown(ring).includes(minted.token))
  const verifier = TokenKeyRing.fromJson(ring.toJson())
  assert.equal(verifier.signingKid, null)
  const verified = verifier.verify(minted.token, { audience: 'twinkey-relay' })
  assert.deepEqual(verified, { kid: 'ed-1', alg: 'EdDSA', claims: minted.claims })
  assert.equal(caught(() => verifier.mint({ subject: 'u', scope: SCOPE })).code, 'INVALID_TOKEN_KEY')

  const later = (minted.claims.exp + 31) * 1000
  const expired = caught(() => verifier.verify(minted.token, { audience: 'twinkey-relay', now: later }))
  assert.ok(expired instanceof TokenError)
  assert.equal(expired.code, 'TOKEN_EXPIRED')
  assert.ok(!shown(expired).includes(minted.token.split('.')[2]), 'the error shows no token')
  assert.equal(caught(() => verifier.verify(minted.token, { audience: 'other' })).code, 'TOKEN_AUDIENCE')
  assert.equal(caught(() => verifier.verify(minted.token, { audience: 'twinkey-relay', issuer: 'x' })).code, 'TOKEN_ISSUER')
  const bad = caught(() => verifier.verify(minted.token, { audience: 'twinkey-relay', leewaySeconds: 301 }))
  assert.ok(bad instanceof KeyDocumentError)
  assert.equal(bad.code, 'INVALID_OPTIONS')
  assert.equal(caught(() => ring.mint({ subject: 'u', scope: { ...SCOPE, models: [] } })).code, 'INVALID_TOKEN_REQUEST')
})

test('signing-key rotation: the new key signs, the old one still verifies until removed', () => {
  const old = TokenKeyRing.generate('EdDSA', 'old')
  const next = TokenKeyRing.generate('EdDSA', 'new')
  const both = TokenKeyRing.fromJson(
    JSON.stringify({ keys: [...JSON.parse(next.toJson({ private: true })).keys, ...JSON.parse(old.toJson({ private: true })).keys] }),
  )
  assert.deepEqual(both.kids, ['new', 'old'])
  assert.equal(both.signingKid, 'new')
  const oldToken = old.mint({ subject: 'u', scope: SCOPE }).token
  assert.equal(both.verify(oldToken, { audience: 'twinkey-relay' }).kid, 'old')
  assert.equal(both.verify(both.mint({ subject: 'u', scope: SCOPE }).token, { audience: 'twinkey-relay' }).kid, 'new')
  both.setSigningKid('old')
  assert.equal(both.signingKid, 'old')
  assert.equal(caught(() => both.setSigningKid('missing')).code, 'INVALID_TOKEN_KEY')
  assert.equal(both.remove('old'), true)
  assert.equal(both.remove('old'), false)
  assert.equal(both.signingKid, 'new')
  assert.equal(caught(() => both.verify(oldToken, { audience: 'twinkey-relay' })).code, 'TOKEN_UNKNOWN_KEY')
})

test('a Node relay on RelayGate: admission, cap, budget, release, refusals to answer with', () => {
  const ring = TokenKeyRing.generate('EdDSA', 'ed-1')
  const gate = new RelayGate(ring.toJson(), { audience: 'twinkey-relay' })
  const authorization = `Bearer ${ring.mint({ subject: 'user-42', scope: SCOPE }).token}`
  const request = {
    method: 'POST',
    path: '/v1/chat/completions',
    authorization,
    body: JSON.stringify({ model: 'openai.gpt-oss-120b', messages: [], max_tokens: 1000 }),
  }
  const first = gate.admit(request)
  assert.equal(first.endpoint, 'chat.completions')
  assert.equal(first.upstreamPath, 'chat/completions')
  assert.equal(first.subject, 'user-42')
  assert.equal(first.maxOutputTokens, 64)
  assert.equal(JSON.parse(first.body.toString()).max_tokens, 64)
  assert.equal(first.remaining, 1)
  assert.ok(!shown(first).includes(authorization.slice(7)))
  gate.release(first)
  assert.equal(gate.admit({ ...request, body: Buffer.from(request.body) }).remaining, 1)
  assert.equal(gate.admit(request).remaining, 0)
  const spent = caught(() => gate.admit(request))
  assert.equal(spent.code, 'TOKEN_BUDGET_EXHAUSTED')
  assert.equal(spent.status, 403)
  assert.equal(JSON.parse(spent.reply).error.code, 'TOKEN_BUDGET_EXHAUSTED')
  const missing = caught(() => gate.admit({ ...request, authorization: undefined }))
  assert.deepEqual([missing.code, missing.status], ['TOKEN_MISSING', 401])
  const model = caught(() => gate.admit({ ...request, body: '{"model":"other","messages":[]}' }))
  assert.deepEqual([model.code, model.status], ['TOKEN_SCOPE', 403])
  // Rotation without a restart: the gate takes the new keys.
  const next = TokenKeyRing.generate('EdDSA', 'ed-2')
  gate.replaceKeys(next.toJson())
  assert.equal(caught(() => gate.admit(request)).code, 'TOKEN_UNKNOWN_KEY')
  assert.equal(gate.admit({ ...request, authorization: `Bearer ${next.mint({ subject: 'u', scope: SCOPE }).token}` }).remaining, 1)
})
