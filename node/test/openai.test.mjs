// openai@6 (the package `openai`), on the Node that runs this file (Node 20 in CI).
import OpenAI from 'openai'
import { registerOpenAITests } from './support/openai-scenarios.mjs'

registerOpenAITests(OpenAI, '6')
