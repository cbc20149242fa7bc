// README's "Node.js quick start" works as written: its program runs against the emulator
// (only the emulator's address and key file are swapped in), and its shell steps exist.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, test } from 'node:test'
import { startEmulator } from './support/emulator.mjs'
import { NODE_DIR, REPO } from './support/paths.mjs'

const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
const section = readme.split('## Node.js quick start')[1]?.split('\n## ')[0] ?? ''
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }))

let emu
before(async () => {
  emu = await startEmulator()
})
after(async () => {
  await emu?.stop()
})

test('the quick start has its shell steps and one program', () => {
  const shell = blocks.find((b) => b.lang === 'sh')?.code ?? ''
  assert.match(shell, /npm ci && npm run build/)
  assert.match(shell, /twinkey emulate --listen 127\.0\.0\.1:8080 --init \.twinkey-demo/)
  const pkg = JSON.parse(readFileSync(join(NODE_DIR, 'package.json'), 'utf8'))
  assert.ok(pkg.scripts.build.startsWith('napi build'))
  assert.equal(blocks.filter((b) => b.lang === 'js').length, 1)
})

test('the quick start program runs against the emulator', async () => {
  const program = blocks
    .find((b) => b.lang === 'js')
    .code.replaceAll('http://127.0.0.1:8080', new URL(emu.baseURL).origin)
    .replaceAll('.twinkey-demo/key.json', emu.keyFile)
  // Inside node/, so `import 'twinkey'` resolves to this package (self-reference).
  const dir = mkdtempSync(join(NODE_DIR, '.readme-test-'))
  try {
    const file = join(dir, 'quickstart.mjs')
    writeFileSync(file, program)
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 60_000 })
    assert.match(stdout, /key-one: healthy, key-two: healthy/)
    const key = JSON.parse(readFileSync(emu.keyFile, 'utf8'))
    for (const k of key.keys) assert.ok(!stdout.includes(k.key), 'the program prints no secret')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
