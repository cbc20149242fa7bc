// The shared usage and budget vectors (tests/vectors/usage, tests/vectors/budget) through the
// binding: usageFromBody, StreamMonitor.usage (whole and byte by byte), requestFacts,
// parseRateLimitHeaders, and Budget scenarios step by step.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  Budget,
  BudgetExceededError,
  KeyDocumentError,
  StreamMonitor,
  parseRateLimitHeaders,
  requestFacts,
  usageFromBody,
} from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const usage = vectors('usage', 'cases.json')
const budget = vectors('budget', 'cases.json')

describe('usage vectors: bodies', () => {
  for (const c of usage.bodies) test(c.name, () => assert.deepEqual(usageFromBody(c.body), c.expect))
})

describe('usage vectors: streams', () => {
  for (const c of usage.streams) {
    test(c.name, () => {
      const data = Buffer.from(c.stream, 'utf8')
      const whole = new StreamMonitor()
      whole.feed(data)
      assert.deepEqual(whole.usage(), c.expect)
      const split = new StreamMonitor()
      for (let i = 0; i < data.length; i++) split.feed(data.subarray(i, i + 1))
      assert.deepEqual(split.usage(), c.expect)
    })
  }
})

describe('usage vectors: requests and endpoints', () => {
  for (const c of usage.requests) {
    test(c.name, () => assert.deepEqual(requestFacts(c.path, c.body, c.defaultOutputTokens), c.expect))
  }
  for (const c of usage.endpoints) {
    test(`endpoint of ${JSON.stringify(c.path)}`, () => assert.equal(requestFacts(c.path, '').endpoint, c.expect))
  }
})

describe('usage vectors: rate-limit headers', () => {
  for (const c of usage.headers) test(c.name, () => assert.deepEqual(parseRateLimitHeaders(c.headers, c.nowMs), c.expect))
})

function step(b, charges, s) {
  if (s.admit) {
    const a = s.admit
    try {
      const { result, charge } = b.admit(a.estimate, a.model, a.atMs, a.waitingSinceMs)
      if (charge && s.as) charges.set(s.as, charge)
      return result
    } catch (error) {
      assert.ok(error instanceof BudgetExceededError, `${error}`)
      return { error: { code: error.code, scope: error.scope, retryAfterMs: error.retryAfterMs, requested: error.requested } }
    }
  }
  if (s.settle) {
    const t = s.settle
    const charge = charges.get(t.charge)
    charges.delete(t.charge)
    return { highWater: b.settle(charge, t.atMs, t.status, t.usage, t.headers) }
  }
  if (s.observe) {
    b.observeHeaders(s.observe.headers, s.observe.atMs)
    return {}
  }
  return b.snapshot(s.snapshot.atMs)
}

describe('budget vectors', () => {
  for (const scenario of budget.scenarios) {
    test(scenario.name, () => {
      const b = new Budget(scenario.options)
      const charges = new Map()
      scenario.steps.forEach((s, i) => assert.deepEqual(step(b, charges, s), s.expect, `step ${i}`))
    })
  }
  for (const c of budget.invalidOptions) {
    test(`invalid options: ${c.name}`, () => {
      assert.throws(() => new Budget(c.options), (e) => e instanceof KeyDocumentError && e.code === 'INVALID_OPTIONS')
    })
  }
  test('a charge settles once', () => {
    const b = new Budget({ tokensPerMinute: 100 })
    const { charge } = b.admit(10, null, 0)
    assert.equal(charge.tokens, 10)
    b.settle(charge, 0, 200)
    assert.throws(() => b.settle(charge, 0, 200), (e) => e.code === 'INVALID_ATTEMPT')
  })
})
