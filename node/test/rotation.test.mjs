// controlPlane.rotate against the emulator (state changes reach inference after 100 ms, as on
// OCI they take a while): a full rotation while traffic flows through engine.fetch with no
// failed request (the rotation run as a separate runner, and in-process with the engine), a dry
// run, revoke + renew-old with the secret-out file, refusals, and a resumed rotation.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { ApiKey, ControlPlane, Engine, RotationError, Signer } from '../lib/index.mjs'
import { startEmulator } from './support/emulator.mjs'

const MODEL = 'openai.gpt-oss-120b'
const WORKERS = 4

function values(key) {
  return JSON.parse(key.toJsonExposingSecrets()).keys.map((k) => k.key)
}

function assertNoValues(what, value, secrets) {
  const text = [inspect(value, { depth: Infinity }), JSON.stringify(value)].join('\n')
  for (const s of secrets) assert.ok(!text.includes(s), `${what} shows a secret value`)
}

/** Requests through engine.fetch from a few concurrent workers until `stop()`. */
function traffic(engine, baseURL) {
  const counts = { ok: 0, failed: [] }
  let running = true
  const worker = async (w) => {
    for (let i = 0; running; i++) {
      try {
        const r = await engine.fetch(`${baseURL}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `worker ${w} request ${i}` }] }),
        })
        const body = await r.json()
        if (r.status === 200 && body.object === 'chat.completion') counts.ok++
        else counts.failed.push(`HTTP ${r.status}`)
      } catch (error) {
        counts.failed.push(`${error.code ?? error.name}: ${error.message}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  }
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))
  return {
    counts,
    /** Waits (bounded) until `predicate()` holds. */
    async until(predicate, what) {
      const deadline = Date.now() + 60_000
      while (!predicate()) {
        assert.ok(Date.now() < deadline, `gave up waiting for ${what} (${counts.ok} ok; failed: ${counts.failed.slice(0, 3).join(", ")})`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    async stop() {
      running = false
      await done
    },
  }
}

describe('controlPlane.rotate against the emulator', () => {
  let emu
  let cp
  let dir
  before(async () => {
    emu = await startEmulator(['--propagation-ms', '100'])
    cp = new ControlPlane(await Signer.fromConfig(emu.ociConfig), { endpoint: emu.controlPlane })
    dir = mkdtempSync(join(tmpdir(), 'twinkey-node-rotate-'))
  })
  after(async () => {
    await emu?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /**
   * A new key on the control plane: its id and the ApiKey with both values, once inference
   * accepts them (a new key, like any change, takes the propagation delay to get there).
   */
  async function newKey(name) {
    const created = await cp.create({ displayName: name, compartmentId: emu.tenancy, keyDetails: [{ keyName: 'key-one' }, { keyName: 'key-two' }] })
    const deadline = Date.now() + 60_000
    for (const value of values(created.key)) {
      for (;;) {
        const r = await fetch(`${emu.baseURL}/models`, { headers: { authorization: `Bearer ${value}` } })
        await r.arrayBuffer()
        if (r.status === 200) break
        assert.ok(Date.now() < deadline, 'the new key never reached inference')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    return { id: created.data.id, key: created.key }
  }

  const states = async (id) => (await cp.get(id)).data.keys.map((k) => k.state)

  for (const inProcess of [false, true]) {
    const how = inProcess ? 'in-process, switching the engine' : 'as a separate runner (the engine fails over on its own)'
    test(`a full rotation ${how}: 0 failed requests through engine.fetch`, async () => {
      const { id, key } = await newKey(`rotate-traffic-${inProcess}`)
      const secrets = values(key)
      const engine = new Engine(key)
      const events = []
      engine.on('event', (e) => events.push(e))
      const load = traffic(engine, emu.baseURL)
      try {
        await load.until(() => load.counts.ok >= 20, 'traffic on key-one')
        const progress = []
        const stateFile = join(dir, `traffic-${inProcess}.json`)
        const report = await cp.rotate(id, {
          stateFile,
          watchGraceMs: 0,
          inferenceUrl: emu.baseURL,
          ...(inProcess ? { engine } : { key: ApiKey.fromJson(key.toJsonExposingSecrets()) }),
          onProgress: (p) => progress.push(p),
        })
        assert.equal(report.dryRun, false)
        assert.deepEqual([report.old, report.standby, report.resumed], ['key-one', 'key-two', false])
        assert.deepEqual(
          report.steps.map((s) => `${s.step}:${s.action}`),
          ['prepare_standby:skip', 'verify_standby:probe', 'switch:switch', 'retire_old:deactivate'],
        )
        // Every progress event arrived, in order, before the Promise settled.
        assert.deepEqual(
          progress.map((p) => `${p.kind}${p.step ? ` ${p.step}` : ''}`),
          [
            'started',
            'skipped prepare_standby',
            'acting verify_standby',
            'finished verify_standby',
            'acting switch',
            'finished switch',
            'acting retire_old',
            'finished retire_old',
            'done',
          ],
        )
        assert.equal(progress[0].keyId, id)
        assert.ok(!existsSync(stateFile), 'the state file is removed when done')
        assert.deepEqual(await states(id), ['INACTIVE', 'ACTIVE'])
        assertNoValues('the report and progress', { report, progress }, secrets)
        // Keep the traffic going until the engine is on key-two, and a little longer.
        const after = load.counts.ok
        await load.until(() => engine.current() === 'key-two' && load.counts.ok >= after + 20, 'traffic on key-two')
      } finally {
        await load.stop()
      }
      assert.deepEqual(load.counts.failed, [], `${load.counts.failed.length} failed requests`)
      assert.equal(engine.current(), 'key-two')
      if (inProcess) {
        // Switched before key-one was retired: the engine never saw a rejection.
        assert.equal(engine.status().secrets[0].counters.rejected, 0)
      } else {
        assert.ok(events.some((e) => e.kind === 'failed_over' && e.secret === 'key-one' && e.to === 'key-two'))
      }
    })
  }

  test('a dry run changes nothing; revoke + renewOld write the renewed value to the secret-out file', async () => {
    const { id, key } = await newKey('rotate-renew')
    const keyFile = join(dir, 'renew-key.json')
    writeFileSync(keyFile, key.toJsonExposingSecrets(), { mode: 0o600 })
    const secretOut = join(dir, 'renew-out.json')
    const stateFile = join(dir, 'renew-state.json')
    const options = { stateFile, keyFile, secretOut, inferenceUrl: emu.baseURL, revoke: true, renewOld: true, watchGraceMs: 0 }
    const plan = await cp.rotate(id, { ...options, dryRun: true })
    assert.equal(plan.dryRun, true)
    assert.deepEqual(plan.problems, [])
    assert.deepEqual(
      plan.steps.map((s) => `${s.step}:${s.action ?? 'skip'}`),
      ['prepare_standby:skip', 'verify_standby:probe', 'switch:switch', 'retire_old:revoke', 'renew_old:renew', 'park_old:deactivate'],
    )
    assert.equal(plan.steps[3].description, 'revoke key-one')
    assert.deepEqual(await states(id), ['ACTIVE', 'ACTIVE'])
    assert.ok(!existsSync(stateFile) && !existsSync(secretOut), 'a dry run writes nothing')

    const progress = []
    const report = await cp.rotate(id, { ...options, onProgress: (p) => progress.push(p) })
    assert.deepEqual(await states(id), ['INACTIVE', 'ACTIVE'])
    assert.equal(report.renewed.length, 1)
    assert.equal(report.renewed[0].secret, 'key-one')
    assert.equal(report.secretOut, secretOut)
    const written = progress.find((p) => p.kind === 'secret_written')
    assert.deepEqual([written.secret, written.fingerprint, written.path], ['key-one', report.renewed[0].fingerprint, secretOut])
    assert.equal(statSync(secretOut).mode & 0o777, 0o600)
    const out = ApiKey.loadSync(secretOut)
    const renewedValue = values(out)[0]
    assert.ok(renewedValue && !values(key).includes(renewedValue), 'the secret-out file holds the new value')
    assertNoValues('the report and progress', { report, progress }, [...values(key), renewedValue])
    assert.ok(!existsSync(stateFile))
  })

  test('refused rotations: ROTATION_REFUSED, nothing retired; a stopped rotation resumes', async () => {
    const { id, key } = await newKey('rotate-refused')
    const other = await newKey('rotate-other')
    const stateFile = join(dir, 'refused-state.json')
    const base = { stateFile, inferenceUrl: emu.baseURL, watchGraceMs: 0 }
    // The values of another key would pass the probe and prove nothing.
    const wrongKey = await cp.rotate(id, { ...base, key: other.key }).then(assert.fail, (e) => e)
    assert.ok(wrongKey instanceof RotationError, String(wrongKey))
    assert.equal(wrongKey.code, 'ROTATION_REFUSED')
    assert.equal(wrongKey.family, 'rotation')
    // A revoked standby must be renewed, and a renewed value is shown once: no secret-out file,
    // no rotation (the dry run names the problem).
    await cp.setState(id, 'key-two', 'REVOKED')
    const plan = await cp.rotate(id, { ...base, key, dryRun: true })
    assert.equal(plan.problems.length, 1)
    assert.match(plan.problems[0], /secret-out/)
    const noOut = await cp.rotate(id, { ...base, key }).then(assert.fail, (e) => e)
    assert.equal(noOut.code, 'ROTATION_REFUSED')
    assert.deepEqual(await states(id), ['ACTIVE', 'REVOKED'])
    assert.ok(!existsSync(stateFile))

    // A standby value the service refuses: the probe fails, nothing is retired, the progress
    // stays in the state file; with the right value the same command resumes and finishes.
    const { id: id2, key: key2 } = await newKey('rotate-resume')
    const doc = JSON.parse(key2.toJsonExposingSecrets())
    doc.keys[1].key = 'sk-not-a-value-the-service-knows-0123456789'
    const wrong = ApiKey.fromJson(JSON.stringify(doc))
    const failed = await cp.rotate(id2, { ...base, key: wrong, probeTimeoutMs: 300 }).then(assert.fail, (e) => e)
    assert.equal(failed.code, 'ROTATION_REFUSED')
    assert.match(failed.message, /probe/)
    assert.ok(!failed.message.includes(doc.keys[1].key))
    assert.deepEqual(await states(id2), ['ACTIVE', 'ACTIVE'])
    assert.ok(existsSync(stateFile), 'the progress is kept')
    const resumed = await cp.rotate(id2, { ...base, key: key2 })
    assert.equal(resumed.resumed, true)
    assert.deepEqual(await states(id2), ['INACTIVE', 'ACTIVE'])
    assert.ok(!existsSync(stateFile))
  })
  test('no inferenceUrl: the probe goes to the control-plane host (the emulator), engine values, null options', async () => {
    const { id, key } = await newKey('rotate-no-url')
    const engine = new Engine(key)
    const messages = []
    const report = await cp.rotate(id, {
      stateFile: join(dir, 'no-url-state.json'),
      watchGraceMs: 0,
      engine,
      onProgress: (p) => messages.push(JSON.stringify(p)),
    })
    assert.equal(report.resumed, false)
    assert.deepEqual(await states(id), ['INACTIVE', 'ACTIVE'])
    assert.equal(engine.status().secrets.find((s) => s.preferred)?.name, 'key-two', 'the engine was switched')
    assert.ok(messages.some((m) => m.includes('HTTP 200')), messages.join(' | '))
    // null is "not given", like undefined.
    const plan = await cp.rotate(id, { stateFile: join(dir, 'null-state.json'), key, engine: null, onProgress: null, dryRun: true })
    assert.ok(Array.isArray(plan.steps))
  })
})
