'use strict'
// Loads the addon (generated loader in ../native) and registers the error factory, so every
// error the addon throws is a TwinkeyError subclass; gives the native classes safe
// `util.inspect` output (names and fingerprints only; kids and algorithms of token keys).
const { inspect } = require('node:util')
const binding = require('../native/index.js')
const { makeError } = require('./errors.js')

binding.setErrorFactory(makeError)

function show(describe) {
  return {
    value: function inspectSafely() {
      return describe(this)
    },
    configurable: true,
    writable: true,
  }
}

Object.defineProperty(binding.ApiKey.prototype, inspect.custom, show((k) => k.toString()))
Object.defineProperty(binding.Attempt.prototype, inspect.custom, show((a) => a.toString()))
Object.defineProperty(binding.Signer.prototype, inspect.custom, show((s) => s.toString()))
Object.defineProperty(binding.TokenKeyRing.prototype, inspect.custom, show((r) => r.toString()))
Object.defineProperty(binding.NativeControlPlane.prototype, inspect.custom, show((c) => c.toString()))
Object.defineProperty(binding.RelayGate.prototype, inspect.custom, show(() => 'RelayGate'))
Object.defineProperty(binding.Admission.prototype, inspect.custom, show((a) => `Admission ${a.endpoint} ${a.model ?? '-'} for ${a.subject}`))
Object.defineProperty(binding.ManualClock.prototype, inspect.custom, show((c) => `ManualClock ${c.toISOString()}`))
Object.defineProperty(binding.ManualClock.prototype, 'toString', show((c) => `ManualClock ${c.toISOString()}`))

module.exports = binding
