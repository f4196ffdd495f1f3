import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { portOf, runCli, serve, tempDir } from './cli-process'
import { freePort } from './free-port'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'
import { startRedis } from './private-services'
import { connectRaw, connectSynced, makeToken } from './sync-helpers'

const SECRET = 'cli-workspace-test-secret-long-enough'

const schemas: string[] = []
afterEach(async () => {
  // The servers are killed by cli-process's own cleanup first; give them a moment to let go.
  await new Promise((resolve) => setTimeout(resolve, 200))
  for (const schema of schemas.splice(0)) await dropSchema(schema)
})

const token = (workspace: string, role: 'system' | 'admin' = 'system') =>
  makeToken({ user: 'operator', role, workspace }, { secret: SECRET })

const planOf = (client: { doc: { getMap(name: string): { get(key: string): unknown } } }) =>
  client.doc.getMap('settings').get('plan')

describe('cardfile workspace on a SQLite file', () => {
  // Each command is a process of its own (a second or two under load): a longer budget.
  it(
    'creates a workspace on a plan, changes and shows it, and refuses what is wrong',
    { timeout: 90_000 },
    async () => {
      const data = join(tempDir(), 'w.db')
      const ws = (...args: string[]) => runCli(['workspace', ...args, '--data', data])

      const created = ws('create', '--workspace', 'acme', '--plan', 'business')
      expect(created.stderr).toBe('')
      expect(created.status).toBe(0)
      expect(created.stdout.trim()).toBe('workspace "acme" created on plan business')

      const again = ws('create', '--workspace', 'acme', '--plan', 'standard')
      expect(again.status).toBe(1)
      expect(again.stderr.trim()).toBe(
        'cardfile: workspace "acme" already exists (cardfile workspace set-plan)',
      )

      const raised = ws('set-plan', '--workspace', 'acme', '--plan', 'enterprise')
      expect(raised.status).toBe(0)
      expect(raised.stdout.trim()).toBe('workspace "acme" moved from plan business to enterprise')
      expect(ws('show', '--workspace', 'acme').stdout.trim()).toBe(
        'workspace "acme" is on plan enterprise',
      )

      const unknown = ws('set-plan', '--workspace', 'ghost', '--plan', 'business')
      expect(unknown.status).toBe(1)
      expect(unknown.stderr.trim()).toBe(
        'cardfile: workspace "ghost" does not exist (cardfile workspace create)',
      )
      const badPlan = ws('set-plan', '--workspace', 'acme', '--plan', 'gold')
      expect(badPlan.status).toBe(2)
      expect(badPlan.stderr).toContain(
        '--plan must be one of standard, advanced, business, enterprise, not "gold"',
      )
      expect(ws('create', '--workspace', 'acme').status).toBe(2)
      expect(ws('rename', '--workspace', 'acme').status).toBe(2)
      const badServe = runCli([
        'serve',
        '--data',
        data,
        '--secret',
        SECRET,
        '--create-workspaces',
        'x',
      ])
      expect(badServe.status).toBe(2)
      expect(badServe.stderr).toContain('--create-workspaces must be one of')
      const redisAlone = ws('show', '--workspace', 'acme', '--redis', 'redis://127.0.0.1:6379')
      expect(redisAlone.status).toBe(2)
      expect(redisAlone.stderr).toContain('--redis joins servers that share a PostgreSQL database')
      expect(ws('show', '--workspace', 'acme').stdout).toContain('enterprise')
    },
  )

  it(
    'serves what the CLI created and refuses workspaces never created',
    { timeout: 60_000 },
    async () => {
      const data = join(tempDir(), 's.db')
      expect(
        runCli(['workspace', 'create', '--workspace', 'acme', '--plan', 'business', '--data', data])
          .status,
      ).toBe(0)
      const { output } = serve(['--port', '0', '--data', data, '--secret', SECRET])
      const port = await portOf(output)
      expect(output()).toContain('workspaces: those created with `cardfile workspace create`')
      const base = `http://127.0.0.1:${port}`
      const res = await fetch(`${base}/api/acme/workspace`, {
        headers: { authorization: `Bearer ${await token('acme')}` },
      })
      expect(await res.json()).toEqual({ workspace: 'acme', plan: 'business' })

      const ghost = await fetch(`${base}/api/ghost/contacts`, {
        headers: { authorization: `Bearer ${await token('ghost', 'admin')}` },
      })
      expect(ghost.status).toBe(404)
      expect(((await ghost.json()) as { error: { code: string } }).error.code).toBe(
        'unknown-workspace',
      )
      const client = await connectRaw(
        { wsUrl: `ws://127.0.0.1:${port}` },
        'ghost/schema',
        await token('ghost', 'admin'),
      )
      expect(await client.closed).toEqual({ code: 4404, reason: 'unknown-workspace' })

      // One process per SQLite file: the CLI points at the running server's route instead.
      const busy = runCli([
        ...['workspace', 'set-plan', '--workspace', 'acme', '--plan', 'standard'],
        ...['--data', data],
      ])
      expect(busy.status).toBe(1)
      expect(busy.stderr).toContain('in use by a running server')
      expect(busy.stderr).toContain('PUT /api/acme/plan')
    },
  )
})

describe('cardfile workspace on PostgreSQL with Redis', () => {
  it(
    'changes the plan of a workspace a running instance serves, live for its clients',
    { timeout: 60_000 },
    async () => {
      const schema = freshSchema()
      schemas.push(schema)
      const redisPort = await freePort()
      await startRedis(redisPort)
      const storage = ['--postgres', postgresUrl(), '--postgres-schema', schema]
      const redis = ['--redis', `redis://127.0.0.1:${redisPort}`]
      const ws = (...args: string[]) => runCli(['workspace', ...args, ...storage, ...redis])

      expect(ws('create', '--workspace', 'acme', '--plan', 'enterprise').status).toBe(0)
      const { output } = serve(['--port', '0', '--secret', SECRET, ...storage, ...redis])
      const port = await portOf(output)
      const client = await connectSynced(
        { wsUrl: `ws://127.0.0.1:${port}` },
        'acme/schema',
        await token('acme', 'admin'),
      )
      expect(planOf(client)).toBe('enterprise')

      const lowered = ws('set-plan', '--workspace', 'acme', '--plan', 'standard')
      expect(lowered.stderr).toBe('')
      expect(lowered.status).toBe(0)
      // The connected client hears it from its own instance, without reconnecting.
      await expect.poll(() => planOf(client), { timeout: 15_000 }).toBe('standard')
      expect(client.closeInfo).toBeNull()
      expect(ws('show', '--workspace', 'acme').stdout.trim()).toBe(
        'workspace "acme" is on plan standard',
      )
      client.close()
    },
  )
})
