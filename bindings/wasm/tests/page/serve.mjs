// Serving the test page: the esbuild bundle (openai SDK + twinkey's browser entry), the page
// with the relay's URL, and the app server's /token route; plus Chromium with the flags used here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Bundles tests/page/app.mjs for the browser (resolves `twinkey` to its `browser` entry). */
export async function bundlePage() {
  const out = await esbuild.build({
    entryPoints: [join(here, 'app.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

/**
 * The app's server on 127.0.0.1:0. `relayUrl()` is read per page load; `mint({ttl})` makes a
 * token. `route.serveStale = true` makes the next /token answer a token already past its end.
 */
export async function startApp({ bundle, relayUrl, mint, ttl = 600 }) {
  const html = readFileSync(join(here, 'index.html'), 'utf8');
  const route = { hits: 0, serveStale: false, ttl };
  const server = createServer(async (req, res) => {
    try {
      if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html.replace('__RELAY_URL__', relayUrl()));
      } else if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(bundle);
      } else if (req.url === '/token') {
        route.hits++;
        let token;
        if (route.serveStale) {
          route.serveStale = false;
          token = await mint({ ttl: 1 });
          await new Promise((r) => setTimeout(r, 1200));
        } else {
          token = await mint({ ttl: route.ttl });
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end(token);
      } else {
        res.writeHead(404).end();
      }
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { server, origin, route, close: () => new Promise((r) => server.close(r)) };
}

/** Headless Chromium with a fresh profile; `close()` stops it and removes the profile. */
export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'twinkey-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await context.close();
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // Chromium may still be flushing its profile; it is in the temp directory anyway.
    }
  };
  return { context, close };
}
