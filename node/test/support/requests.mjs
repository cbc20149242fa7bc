// Deterministic generated requests for signing cross-checks and benchmarks: methods, hosts
// (case, ports), paths and queries (spaces, non-ASCII, reserved characters, escapes), extra
// headers and bodies. Only URL characters that every client encodes the same way are used.

function prng(seedText) {
  let seed = 2166136261
  for (const ch of seedText) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const METHODS = ['GET', 'HEAD', 'DELETE', 'POST', 'PUT', 'PATCH']
const HOSTS = [
  'https://generativeai.us-chicago-1.oci.oraclecloud.com',
  'https://inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com',
  'https://GenerativeAI.US-Ashburn-1.OCI.OracleCloud.com',
  'https://generativeai.uk-london-1.oci.oraclecloud.com:443',
  'https://localhost:8443',
  'http://127.0.0.1:8080',
]
const WORDS = ['20231130', 'apiKeys', 'actions', 'v1', 'chat', 'completions', 'ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaa', 'a b', 'café', '日本', 'x_y-z.~', '%2F', "sub(delims)*!$,;=:@", 'key-one']
const QUERY = ['compartmentId=ocid1.compartment.oc1..aaaa', 'limit=10', 'page=a b', 'q=café', 'sortOrder=ASC', 'x=1+2', 'empty=', 'flag', 'k=%41%2b', 'name=日本']
const CONTENT_TYPES = [undefined, 'application/json', 'text/plain; charset=utf-8']
const BODIES = ['', '{}', '{"displayName":"twinkey","keys":["key-one","key-two"]}', '{"note":"café ☕ 日本"}', 'plain text\nwith lines']

export function generateRequests(count, seedText = 'twinkey') {
  const random = prng(seedText)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const out = []
  for (let i = 0; i < count; i++) {
    const method = METHODS[i % METHODS.length]
    const segments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS))
    const query = Array.from({ length: Math.floor(random() * 4) }, () => pick(QUERY))
    const url = `${pick(HOSTS)}/${segments.join('/')}${query.length ? `?${query.join('&')}` : ''}`
    const date = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 365 * 86400) * 1000).toUTCString()
    const headers = { 'x-date': date }
    if (random() < 0.5) headers['opc-request-id'] = `req-${i}`
    let body
    if (['POST', 'PUT', 'PATCH'].includes(method)) {
      const type = pick(CONTENT_TYPES)
      if (type !== undefined) headers['content-type'] = type
      body = pick(BODIES)
    }
    out.push({ method, url, headers, body })
  }
  return out
}
