// The shared engine vectors (tests/vectors/engine/*.json, format in tests/vectors/README.md),
// run through the binding: the same scenarios the Rust core runs.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ApiKey, Engine, ManualClock, TwinkeyError } from '../lib/index.mjs'
import { VECTORS, vectors } from './support/paths.mjs'

const SECRET_VALUES = ['sk-one', 'sk-two', 'sk-new']

/** `expected` is a subset of `actual` (objects: every expected field equal). */
function subset(expected, actual) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => subset(v, actual[k]))
  }
  return JSON.stringify(expected) === JSON.stringify(actual ?? null)
}

function checkError(expect, error) {
  assert.equal(error?.code, expect.error, `error: ${error}`)
  if (error === undefined) return
  assert.ok(error instanceof TwinkeyError, `${error} is a TwinkeyError`)
  if (expect.reasons) {
    const got = Object.fromEntries(error.reasons.map((r) => [r.secret, r.reason]))
    assert.ok(subset(expect.reasons, got), `reasons: want ${JSON.stringify(expect.reasons)}, got ${JSON.stringify(got)}`)
  }
  for (const s of SECRET_VALUES) assert.ok(!error.message.includes(s), `error message leaks a secret: ${error.message}`)
}

function checkAttempt(expect, attempt) {
  if (expect.secret !== undefined) assert.equal(attempt.secret, expect.secret, 'secret')
  if (expect.probe !== undefined) assert.equal(attempt.probe, expect.probe, 'probe')
}

function step(run, s) {
  const expect = s.expect ?? {}
  const label = (field) => expect[field] ?? s[field] ?? `#${run.attempts.size}`
  switch (s.op) {
    case 'begin': {
      const as = s.as ?? `#${run.attempts.size}`
      let attempt
      try {
        attempt = run.engine.begin()
      } catch (error) {
        checkError(expect, error)
        break
      }
      checkError(expect, undefined)
      checkAttempt(expect, attempt)
      run.attempts.set(as, attempt)
      run.last = as
      break
    }
    case 'respond': {
      const attempt = run.attempts.get(s.attempt ?? run.last)
      assert.ok(attempt, `no attempt ${s.attempt ?? run.last}`)
      let verdict = run.engine.complete(attempt, s.status, s.headers ?? {})
      const neededBody = verdict.kind === 'need_body'
      if (neededBody) verdict = run.engine.complete(attempt, s.status, s.headers ?? {}, s.body ?? '')
      if (expect.needBody !== undefined) assert.equal(neededBody, expect.needBody, 'needBody')
      assert.equal(verdict.kind, expect.verdict, 'verdict')
      if (verdict.kind === 'accept') assert.equal(verdict.retryAfterMs, expect.retryAfterMs, 'retryAfterMs')
      if (verdict.kind === 'replay') {
        checkAttempt(expect, verdict.attempt)
        assert.ok(verdict.attempt.replay, 'replay attempt marked as replay')
        const as = label('as')
        run.attempts.set(as, verdict.attempt)
        run.last = as
      }
      if (verdict.kind === 'fail') checkError(expect, verdict.error)
      break
    }
    case 'abandon': {
      const attempt = run.attempts.get(s.attempt ?? run.last)
      let error
      try {
        run.engine.abandon(attempt)
      } catch (e) {
        error = e
      }
      checkError(expect, error)
      break
    }
    case 'advance':
      run.clock.advance(s.ms)
      break
    case 'activate':
    case 'deactivate':
    case 'revoke':
    case 'renew':
    case 'syncState':
    case 'prefer': {
      let error
      try {
        if (s.op === 'renew') run.engine.renew(s.secret, s.value ?? '', s.expiry)
        else if (s.op === 'syncState') run.engine.syncState(s.secret, s.state ?? '')
        else if (s.op === 'prefer') run.engine.setPreferred(s.secret ?? null)
        else run.engine[s.op](s.secret)
      } catch (e) {
        error = e
      }
      checkError(expect, error)
      break
    }
    case 'follow': {
      let update
      let error
      try {
        update = run.engine.followKey(JSON.stringify(s.doc), s.source)
      } catch (e) {
        error = e
      }
      checkError(expect, error)
      if (!error) {
        assert.deepEqual(update.changes, expect.changes, 'changes')
        assert.equal(update.prefer, expect.prefer ?? null, 'prefer')
      }
      break
    }
    case 'status': {
      const status = run.engine.status()
      const got = Object.fromEntries(status.secrets.map((x) => [x.name, x]))
      assert.ok(subset(expect.secrets, got), `status: want ${JSON.stringify(expect.secrets)}, got ${JSON.stringify(got)}`)
      break
    }
    default:
      assert.fail(`unknown op ${s.op}`)
  }
  const events = run.events.splice(0)
  const want = expect.events ?? []
  assert.ok(
    want.length === events.length && want.every((w, i) => subset(w, events[i])),
    `events: want ${JSON.stringify(want)}, got ${JSON.stringify(events)}`,
  )
}

function runScenario(keys, sc) {
  const doc = typeof sc.key === 'string' ? keys[sc.key] : sc.key
  const key = ApiKey.fromJson(JSON.stringify(doc))
  const clock = new ManualClock(sc.start)
  const events = []
  let engine
  try {
    engine = new Engine(key, { ...(sc.options ?? {}), clock, onEvent: (e) => events.push(e) })
  } catch (error) {
    assert.equal(error.code, sc.constructError, `engine: ${error}`)
    return
  }
  assert.equal(sc.constructError, undefined, 'engine construction should have failed')
  const run = { engine, clock, events, attempts: new Map(), last: undefined }
  sc.steps.forEach((s, i) => {
    try {
      step(run, s)
    } catch (error) {
      error.message = `step ${i} (${s.op}): ${error.message}`
      throw error
    }
  })
}

const files = readdirSync(join(VECTORS, 'engine')).filter((f) => f.endsWith('.json')).sort()
let count = 0
for (const file of files) {
  const doc = vectors('engine', file)
  describe(`engine vectors: ${file}`, () => {
    for (const sc of doc.scenarios) {
      count++
      test(sc.name, () => runScenario(doc.keys ?? {}, sc))
    }
  })
}

test('every engine vector file ran', () => {
  assert.ok(files.length >= 6, `${files.length} files`)
  assert.ok(count >= 40, `only ${count} engine scenarios`)
})
