// The same API from CommonJS (checked by `tsc --noEmit --strict`; never run).
import twinkey = require('twinkey')

const key = twinkey.ApiKey.fromJson('{"keys":[]}')
const engine = new twinkey.Engine(key, { prefer: 'key-two' })
const f: twinkey.Fetch = engine.fetch
const e = new twinkey.TwinkeyError('message', { code: 'NO_USABLE_SECRET', family: 'engine' })
console.log(f, e.code, e.family, engine.status().current, e instanceof twinkey.NoUsableSecretError)
