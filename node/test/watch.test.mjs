// Key watch from Node (`twinkey.watch`, `engine.followKey`): an engine follows a key file it
// reloads and the control plane; a rotation run elsewhere reaches a control-plane watch before
// the old secret is retired (no 401 at all); bad options get coded errors. What a document
// means is the core's decision (tests/vectors/engine/watch.json, run by engine-vectors.test.mjs).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { ApiKey, ControlPlane, Engine, KeyWatch, Signer, watch } from '../lib/index.mjs'
import { startEmulator } from './support/emulator.mjs'

const MODEL = 'openai.gpt-oss-120b'
const KEY_ID = 'ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaanodewatch'

function doc(twoState, twoValue, tags = {}) {
  return JSON.stringify({
    id: KEY_ID,
    freeformTags: tags,
    keys: [
      { keyName: 'key-one', state: 'ACTIVE', key: 'sk-one-11111111' },
      { keyName: 'key-two', state: twoState, key: twoValue },
    ],
  })
}

async function waitFor(what, ok, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!ok()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function current(engine) {
  const a = engine.begin()
  engine.abandon(a)
  return a.secret
}

describe('key watch', () => {
  let dir
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinkey-node-watch-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a file watch follows the file and survives a broken one', async () => {
    const path = join(dir, 'key.json')
    writeFileSync(path, doc('INACTIVE', 'sk-two-22222222'))
    const engine = new Engine(ApiKey.fromJson(doc('INACTIVE', 'sk-two-22222222')))
    const w = watch(engine, { file: path, intervalMs: 30 })
    try {
      assert.ok(w instanceof KeyWatch)
      assert.equal(w.source, 'file')
      await waitFor('a first look', () => w.stats().looks >= 1)
      assert.equal(current(engine), 'key-one')
      const renewed = 'sk-two-renewed-33333333'
      const fp = createHash('sha256').update(renewed).digest('hex').slice(0, 8)
      const tags = { 'twinkey-preferred': 'key-two', 'twinkey-preferred-fingerprint': fp }
      writeFileSync(path, doc('ACTIVE', renewed, tags))
      await waitFor('the switch', () => current(engine) === 'key-two')
      writeFileSync(path, '{ not json')
      await waitFor('a failed look', () => w.stats().consecutiveFailures >= 1)
      assert.equal(w.stats().lastError, 'INVALID_KEY')
      assert.equal(current(engine), 'key-two')
      writeFileSync(path, doc('ACTIVE', renewed, tags))
      await waitFor('a good look again', () => w.stats().consecutiveFailures === 0)
      const shown = `${inspect(w)} ${JSON.stringify(w.stats())}`
      assert.ok(!shown.includes('sk-'), shown)
    } finally {
      w.stop()
    }
    assert.ok(w.stopped && w.stats().stopped)
  })

  test('followKey reports what changed; another key is refused', () => {
    const engine = new Engine(ApiKey.fromJson(doc('ACTIVE', 'sk-two-22222222')))
    assert.deepEqual(engine.followKey(doc('INACTIVE', 'sk-two-22222222'), 'controlPlane'), {
      changes: [{ change: 'state', secret: 'key-two', from: 'ACTIVE', to: 'INACTIVE' }],
      prefer: null,
    })
    assert.deepEqual(engine.followKey(ApiKey.fromJson(doc('INACTIVE', 'sk-two-22222222'))), { changes: [], prefer: null })
    assert.throws(() => engine.followKey(doc('ACTIVE', 'sk-two-22222222').replace('nodewatch', 'another')), { code: 'INVALID_KEY' })
    assert.throws(() => engine.followKey(doc('ACTIVE', 'sk-two-22222222'), 'somewhere'), { code: 'INVALID_OPTIONS' })
  })

  test('bad watch options', () => {
    const engine = new Engine(ApiKey.fromJson(doc('ACTIVE', 'sk-two-22222222')))
    for (const options of [{}, { file: join(dir, 'k.json'), jitter: 0.9 }, { file: join(dir, 'k.json'), intervalMs: 1 }, { file: 42 }]) {
      assert.throws(() => watch(engine, options), { code: 'INVALID_OPTIONS' }, JSON.stringify(options))
    }
  })

  describe('with the emulator', () => {
    let emu
    let cp
    before(async () => {
      emu = await startEmulator(['--propagation-ms', '100'])
      cp = new ControlPlane(await Signer.fromConfig(emu.ociConfig), { endpoint: emu.controlPlane })
    })
    after(async () => {
      await emu?.stop()
    })

    test('a rotation elsewhere reaches a control-plane watch before the old secret is retired', async () => {
      const created = await cp.create({ displayName: 'node-watch', compartmentId: emu.tenancy, keyDetails: [{ keyName: 'key-one' }, { keyName: 'key-two' }] })
      const id = created.data.id
      await cp.setState(id, 'key-two', 'INACTIVE')
      // Both changes reach inference after the propagation delay.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const engine = new Engine(created.key)
      const w = watch(engine, { controlPlane: cp, intervalMs: 150 })
      const counts = { ok: 0, failed: [] }
      let running = true
      const worker = async () => {
        while (running) {
          try {
            const r = await engine.fetch(`${emu.baseURL}/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
            })
            await r.arrayBuffer()
            if (r.status === 200) counts.ok++
            else counts.failed.push(`HTTP ${r.status}`)
          } catch (error) {
            counts.failed.push(`${error.code ?? error.name}`)
            await new Promise((resolve) => setTimeout(resolve, 10))
          }
        }
      }
      const workers = Promise.all([worker(), worker(), worker()])
      try {
        await waitFor('traffic on key-one', () => counts.ok >= 10 || counts.failed.length > 0, 30_000)
        // Another runner: no engine of this process is given; the watch is how it learns.
        const report = await cp.rotate(id, {
          key: created.key,
          inferenceUrl: emu.baseURL,
          stateFile: join(dir, 'rotation.json'),
          watchGraceMs: 1200,
        })
        assert.deepEqual(report.steps.map((s) => s.action), ['activate', 'probe', 'switch', 'deactivate'])
        await waitFor('the retirement to be seen', () => engine.status().secrets[0].state === 'INACTIVE')
        const after = counts.ok
        await waitFor('more traffic', () => counts.ok >= after + 10 || counts.failed.length > 0, 30_000)
      } finally {
        running = false
        await workers
        w.stop()
      }
      assert.deepEqual(counts.failed, [])
      const rejected = engine.status().secrets.reduce((n, s) => n + s.counters.rejected, 0)
      assert.equal(rejected, 0, 'the engine moved to key-two before key-one was retired')
      const stats = w.stats()
      assert.ok(stats.errors === 0 && stats.changed >= 2, JSON.stringify(stats))
      assert.equal((await cp.get(id)).data.freeformTags['twinkey-preferred'], 'key-two')
    })
  })
})
