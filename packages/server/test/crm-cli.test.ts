import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const repoDir = join(packageDir, '..', '..')
const cli = join(packageDir, 'src', 'cli.ts')
const referenceCrm = join(repoDir, 'examples', 'crm-reference', 'main.ts')
const CRM_SECRET = '5e'.repeat(32)
const SECRET = 'crm-cli-test-secret'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-crm-cli-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Starts a TypeScript entry point with tsx (the `source` condition for workspace packages). */
function start(script: string, args: readonly string[], cwd: string) {
  const { CARDFILE_SECRET: _s, CRM_SECRET: _c, CRM_PORT: _p, CRM_DATA: _d, ...env } = process.env
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--conditions', 'source', '--import', 'tsx', script, ...args],
    { cwd, env },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, output: () => output }
}

/** Waits until `pattern` shows in the output and returns its first group. */
async function waitFor(output: () => string, pattern: RegExp): Promise<string> {
  await expect.poll(() => pattern.exec(output())?.[1], { timeout: 15_000 }).toBeDefined()
  return pattern.exec(output())![1]!
}

interface Received {
  readonly path: string
  readonly signatureOk: boolean
  readonly body: {
    readonly trigger?: string
    readonly conversationId?: string
    readonly conversation?: { readonly id: string }
  } | null
}

describe('cardfile serve --demo --crm-url', () => {
  it('connects the demo workspace to the reference CRM, which receives a signed lookup when a conversation starts', async () => {
    const dir = tempDir()
    const crm = start(
      referenceCrm,
      ['--port', '0', '--secret', CRM_SECRET, '--data', join(dir, 'crm.json')],
      repoDir,
    )
    const base = await waitFor(crm.output, /base URL:\s+(\S+)/)
    expect(crm.output()).toContain(`--crm-url ${base} --crm-secret ${CRM_SECRET}`)
    const crmUrl = new URL(base).origin

    const server = start(
      cli,
      [
        'serve',
        ...['--port', '0', '--host', '127.0.0.1', '--data', join(dir, 'demo.db'), '--demo'],
        ...['--secret', SECRET, '--crm-url', base, '--crm-secret', CRM_SECRET],
      ],
      packageDir,
    )
    const token = await waitFor(server.output, /channel-ingest \(system\): (\S+)/)
    const url = /Cardfile serving on (\S+)/.exec(server.output())![1]!
    expect(server.output()).toContain(`CRM:       ${base}`)
    expect(server.output()).toContain(`secret …${CRM_SECRET.slice(-4)}`)
    // The secret was given: it is never printed back.
    expect(server.output()).not.toContain(CRM_SECRET)

    const response = await fetch(`${url}/api/demo/inbound`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: 'email',
        platformUserId: 'zoe@example.com',
        metadata: { email: 'zoe@example.com' },
        message: { text: 'Hello from a new customer' },
      }),
    })
    expect(response.status).toBe(200)
    const { conversationId } = (await response.json()) as { conversationId: string }

    const received = async (): Promise<Received[]> =>
      (await (await fetch(`${crmUrl}/admin/received`)).json()) as Received[]
    await expect
      .poll(async () =>
        (await received()).find(
          (r) => r.path === '/cardfile/lookup' && r.body?.conversationId === conversationId,
        ),
      )
      .toMatchObject({ signatureOk: true, body: { trigger: 'conversation-started' } })
    await expect
      .poll(async () =>
        (await received()).find(
          (r) => r.path === '/cardfile/notification' && r.body?.conversation?.id === conversationId,
        ),
      )
      .toMatchObject({ signatureOk: true })
  })

  it('refuses --crm-url without --demo, a URL that is not http(s) and a secret that is not hex', () => {
    const data = join(tempDir(), 'x.db')
    const run = (args: readonly string[]) =>
      spawnSync(
        process.execPath,
        ['--conditions', 'source', '--import', 'tsx', cli, 'serve', '--port', '0', ...args],
        { cwd: packageDir, encoding: 'utf8', timeout: 15_000 },
      )
    const noDemo = run(['--data', data, '--secret', SECRET, '--crm-url', 'http://127.0.0.1:1'])
    expect(noDemo.status).toBe(2)
    expect(noDemo.stderr).toContain('use it with --demo')
    const badUrl = run(['--data', data, '--demo', '--crm-url', 'ftp://crm'])
    expect(badUrl.status).toBe(2)
    expect(badUrl.stderr).toContain('--crm-url must be an http(s) URL')
    const badSecret = run([
      ...['--data', data, '--demo', '--crm-url', 'http://127.0.0.1:1', '--crm-secret', 'nope'],
    ])
    expect(badSecret.status).toBe(2)
    expect(badSecret.stderr).toContain('--crm-secret must be hex')
  })
})
