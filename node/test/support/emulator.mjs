// Starts `twinkey emulate` on a free loopback port for a test and stops it afterwards.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { twinkeyBin } from './paths.mjs'

/**
 * A running emulator: `baseURL` (OpenAI-compatible), `admin` helpers, `keyFile` (the key with
 * both secret values, written by `--init`), `keyId`; for the control plane `controlPlane` (its
 * endpoint), `ociConfig` (an OCI config whose DEFAULT profile the control plane accepts) and
 * `tenancy` (the root compartment); `dir` (the `--init` directory); `stop()` ends it.
 */
export async function startEmulator(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'twinkey-node-test-'))
  const child = spawn(twinkeyBin(), ['emulate', '--listen', '127.0.0.1:0', '--init', dir, '--json', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    new Promise((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`twinkey emulate exited with ${code} before it was ready`)
    }),
  ])
  const info = JSON.parse(first)
  const admin = info.admin_url
  const call = async (method, path, body) => {
    const res = await fetch(`${admin}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.status === 204 ? null : res.json()
  }
  const keyId = info.keys[0].id
  return {
    info,
    baseURL: info.base_url,
    keyFile: info.key_file,
    keyId,
    controlPlane: info.control_plane,
    ociConfig: info.oci_config,
    tenancy: info.tenancy,
    dir,
    admin: {
      /** A new key (both secrets ACTIVE), as a document with its secret values. */
      newKey: () => call('POST', '/keys', {}),
      setState: (keyName, state, id = keyId) => call('POST', `/keys/${id}/setstate`, { keyName, state }),
      counts: () => call('GET', '/counts'),
      resetCounts: () => call('DELETE', '/counts'),
      addFault: (fault) => call('POST', '/faults', fault),
      clearFaults: () => call('DELETE', '/faults'),
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
