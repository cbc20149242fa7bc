// End to end against the emulator's real tokens-per-minute limit (`twinkey emulate
// --tokens-per-minute`), with the real openai npm SDK through `engine.fetch`: 16 requests at a
// time push three times the limit's worth of tokens through; with the `wait` policy none fails
// and the emulator answers no 429 (the budget holds requests back for the two minutes this
// takes); with `fail_fast` every refused request throws TPM_BUDGET_EXCEEDED and reaches
// nothing. Slow by nature (the minute is real): run by scripts/ci/tpm.sh.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import OpenAI from 'openai'
import { ApiKey, BudgetExceededError, Engine, findTwinkeyError, requestFacts } from '../lib/index.mjs'
import { startEmulator } from '../test/support/emulator.mjs'

const LIMIT = 600
const MODEL = 'openai.gpt-oss-120b'
const MESSAGES = [{ role: 'user', content: 'Please count slowly from one to twenty.' }]
const CONCURRENCY = 16

let emu
before(async () => {
  emu = await startEmulator(['--tokens-per-minute', String(LIMIT)])
})
after(() => emu?.stop())

async function engineFor(budget) {
  const doc = await emu.admin.newKey()
  const engine = new Engine(ApiKey.fromJson(JSON.stringify(doc)), { budget })
  const client = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: engine.fetch, maxRetries: 0 })
  return { keyId: doc.id, engine, client }
}

async function requestsOf(keyId) {
  const counts = await emu.admin.counts()
  return counts.secrets.filter((r) => r.keyId === keyId).reduce((n, r) => n + r.requests, 0)
}

test('wait pushes three limits through without a 429', async () => {
  const { keyId, client } = await engineFor({ tokensPerMinute: LIMIT, policy: 'wait', maxWaitMs: 150000 })
  const totals = { tokens: 0, ok: 0, failed: 0, issued: 0 }
  const errors = []
  // Every request is the same: three minutes' worth of them (what fits the limit three times
  // over) are claimed by the workers, then nothing more is issued.
  const body = JSON.stringify({ model: MODEL, messages: MESSAGES, max_tokens: 30 })
  const perRequest = requestFacts('/openai/v1/chat/completions', body).estimate
  const planned = 3 * Math.floor(LIMIT / perRequest)
  const worker = async () => {
    while (totals.issued < planned) {
      totals.issued++
      try {
        const r = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 30 })
        totals.tokens += r.usage.total_tokens
        totals.ok++
      } catch (e) {
        totals.failed++
        errors.push(String(e))
        return
      }
    }
  }
  const start = Date.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const elapsed = (Date.now() - start) / 1000
  const counts = await emu.admin.counts()
  console.log(`wait: ${totals.ok} requests, ${totals.tokens} tokens in ${elapsed.toFixed(1)} s; emulator 429s ${counts.rateLimited}`)
  assert.equal(totals.failed, 0, errors.slice(0, 3).join('\n'))
  assert.equal(counts.rateLimited, 0)
  assert.equal(totals.ok, planned)
  assert.ok(totals.tokens >= 3 * LIMIT * 0.9, JSON.stringify(totals))
  assert.ok(elapsed > 110, `${elapsed} s: three limits' worth cannot pass in under two minutes`)
  assert.equal(await requestsOf(keyId), totals.ok)
})

test('fail_fast refuses with TPM_BUDGET_EXCEEDED and sends nothing for it', async () => {
  const { keyId, client } = await engineFor({ tokensPerMinute: LIMIT, policy: 'fail_fast' })
  const before = (await emu.admin.counts()).rateLimited
  const outcome = { sent: 0, refused: 0, other: [] }
  let next = 0
  const worker = async () => {
    while (next++ < 60) {
      try {
        await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 30 })
        outcome.sent++
      } catch (e) {
        const t = findTwinkeyError(e)
        if (t instanceof BudgetExceededError && t.code === 'TPM_BUDGET_EXCEEDED' && t.retryAfterMs > 0) outcome.refused++
        else outcome.other.push(String(e))
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  console.log(`fail_fast: sent ${outcome.sent}, refused ${outcome.refused}`)
  assert.deepEqual(outcome.other, [])
  assert.ok(outcome.sent > 0 && outcome.refused > 0, JSON.stringify(outcome))
  assert.equal(await requestsOf(keyId), outcome.sent, 'a refused request reached the service')
  assert.equal((await emu.admin.counts()).rateLimited, before)
})
