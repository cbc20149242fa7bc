// No secret in util.inspect, JSON.stringify, String(), error messages or stack traces.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { test } from 'node:test'
import { ApiKey, Engine, ManualClock, Signer, TwinkeyError } from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const ONE = 'sk-hygiene-one-0123456789abcdef'
const TWO = 'sk-hygiene-two-fedcba9876543210'
const NEW = 'sk-hygiene-new-aaaabbbbccccdddd'
const SECRETS = [ONE, TWO, NEW, 'hygiene-one', 'hygiene-two', 'hygiene-new']

function doc(two = TWO) {
  return JSON.stringify({
    displayName: 'hygiene',
    keys: [
      { keyName: 'key-one', state: 'ACTIVE', key: ONE },
      { keyName: 'key-two', state: 'ACTIVE', key: two },
    ],
  })
}

/** Every way a value can be shown. */
function shown(value) {
  const out = [
    inspect(value),
    inspect(value, { showHidden: true, getters: true, depth: Infinity }),
    String(value),
    `${value}`,
    JSON.stringify(value) ?? '',
    JSON.stringify({ wrapped: value }) ?? '',
  ]
  if (value instanceof Error) out.push(value.message, value.stack ?? '', JSON.stringify(value.reasons ?? null))
  return out.join('\n')
}

function assertClean(value, what) {
  const text = shown(value)
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} shows a secret:\n${text}`)
  return text
}

test('ApiKey shows names and fingerprints only', () => {
  const key = ApiKey.fromJson(doc())
  const text = assertClean(key, 'ApiKey')
  assert.match(text, /key-one \(fp [0-9a-f]{8}, ACTIVE\)/)
  assert.deepEqual(JSON.parse(JSON.stringify(key)).keys.map((k) => k.key), [undefined, undefined])
  key.renew('key-two', NEW)
  assertClean(key, 'renewed ApiKey')
})

test('Engine, attempts, verdicts, status and events show no secret', () => {
  const events = []
  const engine = new Engine(ApiKey.fromJson(doc()), { clock: new ManualClock('2026-01-01T00:00:00Z'), onEvent: (e) => events.push(e) })
  assertClean(engine, 'Engine')
  const attempt = engine.begin()
  assertClean(attempt, 'Attempt')
  assert.equal(attempt.authorization(), `Bearer ${ONE}`)
  const verdict = engine.complete(attempt, 401, {})
  assertClean(verdict, 'replay verdict')
  const failed = engine.complete(verdict.attempt, 401, {})
  assertClean(failed, 'fail verdict')
  assertClean(failed.error, 'NO_USABLE_SECRET')
  assertClean(engine.status(), 'status')
  assertClean(events, 'events')
  assert.ok(events.length >= 3)
  engine.renew('key-one', NEW)
  assertClean(engine, 'Engine after renew')
  assertClean(engine.key(), 'engine.key()')
})

test('errors about secrets never quote them (message, stack, inspect)', () => {
  const bad = [
    () => ApiKey.fromJson(doc(`${TWO} with spaces`)),
    () => ApiKey.fromJson(doc(`${TWO}\n`)),
    () => ApiKey.fromJson(doc().replace(`"${ONE}"`, '42')),
    () => ApiKey.fromJson(doc().slice(0, 90)),
    () => ApiKey.fromJson(doc()).renew('key-one', ` ${NEW}`),
    () => ApiKey.fromJson(doc()).renew('key-three', NEW),
  ]
  for (const f of bad) {
    let error
    try {
      f()
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof TwinkeyError, `${f} should throw a TwinkeyError, got ${error}`)
    assertClean(error, `${error?.code}`)
  }
})

test('Signer shows no key material and a session token only by its length', () => {
  const key = vectors('signing', 'keys.json').keys['rsa2048-pkcs1']
  const token = 'hygiene-session-token-0123456789'
  const session = Signer.session(token, key.private_key_pem)
  for (const text of [shown(session), shown(Signer.fromPem('t/u/3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39', key.private_key_pem))]) {
    assert.ok(!text.includes('MII') && !text.includes('PRIVATE KEY'), text)
    assert.ok(!text.includes(token), text)
  }
  const error = (() => {
    try {
      Signer.fromPem('t/u/f', key.private_key_pem.replace('MII', 'XII'))
    } catch (e) {
      return e
    }
  })()
  assert.ok(error instanceof TwinkeyError)
  assert.ok(!shown(error).includes('MII'), shown(error))
})

test('a number that is not a time is refused with INVALID_OPTIONS, never read as 1970', () => {
  const key = vectors('signing', 'keys.json').keys['rsa2048-pkcs8']
  const signer = Signer.fromPem('ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb', key.private_key_pem)
  for (const now of [Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE, 1e20]) {
    assert.throws(
      () => signer.sign({ method: 'GET', url: 'http://127.0.0.1/x' }, { now }),
      (e) => e instanceof TwinkeyError && e.code === 'INVALID_OPTIONS',
      String(now),
    )
    assert.throws(() => new ManualClock(now), (e) => e.code === 'INVALID_OPTIONS', String(now))
  }
  assert.equal(new ManualClock(1.6).now(), 2)
})
