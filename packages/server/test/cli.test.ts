import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createAuthenticator } from '../src/auth/authenticate'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(packageDir, 'src', 'cli.ts')
// Run the CLI from source: tsx for TypeScript, the `source` condition for workspace packages.
const nodeArgs = ['--conditions', 'source', '--import', 'tsx', cli]

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function runCli(args: readonly string[], env: Record<string, string> = {}) {
  const { CARDFILE_SECRET: _ignored, ...inherited } = process.env
  return spawnSync(process.execPath, [...nodeArgs, ...args], {
    cwd: packageDir,
    env: { ...inherited, ...env },
    encoding: 'utf8',
    timeout: 15_000,
  })
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-cli-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Starts `cardfile serve` and collects its output. */
function serve(args: readonly string[]): {
  child: ChildProcessWithoutNullStreams
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
} {
  const { CARDFILE_SECRET: _ignored, ...env } = process.env
  const child = spawn(process.execPath, [...nodeArgs, 'serve', ...args], { cwd: packageDir, env })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, output: () => output, exited }
}

describe('cardfile token', () => {
  it('prints a token that the server verifier accepts with its claims', async () => {
    const result = runCli([
      'token',
      '--workspace',
      'demo',
      '--role',
      'admin',
      '--user',
      'ana',
      '--name',
      'Ana',
      '--secret',
      's3cret',
    ])
    expect(result.status).toBe(0)
    const token = result.stdout.trim()
    const actor = await createAuthenticator({ secret: 's3cret' })(token, 'demo/schema')
    expect(actor).toEqual({ userId: 'ana', role: 'admin', name: 'Ana', workspace: 'demo' })
    await expect(createAuthenticator({ secret: 'other' })(token, 'demo/schema')).rejects.toThrow()
  })

  it('reads the secret from CARDFILE_SECRET and honours --expires', async () => {
    const result = runCli(
      ['token', '--workspace', 'w1', '--role', 'system', '--user', 'ingest', '--expires', '5m'],
      { CARDFILE_SECRET: 'from-env' },
    )
    expect(result.status).toBe(0)
    const token = result.stdout.trim()
    await createAuthenticator({ secret: 'from-env' })(token, 'w1/schema')
    const [, payload = ''] = token.split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp: number
      iat: number
    }
    expect(claims.exp - claims.iat).toBe(300)
  })

  it('exits with 2 and says why for a bad role, a missing flag or an unknown flag', () => {
    const badRole = runCli(['token', '--workspace', 'demo', '--role', 'boss', '--user', 'ana'])
    expect(badRole.status).toBe(2)
    expect(badRole.stderr).toContain('--role must be one of')
    const missing = runCli(['token', '--workspace', 'demo'])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('needs --workspace, --role and --user')
    const unknown = runCli(['token', '--colour', 'red'])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain("Unknown option '--colour'")
    const badExpiry = runCli([
      'token',
      '--workspace',
      'demo',
      '--role',
      'admin',
      '--user',
      'ana',
      '--expires',
      'soon',
    ])
    expect(badExpiry.status).toBe(2)
    expect(runCli(['frobnicate']).status).toBe(2)
  })
})

describe('cardfile serve', () => {
  it('refuses to serve without a secret outside demo mode', () => {
    const result = runCli(['serve', '--port', '0', '--data', join(tempDir(), 'x.db')])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('needs a secret')
    expect(runCli(['serve', '--port', 'eighty', '--demo']).status).toBe(2)
  })

  it('serves the demo: prints the URL and tokens, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const data = join(tempDir(), 'demo.db')
    const { child, output, exited } = serve(['--port', '0', '--data', data, '--demo'])
    await expect
      .poll(() => /http:\/\/localhost:(\d+)/.exec(output())?.[1], { timeout: 15_000 })
      .toBeDefined()
    const port = /http:\/\/localhost:(\d+)/.exec(output())?.[1]
    const base = `http://127.0.0.1:${port}`
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' })

    const token = /ana \(admin\): (\S+)/.exec(output())?.[1]
    expect(token).toBeDefined()
    const contacts = await fetch(`${base}/api/demo/contacts`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(contacts.status).toBe(200)
    const { items } = (await contacts.json()) as { items: unknown[] }
    expect(items.length).toBeGreaterThanOrEqual(8)

    child.kill('SIGTERM')
    expect(await exited).toEqual({ code: 0, signal: null })
    expect(output()).toContain('stopped')

    // The data survived: a second start finds the demo seeded and does not seed it again.
    const again = serve(['--port', '0', '--data', data, '--demo'])
    await expect
      .poll(() => /http:\/\/localhost:(\d+)/.exec(again.output())?.[1], { timeout: 15_000 })
      .toBeDefined()
    expect(again.output()).toContain('already seeded')
    const port2 = /http:\/\/localhost:(\d+)/.exec(again.output())?.[1]
    const token2 = /ben \(agent\): (\S+)/.exec(again.output())?.[1]
    const list = await fetch(`http://127.0.0.1:${port2}/api/demo/contacts`, {
      headers: { authorization: `Bearer ${token2}` },
    })
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(items.length)
    again.child.kill('SIGINT')
    expect(await again.exited).toEqual({ code: 0, signal: null })
  })
})
