// Test harness: the real `twinkey` binary runs the emulator (`twinkey emulate --init`) and the
// relay (`twinkey relay`) on 127.0.0.1, signing keys come from `twinkey token keygen`, tokens
// from `twinkey token mint`. Nothing here decides anything for the client under test.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
export const BIN = process.env.TWINKEY_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'twinkey');

/** Starts a long-running `twinkey --json ...` and resolves with its first JSON line. */
function service(args) {
  const child = spawn(BIN, ['--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve({ child, info: JSON.parse(line) }));
    child.once('exit', (code) => reject(new Error(`twinkey ${args[0]} exited with ${code}`)));
  });
}

export class Stack {
  /** Emulator + keys + relay. `origins`: CORS origins for the relay. */
  static async start({ origins = [], leeway = 0 } = {}) {
    const s = new Stack();
    s.dir = mkdtempSync(join(tmpdir(), 'twinkey-wasm-'));
    s.keys = join(s.dir, 'token-keys.json');
    await run(BIN, ['token', 'keygen', '--out', s.keys, '--kid', 'browser-test']);
    s.emu = await service(['emulate', '--listen', '127.0.0.1:0', '--init', join(s.dir, 'emu')]);
    s.keyFile = s.emu.info.key_file;
    s.keyId = s.emu.info.keys[0].id;
    s.admin = s.emu.info.admin_url;
    const cors = origins.flatMap((o) => ['--cors-origin', o]);
    s.relay = await service(['relay', '--key', s.keyFile, '--token-key', s.keys, '--listen', '127.0.0.1:0',
      '--upstream', s.emu.info.base_url, '--leeway', String(leeway), ...cors,
      '--budget', JSON.stringify({ tokensPerMinute: 200000, policy: 'wait' })]);
    s.relayUrl = s.relay.info.url;
    s.adminUrl = s.relay.info.admin_url;
    return s;
  }

  /** Mints a token with the CLI (what an app server does with the library). */
  async mint({ ttl = 600, models = ['*'], endpoints = ['chat.completions', 'responses'], maxOutputTokens, maxRequests } = {}) {
    const args = ['token', 'mint', '--token-key', this.keys, '--sub', 'browser-user', '--ttl', String(ttl),
      ...models.flatMap((m) => ['--model', m]), ...endpoints.flatMap((e) => ['--endpoint', e])];
    if (maxOutputTokens) args.push('--max-output-tokens', String(maxOutputTokens));
    if (maxRequests) args.push('--max-requests', String(maxRequests));
    const { stdout } = await run(BIN, args);
    return stdout.trim();
  }

  /** Everything that must never reach a page: both OCI secrets and the token signing key. */
  forbidden() {
    const key = JSON.parse(readFileSync(this.keyFile, 'utf8'));
    const ring = JSON.parse(readFileSync(this.keys, 'utf8'));
    return [...key.keys.map((k) => k.key), ...ring.keys.map((k) => k.d ?? k.k)].filter(Boolean);
  }

  /** The emulator's per-secret counts: `{name: {requests, accepted, rejected}}`. */
  async counts() {
    const res = await fetch(`${this.admin}/counts`);
    const body = await res.json();
    const out = {};
    for (const row of body.secrets) {
      if (row.keyId !== this.keyId) continue;
      const c = (out[row.secret] ??= { requests: 0, accepted: 0, rejected: 0 });
      c.requests += row.requests;
      c.accepted += row.accepted;
      c.rejected += row.rejected;
    }
    return out;
  }

  /** Sets a secret's state on the service (what OCI knows), e.g. to revoke it. */
  async setState(keyName, state) {
    const res = await fetch(`${this.admin}/keys/${this.keyId}/setstate`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keyName, state }),
    });
    if (!res.ok) throw new Error(`setstate ${res.status}: ${await res.text()}`);
  }

  async stop() {
    for (const s of [this.relay, this.emu]) {
      if (s && s.child.exitCode === null) {
        const exited = new Promise((r) => s.child.once('exit', r));
        s.child.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The secret that served the most recent accepted request, from two count snapshots. */
export function servedBy(before, after) {
  return Object.keys(after).find((n) => (after[n].accepted ?? 0) > (before[n]?.accepted ?? 0));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
