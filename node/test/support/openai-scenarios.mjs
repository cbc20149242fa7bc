// The real openai npm SDK driving the emulator through `engine.fetch`: plain and streaming
// requests, the secret in use revoked under load, both secrets down, a stream cut, a 429.
// Registered once per SDK major (openai@6 on Node 20, openai@7 on Node 22).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ApiKey, Engine, NoUsableSecretError, StreamInterruptedError, findTwinkeyError, requestFacts } from '../../lib/index.mjs'
import { startEmulator } from './emulator.mjs'

const MODEL = 'openai.gpt-oss-120b'
const LOAD_REQUESTS = 500
const LOAD_CONCURRENCY = 50

/** A fresh key on the emulator, its engine (events recorded) and an SDK client on it. */
async function setup(emu, OpenAI, clientOptions = {}) {
  const doc = await emu.admin.newKey()
  const key = ApiKey.fromJson(JSON.stringify(doc))
  const events = []
  const engine = new Engine(key, { onEvent: (e) => events.push(e) })
  const client = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: engine.fetch, ...clientOptions })
  return { doc, key, engine, events, client }
}

async function chat(client, i) {
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `hello ${i}` }] })
  assert.equal(r.object, 'chat.completion')
  return r.choices[0].message.content
}

async function chatStream(client, i) {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: `stream ${i}` }],
    stream: true,
  })
  let text = ''
  let chunks = 0
  for await (const chunk of stream) {
    chunks++
    text += chunk.choices[0]?.delta?.content ?? ''
  }
  assert.ok(chunks > 0)
  return text
}

