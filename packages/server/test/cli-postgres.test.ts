import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { portOf, runCli, serve } from './cli-process'
import { freePort } from './free-port'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'
import { startRedis } from './private-services'

const schemas: string[] = []
const proxies: Server[] = []
afterEach(async () => {
  for (const proxy of proxies.splice(0)) proxy.close()
  // The servers are killed by cli-process's own cleanup first; give them a moment to let go.
  await new Promise((resolve) => setTimeout(resolve, 200))
  for (const schema of schemas.splice(0)) await dropSchema(schema)
})

const newSchema = (): string => {
  const schema = freshSchema()
  schemas.push(schema)
  return schema
}

/** `serve` flags for the demo on a schema of its own in the test database (at `url`). */
const demoOn = (schema: string, url = postgresUrl()): string[] => [
  '--port',
  '0',
  '--demo',
  '--postgres',
  url,
  '--postgres-schema',
  schema,
]

const contactCount = async (port: string, output: string): Promise<number> => {
  const token = /ana \(admin\): (\S+)/.exec(output)?.[1]
  const res = await fetch(`http://127.0.0.1:${port}/api/demo/contacts?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: unknown[] }).items.length
}

/**
 * A TCP proxy in front of the test database that can be cut (every connection dropped, new
 * ones refused) and restored, to play a database that goes away and comes back.
 */
async function cuttableProxy(): Promise<{ url: string; cut(): void; restore(): void }> {
  const target = new URL(postgresUrl())
  let open = true
  const sockets = new Set<Socket>()
  const proxy = createServer((client) => {
    if (!open) {
      client.destroy()
      return
    }
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    client.pipe(upstream).pipe(client)
  })
  proxies.push(proxy)
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  const url = new URL(postgresUrl())
  url.host = `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  return {
    url: url.toString(),
    cut() {
      open = false
      for (const s of sockets) s.destroy()
    },
    restore() {
      open = true
    },
  }
}

describe('cardfile serve --postgres', () => {
  it(
    'serves the demo from PostgreSQL, keeps it across restarts, and never prints the password',
    { timeout: 60_000 },
    async () => {
      const schema = newSchema()
      const url = new URL(postgresUrl())
      url.password = 'not-needed-with-trust'
      const args = [...demoOn(schema, url.toString())]
      const first = serve(args)
      const port = await portOf(first.output)
      expect(first.output()).toContain(`PostgreSQL ${url.host}${url.pathname} (schema ${schema})`)
      expect(first.output()).not.toContain('not-needed-with-trust')
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)
      const seeded = await contactCount(port, first.output())
      expect(seeded).toBeGreaterThanOrEqual(8)
      first.child.kill('SIGTERM')
      expect(await first.exited).toEqual({ code: 0, signal: null })

      // The environment variables name the same database.
      const again = serve(['--port', '0', '--demo'], {
        CARDFILE_POSTGRES_URL: url.toString(),
        CARDFILE_POSTGRES_SCHEMA: schema,
      })
      const port2 = await portOf(again.output)
      expect(again.output()).toContain('already seeded')
      expect(await contactCount(port2, again.output())).toBe(seeded)
    },
  )

  it('runs a second instance on a database another one is serving (unlike a SQLite file)', async () => {
    const schema = newSchema()
    const args = demoOn(schema)
    const first = serve(args)
    const port1 = await portOf(first.output)
    const second = serve(args)
    const port2 = await portOf(second.output)
    expect(second.output()).toContain('already seeded')
    const seeded = await contactCount(port1, first.output())
    expect(seeded).toBeGreaterThanOrEqual(8)
    expect(await contactCount(port2, second.output())).toBe(seeded)
  }, 60_000)

  it(
    'says not ready while the database is unreachable and recovers by itself',
    { timeout: 60_000 },
    async () => {
      const proxy = await cuttableProxy()
      const schema = newSchema()
      const { output, child } = serve([...demoOn(schema, proxy.url)])
      const port = await portOf(output)
      const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status
      expect(await ready()).toBe(200)
      proxy.cut()
      await expect.poll(ready, { timeout: 15_000 }).toBe(503)
      // Requests that need the database fail cleanly, and the process stays up.
      const token = /ana \(admin\): (\S+)/.exec(output())?.[1]
      const res = await fetch(`http://127.0.0.1:${port}/api/demo/contacts`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } })
      expect(child.exitCode).toBeNull()
      proxy.restore()
      await expect.poll(ready, { timeout: 15_000 }).toBe(200)
      expect(await contactCount(port, output())).toBeGreaterThanOrEqual(8)
    },
  )

  it('refuses contradictory or malformed database flags with exit code 2', () => {
    const both = runCli(['serve', '--demo', '--data', 'x.db', '--postgres', postgresUrl()])
    expect(both.status).toBe(2)
    expect(both.stderr).toContain('not both')
    // A database named only in the environment gives way to an explicit --data.
    const data = runCli(['serve', '--port', '0', '--data', 'x.db'], {
      CARDFILE_POSTGRES_URL: 'not a url',
    })
    expect(data.status).toBe(2)
    expect(data.stderr).toContain('needs a secret')
    const bad = runCli(['serve', '--demo', '--postgres', 'mysql://db/x'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('postgres:// URL')
    const schema = runCli([
      'serve',
      '--demo',
      '--postgres',
      postgresUrl(),
      '--postgres-schema',
      'A;B',
    ])
    expect(schema.status).toBe(2)
  })

  it('exits with one clear line when the database does not answer at start', async () => {
    const url = new URL(postgresUrl())
    url.port = '1'
    url.password = 'secret-pw'
    const { exited, output } = serve(['--port', '0', '--demo', '--postgres', url.toString()])
    expect((await exited).code).toBe(1)
    expect(output().trim()).toBe(
      `cardfile: cannot reach PostgreSQL ${url.host}${url.pathname} (schema public)`,
    )
    expect(output()).not.toContain('secret-pw')
  })
})

