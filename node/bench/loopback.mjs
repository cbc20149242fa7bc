// 2 000 loopback chat completions through the openai npm SDK against the emulator, two ways:
// `fetch: engine.fetch` (twinkey picks the secret and judges each response) and a plain
// `apiKey` (the same secret, no twinkey). The two ways alternate request by request (so drift
// and GC hit both alike); prints mean and median latency per way and twinkey's overhead, plus
// engine.fetch's own cost over an in-memory fetch (no network), as JSON.
//
//   TWINKEY_BIN=target/release/twinkey node bench/loopback.mjs [REQUESTS]
import { readFileSync } from 'node:fs'
import OpenAI from 'openai'
import { ApiKey, Engine } from '../lib/index.mjs'
import { startEmulator } from '../test/support/emulator.mjs'

const total = Number(process.argv[2] ?? 2000)
const MODEL = 'openai.gpt-oss-120b'

const emu = await startEmulator()
try {
  const doc = JSON.parse(readFileSync(emu.keyFile, 'utf8'))
  const engine = new Engine(ApiKey.fromJson(JSON.stringify(doc)))
  const clients = {
    twinkey: new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: engine.fetch, maxRetries: 0 }),
    plain: new OpenAI({ baseURL: emu.baseURL, apiKey: doc.keys[0].key, maxRetries: 0 }),
  }
  const once = (client) => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'ping' }] })
  const timed = async (client) => {
    const t = process.hrtime.bigint()
    await once(client)
    return Number(process.hrtime.bigint() - t) / 1000
  }
  for (let i = 0; i < 200; i++) {
    await once(clients.plain)
    await once(clients.twinkey)
  }
  const samples = { twinkey: [], plain: [] }
  for (let i = 0; i < total; i++) {
    const order = i % 2 === 0 ? ['plain', 'twinkey'] : ['twinkey', 'plain']
    for (const way of order) samples[way].push(await timed(clients[way]))
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const round1 = (x) => Math.round(x * 10) / 10

  // engine.fetch's own work per request: the same SDK call over a fetch that answers from memory.
  const canned = JSON.stringify(await once(clients.plain))
  const memoryFetch = async () => new Response(canned, { headers: { 'content-type': 'application/json' } })
  const memEngine = new Engine(ApiKey.fromJson(JSON.stringify(doc)), { fetch: memoryFetch })
  const inMemory = {
    twinkey: new OpenAI({ baseURL: emu.baseURL, apiKey: 'unused', fetch: memEngine.fetch, maxRetries: 0 }),
    plain: new OpenAI({ baseURL: emu.baseURL, apiKey: doc.keys[0].key, fetch: memoryFetch, maxRetries: 0 }),
  }
  const mem = { twinkey: [], plain: [] }
  for (let i = 0; i < 500; i++) for (const way of ['plain', 'twinkey']) await timed(inMemory[way])
  for (let i = 0; i < total; i++) {
    const order = i % 2 === 0 ? ['plain', 'twinkey'] : ['twinkey', 'plain']
    for (const way of order) mem[way].push(await timed(inMemory[way]))
  }

  const status = engine.status()
  console.log(
    JSON.stringify({
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      requests_per_way: total,
      plain_mean_us: round1(mean(samples.plain)),
      twinkey_mean_us: round1(mean(samples.twinkey)),
      plain_median_us: round1(median(samples.plain)),
      twinkey_median_us: round1(median(samples.twinkey)),
      overhead_mean_pct: round1((mean(samples.twinkey) / mean(samples.plain) - 1) * 100),
      overhead_median_pct: round1((median(samples.twinkey) / median(samples.plain) - 1) * 100),
      in_memory_plain_median_us: round1(median(mem.plain)),
      in_memory_twinkey_median_us: round1(median(mem.twinkey)),
      engine_fetch_cost_us: round1(median(mem.twinkey) - median(mem.plain)),
      engine_attempts: status.secrets[0].counters.attempts + status.secrets[1].counters.attempts,
    }),
  )
} finally {
  await emu.stop()
}
