// The same API from CommonJS (checked by `tsc --noEmit --strict`; never run).
import twinkey = require('twinkey')

const key = twinkey.ApiKey.fromJson('{"keys":[]}')
const engine = new twinkey.Engine(key, { prefer: 'key-two' })
const f: twinkey.Fetch = engine.fetch
const e = new twinkey.TwinkeyError('message', { code: 'NO_USABLE_SECRET', family: 'engine' })
console.log(f, e.code, e.family, engine.status().current, e instanceof twinkey.NoUsableSecretError)
const ring = twinkey.TokenKeyRing.generate('HS256', 'hs-1')
const v: twinkey.VerifiedToken = ring.verify(ring.mint({ subject: 's', scope: { models: ['*'], endpoints: ['models'] } }).token, { audience: 'twinkey-relay' })
const cp = new twinkey.ControlPlane(twinkey.Signer.fromConfigSync('~/.oci/config'), { region: 'us-chicago-1' })
const report: Promise<twinkey.RotationReport> = cp.rotate('ocid1.generativeaiapikey.oc1.x', { stateFile: 's.json' })
console.log(v.claims.sub, report, new twinkey.RotationError('x').code)
