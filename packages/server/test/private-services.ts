import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect } from 'vitest'

// Fault tests restart Redis or PostgreSQL: they do it to servers of their own on free ports,
// so that a restart never disturbs the tests sharing the machine's default services.

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0).reverse()) stop()
})

/** Resolves once something accepts TCP connections on `port`. */
export async function answering(port: number, timeout = 15_000): Promise<void> {
  const answers = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
  await expect.poll(answers, { timeout }).toBe(true)
}

/** A redis-server of the test's own on `port` (no persistence), killed after the test at the latest. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  stops.push(() => child.kill('SIGKILL'))
  await answering(port)
  return child
}

/** A PostgreSQL server of the test's own: stop and start it to play a database restart. */
export interface PrivatePostgres {
  readonly url: string
  /** Stops it at once (`pg_ctl stop -m immediate`: like a crash, no checkpoint). */
  stop(): void
  start(): Promise<void>
}

const pgBin = (): string => {
  const version = readdirSync('/usr/lib/postgresql').sort().at(-1) ?? ''
  return join('/usr/lib/postgresql', version, 'bin')
}

/**
 * Initialises and starts a PostgreSQL cluster in a temporary folder on `port` (as the postgres
 * user: PostgreSQL refuses to run as root), removed after the test.
 */
export async function startPostgres(port: number): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-pg-'))
  const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const uid = Number(pgUser.stdout.trim())
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim())
  chownSync(dir, uid, gid)
  const asPostgres = (args: string[]) => {
    const run = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' })
    if (run.status !== 0) throw new Error(`${args[0]} failed: ${run.stderr}${run.stdout}`)
  }
  asPostgres([join(pgBin(), 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres'])
  const pgCtl = (action: string, ...extra: string[]) =>
    asPostgres([
      join(pgBin(), 'pg_ctl'),
      '-D',
      join(dir, 'data'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-l',
      join(dir, 'log'),
      ...extra,
      action,
    ])
  const server: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => pgCtl('stop', '-m', 'immediate'),
    async start() {
      pgCtl('start', '-w')
      await answering(port)
    },
  }
  stops.push(() => {
    try {
      server.stop()
    } catch {
      // Already stopped.
    }
    rmSync(dir, { recursive: true, force: true })
  })
  await server.start()
  return server
}
