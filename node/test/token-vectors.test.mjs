// Runs the shared server-token vectors (tests/vectors/tokens/*.json; format:
// tests/vectors/README.md, "Token vectors") through the Node binding: keys, mint (exact token
// strings), verify (the hostile table: codes), and the relay gate. The browser token cache
// (cache.json) belongs to the browser entry; the wasm build runs it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RELAY_ERROR_HEADER, RelayGate, TokenError, TokenKeyRing, TwinkeyError } from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const keys = vectors('tokens', 'keys.json')
const ringText = (name) => JSON.stringify(keys.rings[name])

/** The error `fn` throws (a TwinkeyError), or null when it returns. */
function thrown(fn) {
  try {
    fn()
    return null
  } catch (e) {
    assert.ok(e instanceof TwinkeyError, String(e))
    return e
  }
}

const KNOWN = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'twk']
const known = (claims) => Object.fromEntries(KNOWN.filter((k) => k in claims).map((k) => [k, claims[k]]))

test('key vectors: signing kids, bad keys, duplicate kids', () => {
  for (const [name, ring] of Object.entries(keys.rings)) {
    assert.equal(TokenKeyRing.fromJson(JSON.stringify(ring)).signingKid, keys.signingKids[name], name)
  }
  assert.ok(keys.badKeys.length > 0)
  for (const c of keys.badKeys) {
    const e = thrown(() => TokenKeyRing.fromJson(JSON.stringify(c.jwk)))
    assert.ok(e instanceof TokenError, c.name)
    assert.equal(e?.code, c.expect.error, c.name)
  }
  assert.equal(thrown(() => TokenKeyRing.fromJson(JSON.stringify(keys.duplicateKidRing)))?.code, 'INVALID_TOKEN_KEY')
})

test('mint vectors: exact token strings and claims; refusals by code', () => {
  const doc = vectors('tokens', 'mint.json')
  assert.ok(doc.cases.length > 0 && doc.errors.length > 0)
  for (const c of doc.cases) {
    const ring = TokenKeyRing.fromJson(ringText(c.ring))
    if (c.signingKid) ring.setSigningKid(c.signingKid)
    const out = ring.mint(c.request, { now: c.nowMs, random: Buffer.from(c.rngHex, 'hex') })
    assert.equal(out.token, c.expect.token, c.name)
    assert.deepEqual(out.claims, c.expect.claims, c.name)
  }
  for (const c of doc.errors) {
    const ring = TokenKeyRing.fromJson(ringText(c.ring))
    const e = thrown(() => ring.mint(c.request, { now: c.nowMs, random: Buffer.from(c.rngHex, 'hex') }))
    assert.equal(e?.code, c.expect.error, c.name)
  }
})

test('verify vectors: the hostile table', () => {
  const doc = vectors('tokens', 'verify.json')
  assert.ok(doc.cases.length >= 60)
  for (const c of doc.cases) {
    const ring = TokenKeyRing.fromJson(ringText(c.ring))
    let got
    const e = thrown(() => {
      got = ring.verify(c.token, { ...c.options, now: c.nowMs })
    })
    if (c.expect.error) {
      assert.equal(e?.code, c.expect.error, c.name)
      // No message repeats the token or a part of it.
      for (const part of c.token.split('.').filter((p) => p.length > 8)) {
        assert.ok(!e.message.includes(part) && !e.stack.includes(part), `${c.name}: the error echoes the token`)
      }
    } else {
      assert.equal(e, null, `${c.name}: ${e?.code} ${e?.message}`)
      assert.equal(got.kid, c.expect.kid, c.name)
      assert.equal(got.alg, c.expect.alg, c.name)
      assert.deepEqual(got.claims, known(c.expect.claims), c.name)
    }
  }
})

test('relay gate vectors: admissions, refusals with status and reply, budget release', () => {
  let ran = 0
  for (const sc of vectors('tokens', 'gate.json').scenarios) {
    const gate = new RelayGate(ringText(sc.ring), sc.options)
    let last
    sc.steps.forEach((step, i) => {
      const at = `${sc.name} step ${i}`
      if (step.op === 'release') {
        gate.release(last)
        return
      }
      let admission
      const e = thrown(() => {
        admission = gate.admit({
          method: step.method,
          path: step.path,
          authorization: step.authorization ?? undefined,
          body: step.body ?? undefined,
          now: step.nowMs,
        })
      })
      if (step.expect.error) {
        assert.equal(e?.code, step.expect.error, `${at}: ${e?.message}`)
        assert.equal(e.status, step.expect.status, at)
        const reply = JSON.parse(e.reply)
        assert.equal(reply.error.code, step.expect.error, at)
        assert.equal(reply.error.type, step.expect.error.toLowerCase(), at)
      } else {
        assert.equal(e, null, `${at}: ${e?.code} ${e?.message}`)
        assert.deepEqual(admission.toJSON(), step.expect.admit, at)
        assert.equal(admission.endpoint, step.expect.admit.endpoint, at)
        assert.equal(admission.upstreamPath, step.expect.admit.upstreamPath, at)
        assert.equal(admission.remaining ?? null, step.expect.admit.remaining, at)
        const body = admission.body
        assert.deepEqual(body === null ? null : JSON.parse(body.toString()), step.expect.admit.body, at)
        last = admission
      }
      ran++
    })
  }
  assert.ok(ran >= 25, `${ran}`)
  assert.equal(RELAY_ERROR_HEADER, 'x-twinkey-error')
})
