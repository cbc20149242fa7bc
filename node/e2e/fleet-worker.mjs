// One Node process of a fleet, for the multi-process end-to-end test
// (python/e2e/test_fleet_processes.py) and the demo: loads a key file, joins the fleet with
// `fleet(engine, {url})`, prints {"ready": true, "origin"}, waits for a line on stdin, then sends
// `requests` chat completions, `concurrency` at a time, with the real openai SDK on
// `engine.fetch`, and prints {"done": true, "ok", "failed", "errors", "stats"}.
//
//   node fleet-worker.mjs '{"keyFile": ..., "baseUrl": ..., "redis": ..., "origin": "node-1",
//     "requests": 250, "concurrency": 8, "maxTokens": 20, "budget": null}'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import OpenAI from 'openai'
import { ApiKey, Engine, fleet } from '../lib/index.mjs'

const config = JSON.parse(process.argv[2])
const key = ApiKey.fromJson(readFileSync(config.keyFile, 'utf8'))
const engine = new Engine(key, config.budget ? { budget: config.budget } : {})
const link = fleet(engine, { url: config.redis, origin: config.origin })
const end = Date.now() + 10_000
while (!link.stats().connected && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
console.log(JSON.stringify({ ready: true, origin: link.origin }))
const lines = createInterface({ input: process.stdin })
await new Promise((resolve) => lines.once('line', resolve))
lines.close()

const client = new OpenAI({ baseURL: config.baseUrl, apiKey: 'unused', fetch: engine.fetch, maxRetries: 2 })
let next = 0
let ok = 0
const errors = []
async function worker() {
  while (next++ < config.requests) {
    try {
      await client.chat.completions.create({
        model: 'openai.gpt-oss-120b',
        max_tokens: config.maxTokens ?? 20,
        messages: [{ role: 'user', content: 'Say hello to the fleet.' }],
      })
      ok++
    } catch (e) {
      errors.push(`${e.name}: ${e.message}`)
    }
  }
}
await Promise.all(Array.from({ length: config.concurrency }, worker))
console.log(JSON.stringify({ done: true, ok, failed: errors.length, errors: errors.slice(0, 5), stats: link.stats() }))
link.close()
process.exit(0)