export function registerOpenAITests(OpenAI, label) {
  describe(`openai ${label} through engine.fetch against the emulator`, () => {
    let emu
    before(async () => {
      emu = await startEmulator()
    })
    after(async () => {
      await emu?.stop()
    })

    test('engine.usage() counts exactly the tokens the SDK parsed, streamed or not, 16 at a time', async () => {
      const { client, engine } = await setup(emu, OpenAI)
      const messages = [{ role: 'user', content: 'count these tokens' }]
      const one = async (i) => {
        if (i % 3 === 0) {
          const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30 + i })
          return [r.usage.prompt_tokens, r.usage.completion_tokens]
        }
        if (i % 3 === 1) {
          const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
          let got = [0, 0]
          for await (const chunk of stream) if (chunk.usage) got = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens]
          return got
        }
        const r = await client.responses.create({ model: MODEL, input: `hello ${i}` })
        return [r.usage.input_tokens, r.usage.output_tokens]
      }
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => one(i)))
      const report = engine.usage()
      const sum = (f) => report.rows.reduce((n, r) => n + f(r), 0)
      assert.equal(sum((r) => r.requests), 16)
      assert.equal(sum((r) => r.withoutUsage), 0)
      assert.equal(sum((r) => r.inputTokens), results.reduce((n, r) => n + r[0], 0))
      assert.equal(sum((r) => r.outputTokens), results.reduce((n, r) => n + r[1], 0))
      assert.deepEqual(new Set(report.rows.map((r) => r.endpoint)), new Set(['chat_completions', 'responses']))
      assert.equal(report.budget, null)
      assert.ok(!JSON.stringify(report).includes('sk-'))
    })

    test('a fail_fast budget refuses with TPM_BUDGET_EXCEEDED and sends nothing for it', async () => {
      const doc = await emu.admin.newKey()
      const key = ApiKey.fromJson(JSON.stringify(doc))
      const messages = [{ role: 'user', content: 'budget me' }]
      const body = JSON.stringify({ model: MODEL, messages, max_tokens: 200 })
      const { estimate } = requestFacts('/openai/v1/chat/completions', body)
      const events = []
      const engine = new Engine(key, { onEvent: (e) => events.push(e), budget: { tokensPerMinute: 3 * estimate, policy: 'fail_fast' } })
      const client = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: engine.fetch, maxRetries: 0 })
      let sent = 0
      let refused = 0
      for (let i = 0; i < 12; i++) {
        try {
          await client.chat.completions.create({ model: MODEL, messages, max_tokens: 200 })
          sent++
        } catch (error) {
          const e = findTwinkeyError(error)
          assert.equal(e?.code, 'TPM_BUDGET_EXCEEDED', String(error))
          assert.equal(e.scope, 'key')
          assert.ok(e.retryAfterMs > 0)
          refused++
        }
      }
      const counts = await emu.admin.counts()
      const mine = counts.secrets.filter((c) => c.keyId === doc.id)
      assert.equal(mine.reduce((n, c) => n + c.requests, 0), sent, JSON.stringify(mine))
      assert.ok(sent > 3 && refused > 0, `${sent} sent, ${refused} refused`)
      const { budget } = engine.usage()
      assert.ok(budget.refunded > 0 && budget.windows[0].used <= 3 * estimate, JSON.stringify(budget))
      assert.ok(events.some((e) => e.kind === 'budget_high_water' && e.scope === 'key'), JSON.stringify(events))
    })

    test('plain and streaming chat completions, and a streamed Responses call', async () => {
      const { client, engine, events } = await setup(emu, OpenAI)
      assert.ok((await chat(client, 0)).length > 0)
      assert.ok((await chatStream(client, 0)).length > 0)
      const stream = await client.responses.create({ model: MODEL, input: 'hi', stream: true })
      const kinds = []
      for await (const e of stream) kinds.push(e.type)
      assert.ok(kinds.includes('response.completed'), kinds.join(','))
      assert.equal(engine.current(), 'key-one')
      assert.deepEqual(events, [])
    })

    test(`the secret in use is revoked during ${LOAD_REQUESTS} requests at ${LOAD_CONCURRENCY} concurrent: 0 failed`, async () => {
      const { client, engine, events, doc } = await setup(emu, OpenAI)
      let next = 0
      let done = 0
      let revoked
      const failures = []
      const worker = async () => {
        while (next < LOAD_REQUESTS) {
          const i = next++
          try {
            if (i % 2 === 0) await chat(client, i)
            else await chatStream(client, i)
          } catch (error) {
            failures.push(`${i}: ${error}`)
          }
          done++
          if (done === LOAD_REQUESTS / 4 && revoked === undefined) {
            revoked = emu.admin.setState('key-one', 'REVOKED', doc.id)
          }
        }
      }
      await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker))
      await revoked
      assert.deepEqual(failures, [], `${failures.length} failed requests`)
      assert.equal(done, LOAD_REQUESTS)
      assert.equal(engine.current(), 'key-two')
      const failedOver = events.filter((e) => e.kind === 'failed_over')
      assert.equal(failedOver.length, 1, JSON.stringify(events))
      assert.equal(failedOver[0].secret, 'key-one')
      assert.equal(failedOver[0].to, 'key-two')
      const counts = await emu.admin.counts()
      const mine = counts.secrets.filter((c) => c.keyId === doc.id)
      const one = mine.find((c) => c.secret === 'key-one')
      const two = mine.find((c) => c.secret === 'key-two')
      assert.ok(one.rejected >= 1, JSON.stringify(mine))
      assert.equal(one.accepted + two.accepted, LOAD_REQUESTS, JSON.stringify(mine))
      const status = engine.status()
      assert.equal(status.secrets[0].counters.rejected, one.rejected)
    })

    test('both secrets down: NoUsableSecretError, and nothing more is sent', async () => {
      const { client, doc } = await setup(emu, OpenAI, { maxRetries: 0 })
      await chat(client, 0)
      await emu.admin.setState('key-one', 'REVOKED', doc.id)
      await emu.admin.setState('key-two', 'INACTIVE', doc.id)
      const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).then(
        () => assert.fail('the request should fail'),
        (e) => e,
      )
      const typed = findTwinkeyError(error)
      assert.ok(typed instanceof NoUsableSecretError, `${error} / cause ${error.cause}`)
      assert.equal(typed.code, 'NO_USABLE_SECRET')
      assert.deepEqual(typed.reasons.map((r) => r.secret).sort(), ['key-one', 'key-two'])
      const before = (await emu.admin.counts()).total
      await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'y' }] }), (e) => findTwinkeyError(e)?.code === 'NO_USABLE_SECRET')
      assert.equal((await emu.admin.counts()).total, before, 'no request reached the service')
    })

    test('a stream cut after its first events surfaces StreamInterruptedError, not a clean end', async () => {
      const { client } = await setup(emu, OpenAI)
      await emu.admin.addFault({ route: 'chat/completions', cutAfterChunks: 2, times: 1 })
      try {
        await assert.rejects(chatStream(client, 'cut'), (e) => {
          const typed = findTwinkeyError(e)
          assert.ok(typed instanceof StreamInterruptedError, `${e}`)
          assert.equal(typed.code, 'STREAM_INTERRUPTED')
          assert.ok(typed.received > 0)
          return true
        })
      } finally {
        await emu.admin.clearFaults()
      }
    })

    test('a 429 is handed to the SDK (which retries); the secret is not switched', async () => {
      const { client, engine, events } = await setup(emu, OpenAI)
      await emu.admin.addFault({ route: 'chat/completions', status: 429, retryAfter: 0, times: 1 })
      try {
        assert.ok((await chat(client, 0)).length > 0)
      } finally {
        await emu.admin.clearFaults()
      }
      assert.equal(engine.current(), 'key-one')
      assert.deepEqual(events, [])
      assert.equal(engine.status().secrets[0].counters.inconclusive, 1)
    })
  })
}