describe('cardfile serve --redis', () => {
  it('shares the failed-token count between instances', { timeout: 60_000 }, async () => {
    const schema = newSchema()
    const args = demoOn(schema)
    const redisPort = await freePort()
    await startRedis(redisPort)
    const redis = ['--redis', `redis://127.0.0.1:${redisPort}`]
    const a = serve([...args, ...redis])
    const portA = await portOf(a.output)
    const b = serve([...args, ...redis])
    const portB = await portOf(b.output)
    expect(a.output()).toContain(`shared:    Redis 127.0.0.1:${redisPort}`)
    const guess = (port: string) =>
      fetch(`http://127.0.0.1:${port}/api/demo/contacts`, {
        headers: { authorization: 'Bearer not-a-token' },
      })
    // 60 failed guesses a minute from one address, spread over both instances.
    for (let i = 0; i < 30; i += 1) {
      expect((await guess(portA)).status).toBe(401)
      expect((await guess(portB)).status).toBe(401)
    }
    const refused = await guess(portA)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it(
    'says not ready while Redis is down and recovers when it is back',
    { timeout: 60_000 },
    async () => {
      const redisPort = await freePort()
      const redis = await startRedis(redisPort)
      const schema = newSchema()
      const { output } = serve([...demoOn(schema), '--redis', `redis://127.0.0.1:${redisPort}`])
      const port = await portOf(output)
      const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status
      expect(await ready()).toBe(200)
      redis.kill('SIGKILL')
      await expect.poll(ready, { timeout: 15_000 }).toBe(503)
      // What does not need Redis goes on.
      expect(await contactCount(port, output())).toBeGreaterThanOrEqual(8)
      await startRedis(redisPort)
      await expect.poll(ready, { timeout: 15_000 }).toBe(200)
    },
  )

  it('refuses a malformed Redis URL (2) and an unreachable Redis (1) in one line', async () => {
    const bad = runCli(['serve', '--demo', '--redis', 'http://cache:6379'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('redis:// URL')
    const port = await freePort()
    const { exited, output } = serve([
      ...demoOn(newSchema()),
      '--redis',
      `redis://127.0.0.1:${port}`,
    ])
    expect((await exited).code).toBe(1)
    expect(output().trim().split('\n').at(-1)).toBe(
      `cardfile: cannot reach Redis 127.0.0.1:${port}`,
    )
  })
})
