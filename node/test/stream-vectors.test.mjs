// The shared stream vectors (tests/vectors/stream/*.json) through the binding's
// StreamMonitor: each case as given, re-split at every position, and one byte at a time.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { StreamInterruptedError, StreamMonitor } from '../lib/index.mjs'
import { VECTORS, vectors } from './support/paths.mjs'

function run(kind, chunks, transportError) {
  const m = new StreamMonitor(kind)
  for (const c of chunks) m.feed(c)
  try {
    const termination = transportError === undefined ? m.finish() : m.transportError(transportError)
    return { outcome: 'ended', termination, events: m.events }
  } catch (error) {
    assert.ok(error instanceof StreamInterruptedError, `${error}`)
    assert.equal(error.received, m.received)
    return { outcome: 'interrupted', error: error.code, received: error.received, events: m.events }
  }
}

const files = readdirSync(join(VECTORS, 'stream')).filter((f) => f.endsWith('.json')).sort()
let count = 0
for (const file of files) {
  describe(`stream vectors: ${file}`, () => {
    for (const c of vectors('stream', file).cases) {
      count++
      test(c.name, () => {
        const chunks = c.chunks.map((s) => Buffer.from(s, 'utf8'))
        assert.deepEqual(run(c.kind, chunks, c.transportError), c.expect)
        const all = Buffer.concat(chunks)
        for (let at = 0; at <= all.length; at++) {
          assert.deepEqual(run(c.kind, [all.subarray(0, at), all.subarray(at)], c.transportError), c.expect, `split at ${at}`)
        }
        const bytes = Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1))
        assert.deepEqual(run(c.kind, bytes, c.transportError), c.expect, 'byte by byte')
      })
    }
  })
}

test('every stream vector ran', () => assert.ok(count >= 20, `only ${count} stream cases`))

test('a monitor is made only for event streams, of the endpoint kind', () => {
  assert.equal(StreamMonitor.forResponse('http://h/openai/v1/chat/completions', 'application/json'), null)
  assert.equal(StreamMonitor.forResponse('http://h/openai/v1/chat/completions', null), null)
  assert.equal(StreamMonitor.forResponse('http://h/openai/v1/chat/completions', 'text/event-stream; charset=utf-8').kind, 'chat_completions')
  assert.equal(StreamMonitor.forResponse('http://h/openai/v1/responses?x=1', 'text/event-stream').kind, 'responses')
  assert.throws(() => new StreamMonitor('nope'), { code: 'INVALID_REQUEST' })
})
