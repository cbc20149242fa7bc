// Fleets from Node against a real `redis-server` (Debian's package) started on a loopback port
// and the emulator: engines joined with `twinkey.fleet` share a revocation (the second one never
// sends with the revoked secret) under the real openai SDK; the shared budget leases; Redis
// killed costs no request; bad options throw coded errors that show no password.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { ApiKey, Engine, fleet, TwinkeyError } from '../lib/index.mjs'
import { startEmulator } from './support/emulator.mjs'

const MODEL = 'openai.gpt-oss-120b'
const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A redis-server of the test's own on 127.0.0.1; `kill()` ends it. */
async function startRedis() {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const end = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    assert.ok(Date.now() < end, 'redis-server did not start')
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

async function until(what, cond, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const chat = (client) => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 })

describe('fleets through a real redis-server', { skip: !haveRedis && 'redis-server is not installed' }, () => {
  let emu
  let redis
  before(async () => {
    emu = await startEmulator()
  })
  after(async () => {
    await redis?.kill()
    await emu?.stop()
  })

  test('a revocation reaches the other engine before it sends', async () => {
    redis = await startRedis()
    const doc = await emu.admin.newKey()
    const key = ApiKey.fromJson(JSON.stringify(doc))
    const a = new Engine(key)
    const b = new Engine(key)
    const fa = fleet(a, { url: redis.url, origin: 'node-a' })
    const fb = b.joinFleet({ url: redis.url, origin: 'node-b' })
    await until('both connected', () => fa.stats().connected && fb.stats().connected)
    await new Promise((r) => setTimeout(r, 300))
    const ca = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: a.fetch })
    const cb = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: b.fetch })
    await chat(ca)
    await emu.admin.setState('key-one', 'REVOKED', doc.id)
    await chat(ca)
    await until('B to adopt the rejection', () => b.current() === 'key-two')
    await Promise.all(Array.from({ length: 8 }, () => chat(cb)))
    const mine = (await emu.admin.counts()).secrets.filter((c) => c.keyId === doc.id)
    const one = mine.filter((c) => c.secret === 'key-one').reduce((n, c) => n + c.rejected, 0)
    assert.equal(one, 1, JSON.stringify(mine))
    assert.ok(fa.stats().sent >= 1 && fb.stats().applied >= 1)
    assert.equal(fa.origin, 'node-a')
    fa.close()
    fb.close()
    fa.close()
    assert.equal(fa.closed, true)
    assert.equal(fa.stats(), null)
  })

  test('the budget is leased, and Redis going away costs no request', async () => {
    const doc = await emu.admin.newKey()
    const key = ApiKey.fromJson(JSON.stringify(doc))
    const a = new Engine(key, { budget: { tokensPerMinute: 100000, policy: 'wait', maxWaitMs: 10000 } })
    const f = fleet(a, { url: redis.url, budgetSlice: 5000 })
    await until('the budget shared', () => f.stats().budgetShared)
    const client = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: a.fetch })
    await chat(client)
    assert.ok(f.stats().leased >= 5000)
    assert.equal(a.usage().budget.fleet.attached, true)
    await redis.kill()
    redis = undefined
    for (let i = 0; i < 5; i++) await chat(client)
    await until('the sharing detached', () => !f.stats().budgetShared)
    assert.ok(f.stats().errors > 0)
    f.close()
  })

  test('bad options throw coded errors without the password', async () => {
    const doc = await emu.admin.newKey()
    const engine = new Engine(ApiKey.fromJson(JSON.stringify(doc)))
    const code = (fn) => {
      try {
        fn()
      } catch (e) {
        assert.ok(e instanceof TwinkeyError, String(e))
        assert.ok(!String(e.message).includes('hunter2'), e.message)
        return e.code
      }
      assert.fail('no error')
    }
    assert.equal(code(() => fleet(engine, { url: 'http://u:hunter2-pass@127.0.0.1:1' })), 'INVALID_OPTIONS')
    assert.equal(code(() => fleet(engine, { url: 'redis://127.0.0.1:1', opTimeoutMs: 0 })), 'INVALID_OPTIONS')
    assert.equal(code(() => fleet(engine, { url: 'redis://127.0.0.1:1', colour: 'red' })), 'INVALID_OPTIONS')
    const port = await freePort()
    const f = fleet(engine, { url: `redis://u:hunter2-pass@127.0.0.1:${port}` })
    await until('errors counted', () => f.stats().errors > 0)
    assert.equal(f.stats().connected, false)
    const client = new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: engine.fetch })
    await chat(client)
    f.close()
  })
})
