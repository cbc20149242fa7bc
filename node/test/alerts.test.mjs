// Alert events reach the EventEmitter (per kind and as 'event') with their fields; the
// thresholds are engine options the core validates. The decisions are the core's (the shared
// vectors in tests/vectors/engine/alerts.json run in engine-vectors.test.mjs).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ApiKey, Engine, ManualClock, TwinkeyError } from '../lib/index.mjs'

const key = () =>
  ApiKey.fromJson(
    JSON.stringify({
      keys: [
        { keyName: 'key-one', state: 'ACTIVE', key: 'sk-one-aaaa', timeExpiry: '2036-04-01T00:00:00.000Z' },
        { keyName: 'key-two', state: 'ACTIVE', key: 'sk-two-bbbb', timeExpiry: '2036-04-01T00:00:00.000Z' },
      ],
    }),
  )

test('a burst of rejections and a change out of band are events', () => {
  const clock = new ManualClock('2026-01-01T00:00:00Z')
  const engine = new Engine(key(), { clock, rejectionBurst: 2, rejectionBurstWindowMs: 5000 })
  const all = []
  const bursts = []
  engine.on('event', (e) => all.push(e))
  engine.on('rejection_burst', (e) => bursts.push(e))
  engine.complete(engine.begin(), 200)
  const [first, second] = [engine.begin(), engine.begin()]
  engine.complete(first, 401)
  engine.complete(second, 401)
  assert.deepEqual(
    all.map((e) => e.kind),
    ['secret_rejected', 'changed_out_of_band', 'failed_over', 'standby_unavailable', 'rejection_burst'],
  )
  assert.equal(bursts.length, 1)
  assert.equal(bursts[0].count, 2)
  assert.equal(bursts[0].status, 401)
  assert.equal(bursts[0].secret, 'key-one')
  assert.match(all[1].message, /ACTIVE/)
  const text = JSON.stringify(all)
  assert.ok(!text.includes('sk-one') && !text.includes('sk-two'))
})

test('traffic after a deactivation through twinkey is an event', () => {
  const engine = new Engine(key(), { clock: new ManualClock('2026-01-01T00:00:00Z') })
  const seen = []
  engine.on('traffic_after_deactivation', (e) => seen.push(e))
  const inFlight = engine.begin()
  engine.deactivate('key-one')
  engine.complete(inFlight, 200)
  assert.equal(seen.length, 1)
  assert.equal(seen[0].secret, 'key-one')
  assert.equal(seen[0].status, 200)
})

test('alert thresholds are validated by the core', () => {
  for (const options of [{ rejectionBurst: 1 }, { rejectionBurstWindowMs: 0 }, { rejectionBurstWindowMs: 2 * 86400000 }]) {
    assert.throws(() => new Engine(key(), options), (e) => e instanceof TwinkeyError && e.code === 'INVALID_OPTIONS')
  }
})

test('metricsText is the core exposition: alerts counted, no secret value', () => {
  const engine = new Engine(key(), { clock: new ManualClock('2026-01-01T00:00:00Z'), budget: { tokensPerMinute: 5000 } })
  engine.complete(engine.begin(), 200)
  engine.complete(engine.begin(), 401)
  const text = engine.metricsText()
  assert.ok(text.endsWith('# EOF\n'))
  assert.match(text, /^# TYPE twinkey_events counter$/m)
  assert.match(text, /^twinkey_events_total\{key="",kind="changed_out_of_band",secret="key-one"\} 1$/m)
  assert.match(text, /^twinkey_budget_limit_tokens\{key="",scope="key"\} 5000\.0$/m)
  assert.match(text, /^twinkey_secret_usable\{key="",secret="key-two",fingerprint="[0-9a-f]+"\} 1\.0$/m)
  assert.ok(!text.includes('sk-one') && !text.includes('sk-two'))
})
