import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildAuthApi, type Harness } from '../auth-api-harness.js'

// argon2-cffi (over libargon2, the reference C implementation), as Debian packages it: an
// implementation that shares no code with ours. Debian's own python3, not one on PATH: a pyenv
// or venv Python would lack the module.
const python = '/usr/bin/python3'
const missing =
  'the independent argon2 verifier is missing: install the Debian package python3-argon2 ' +
  '(apt-get install -y python3-argon2), which provides `import argon2` for /usr/bin/python3'

function runPython(script: string, input: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${python} exited with ${code}: ${err.trim()}`))
      else resolve(JSON.parse(out))
    })
    child.stdin.end(JSON.stringify(input))
  })
}

// Reads [[password, hash], ...]; answers one result each: true, or the verifier's complaint.
const verifyScript = `
import json, sys
from argon2 import PasswordHasher
ph = PasswordHasher()
out = []
for password, digest in json.load(sys.stdin):
    try:
        out.append(ph.verify(digest, password))
    except Exception as e:
        out.append(type(e).__name__ + ": " + str(e))
print(json.dumps(out))
`

// Reads [password, ...]; answers argon2-cffi's hashes of them with the test configuration.
const hashScript = `
import json, sys
from argon2 import PasswordHasher, Type
ph = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
print(json.dumps([ph.hash(p) for p in json.load(sys.stdin)]))
`

const passwords = [
  'correct horse battery staple',
  'pässwörd 🔑 with spaces',
  'ｆｕｌｌｗｉｄｔｈ and 中文 and ﷽',
  'x'.repeat(1024),
]

// Checked by each test, so a machine without the verifier fails them with the fix, never skips.
let verifier: Promise<void> | undefined
function requireVerifier(): Promise<void> {
  verifier ??= runPython('import argon2; print("true")', null).then(
    () => undefined,
    (error: unknown) => {
      throw new Error(`${missing} (${error instanceof Error ? error.message : String(error)})`)
    },
  )
  return verifier
}

let harness: Harness
beforeAll(async () => {
  harness = await buildAuthApi()
})
afterAll(async () => {
  await harness.app.close()
})

function post(url: string, payload: object) {
  return harness.app.inject({ method: 'POST', url, payload, headers: bearer })
}

describe('another argon2 implementation', () => {
  it('verifies every hash auth-api stores, and refuses them for a wrong password', async () => {
    await requireVerifier()
    const pairs: [string, string][] = []
    for (const password of passwords) {
      const res = await post('/v1/passwords/hash', { password })
      expect(res.statusCode).toBe(200)
      pairs.push([password, res.json<{ hash: string }>().hash])
    }
    expect(await runPython(verifyScript, pairs)).toEqual(pairs.map(() => true))
    const wrong = pairs.map(([password, hash]) => [`${password}?`, hash])
    const answers = (await runPython(verifyScript, wrong)) as string[]
    for (const answer of answers) expect(answer).toMatch(/^VerifyMismatchError/)
  })

  it('writes hashes that auth-api verifies as current', async () => {
    await requireVerifier()
    const hashes = (await runPython(hashScript, passwords)) as string[]
    for (const [i, hash] of hashes.entries()) {
      const res = await post('/v1/passwords/verify', { password: passwords[i] ?? '', hash })
      expect(res.json()).toEqual({ valid: true, needsRehash: false })
    }
  })
})
