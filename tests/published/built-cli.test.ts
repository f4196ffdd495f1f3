import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signToken } from '@cardfile/server'
import { afterEach, describe, expect, it } from 'vitest'
import { inboundContact } from '../channel-inbound'

/**
 * The `cardfile` command as it is published: the bundle in packages/server/dist (its
 * dependencies bundled in, the SQLite driver and its commit thread's script beside it), run by
 * plain Node. turbo builds the server before this package's tests.
 */
const cli = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url))
const SECRET = 'built-cli-test-secret-0123456789'
const WORKSPACE = 'demo'
const WAIT = { timeout: 15_000, interval: 20 }

interface LogLine {
  readonly level: string
  readonly msg: string
  readonly port?: number
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams
  readonly base: string
  readonly exited: Promise<number | null>
  log(): LogLine[]
}

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

async function serve(data: string): Promise<Running> {
  const { CARDFILE_SECRET: _ignored, ...env } = process.env
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', data, '--secret', SECRET].concat(
      ['--create-workspaces', 'advanced'],
    ),
    { env: { ...env, CARDFILE_LOG_LEVEL: 'debug' } },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const log = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine)
  const port = (): number | undefined => log().find((line) => line.msg === 'listening')?.port
  await expect
    .poll(() => port() ?? (child.exitCode === null ? undefined : `exited: ${stderr}`), WAIT)
    .toBeTypeOf('number')
  return { child, base: `http://127.0.0.1:${port()}`, exited, log }
}

const tokenFor = (userId: string, role: 'system' | 'admin') =>
  signToken({ secret: SECRET, userId, workspace: WORKSPACE, role, expiresIn: '1h' })

describe('the built cardfile serve', () => {
  it('stores a change, stops on SIGTERM with exit code 0 and no error, and has it after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-built-cli-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const data = join(dir, 'cardfile.db')

    const first = await serve(data)
    const contactId = await inboundContact(
      first.base,
      WORKSPACE,
      await tokenFor('channel-ingest', 'system'),
      'visitor-1',
    )
    // The first write starts the commit thread: its script, beside the bundle, loads, or an
    // error line says it did not.
    await expect
      .poll(
        () =>
          first
            .log()
            .find((line) => line.msg === 'storage commit thread ready' || line.level === 'error')
            ?.msg,
        WAIT,
      )
      .toBe('storage commit thread ready')
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    // An error line would say the bundle missed a module.
    expect(first.log().filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual(
      [],
    )
    expect(first.log().map((line) => line.msg)).toContain('storage closed, exiting')

    const second = await serve(data)
    const read = await fetch(`${second.base}/api/${WORKSPACE}/contacts/${contactId}`, {
      headers: { authorization: `Bearer ${await tokenFor('ana', 'admin')}` },
    })
    expect(read.status).toBe(200)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(second.log().filter((line) => line.level === 'error')).toEqual([])
  })
})
