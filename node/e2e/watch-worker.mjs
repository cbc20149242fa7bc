// One Node application with a key watch, for the key-watch end-to-end test
// (python/e2e/test_watch_processes.py): loads a key file, follows its key (`watch`: the key
// file, or the control plane through the emulator's OCI config), prints {"ready": true} after
// the first look, and on a `go` line sends chat completions with the real openai SDK on
// `engine.fetch`, `concurrency` at a time, until a `stop` line (`mark` records the count so
// far); then prints {"done": true, "ok", "okAfterMark", "failed", "errors", "rejected", "watch"}.
//
//   node watch-worker.mjs '{"keyFile": ..., "baseUrl": ..., "watch": "file" | "controlPlane",
//     "ociConfig": ..., "endpoint": ..., "intervalMs": 300, "concurrency": 4}'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import OpenAI from 'openai'
import { ApiKey, ControlPlane, Engine, Signer, watch } from '../lib/index.mjs'

const config = JSON.parse(process.argv[2])
const engine = new Engine(ApiKey.fromJson(readFileSync(config.keyFile, 'utf8')))
const intervalMs = config.intervalMs ?? 300
const w =
  config.watch === 'file'
    ? watch(engine, { file: config.keyFile, intervalMs })
    : watch(engine, { controlPlane: new ControlPlane(await Signer.fromConfig(config.ociConfig), { endpoint: config.endpoint }), intervalMs })
const end = Date.now() + 10_000
while (w.stats().looks < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
console.log(JSON.stringify({ ready: true, watch: w.stats() }))

const lines = createInterface({ input: process.stdin })
const input = lines[Symbol.asyncIterator]()
await input.next() // go
const client = new OpenAI({ baseURL: config.baseUrl, apiKey: 'unused', fetch: engine.fetch, maxRetries: 0 })
let running = true
let ok = 0
let mark = 0
const errors = []
async function worker() {
  while (running) {
    try {
      await client.chat.completions.create({ model: 'openai.gpt-oss-120b', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      ok++
    } catch (e) {
      errors.push(`${e.name}: ${e.message}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
const workers = Promise.all(Array.from({ length: config.concurrency ?? 4 }, worker))
for (;;) {
  const { value, done } = await input.next()
  if (done || value.trim() === 'stop') break
  if (value.trim() === 'mark') mark = ok
}
running = false
await workers
lines.close()
const status = engine.status()
const rejected = status.secrets.reduce((n, s) => n + s.counters.rejected, 0)
const preferred = status.secrets.find((s) => s.preferred)?.name ?? null
console.log(JSON.stringify({ done: true, ok, okAfterMark: ok - mark, failed: errors.length, errors: errors.slice(0, 5), rejected, preferred, watch: w.stats() }))
w.stop()
process.exit(0)
