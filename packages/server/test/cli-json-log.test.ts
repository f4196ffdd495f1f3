import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(packageDir, 'src', 'cli.ts')

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

describe('cardfile serve logging', () => {
  it('writes JSON lines to stdout and keeps the demo tokens out of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-cli-log-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const { CARDFILE_SECRET: _ignored, ...env } = process.env
    const child = spawn(
      process.execPath,
      [
        '--conditions',
        'source',
        '--import',
        'tsx',
        cli,
        'serve',
        '--demo',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data',
        join(dir, 'cardfile.db'),
      ],
      { cwd: packageDir, env: { ...env, CARDFILE_LOG_LEVEL: 'debug' } },
    )
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    )
    const lines = (): Record<string, unknown>[] =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>)

    await expect
      .poll(() => lines().find((l) => l.msg === 'listening'), { timeout: 15_000 })
      .toBeTruthy()
    const port = lines().find((l) => l.msg === 'listening')?.port
    // The line says how far an acknowledged change is safe: fsynced, by default.
    expect(lines().find((l) => l.msg === 'listening')).toMatchObject({
      storage: 'sqlite',
      sqliteSync: 'full',
    })
    const token = /ana \(admin\): (\S+)/.exec(stderr)?.[1]
    expect(token).toBeDefined()
    const res = await fetch(`http://127.0.0.1:${String(port)}/api/demo/contacts`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'cli-req-1' },
    })
    expect(res.status).toBe(200)
    await expect
      .poll(() => lines().find((l) => l.requestId === 'cli-req-1'))
      .toMatchObject({
        level: 'info',
        msg: 'http request',
        status: 200,
        time: expect.any(Number),
      })
    // A websocket with its token in the URL, as stock providers send it.
    const ws = new WebSocket(`ws://127.0.0.1:${String(port)}/demo/schema?token=${token}`)
    await new Promise((resolve) => ws.once('message', resolve))
    ws.close()
    await expect.poll(() => lines().some((l) => l.msg === 'websocket closed')).toBe(true)
    expect(lines().find((l) => l.msg === 'websocket opened')?.url).toBe(
      '/demo/schema?token=[redacted]',
    )
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(lines().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['stopping: flushing pending commits', 'stopped']),
    )
    expect(stdout).not.toContain(token)
  })
})
