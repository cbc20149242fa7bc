// Where the tests find the shared vectors and the `twinkey` binary (the emulator).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const NODE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const REPO = resolve(NODE_DIR, '..')
export const VECTORS = join(REPO, 'tests', 'vectors')

export function vectors(...parts) {
  return JSON.parse(readFileSync(join(VECTORS, ...parts), 'utf8'))
}

/** The `twinkey` CLI: $TWINKEY_BIN, else the cargo target dir's debug (then release) build. */
export function twinkeyBin() {
  if (process.env.TWINKEY_BIN) return process.env.TWINKEY_BIN
  const target = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target')
  for (const profile of ['debug', 'release']) {
    const bin = join(target, profile, 'twinkey')
    if (existsSync(bin)) return bin
  }
  throw new Error(`no twinkey binary under ${target}: run \`cargo build -p twinkey-cli\` or set TWINKEY_BIN`)
}
