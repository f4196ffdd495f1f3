import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAuthenticator } from '../src/auth/authenticate'
import { portOf, runCli, serve, tempDir } from './cli-process'

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

  it('exits with 2 and says why for a --sqlite-sync that is not full or normal, or given with --postgres', () => {
    const data = join(tempDir(), 'x.db')
    const bad = runCli(['serve', '--demo', '--port', '0', '--data', data, '--sqlite-sync', 'off'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('--sqlite-sync must be full or normal: "off"')
    const fromEnv = runCli(['serve', '--demo', '--port', '0', '--data', data], {
      CARDFILE_SQLITE_SYNC: 'sometimes',
    })
    expect(fromEnv.status).toBe(2)
    expect(fromEnv.stderr).toContain('--sqlite-sync must be full or normal: "sometimes"')
    const onPostgres = runCli([
      'serve',
      '--demo',
      '--port',
      '0',
      '--postgres',
      'postgres://postgres@127.0.0.1:5432/postgres',
      '--sqlite-sync',
      'normal',
    ])
    expect(onPostgres.status).toBe(2)
    expect(onPostgres.stderr).toContain('--sqlite-sync is about the SQLite file')
  })

  it('serves the demo: prints the URL and tokens, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const data = join(tempDir(), 'demo.db')
    const { child, output, exited } = serve(['--port', '0', '--data', data, '--demo'])
    await expect
      .poll(() => /http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1], { timeout: 15_000 })
      .toBeDefined()
    const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1]
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
      .poll(() => /http:\/\/127\.0\.0\.1:(\d+)/.exec(again.output())?.[1], { timeout: 15_000 })
      .toBeDefined()
    expect(again.output()).toContain('already seeded')
    const port2 = /http:\/\/127\.0\.0\.1:(\d+)/.exec(again.output())?.[1]
    const token2 = /ben \(agent\): (\S+)/.exec(again.output())?.[1]
    const list = await fetch(`http://127.0.0.1:${port2}/api/demo/contacts`, {
      headers: { authorization: `Bearer ${token2}` },
    })
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(items.length)
    again.child.kill('SIGINT')
    expect(await again.exited).toEqual({ code: 0, signal: null })
  })
})

describe('cardfile serve, deployed safely', () => {
  /** The first non-internal IPv4 address of this machine, to reach a server from "outside". */
  const externalAddress = (): string => {
    for (const list of Object.values(networkInterfaces())) {
      for (const entry of list ?? []) {
        if (entry.family === 'IPv4' && !entry.internal) return entry.address
      }
    }
    throw new Error('this machine has no non-loopback IPv4 address to test with')
  }

  it('listens on loopback in demo mode unless a host is given', async () => {
    const { output } = serve(['--port', '0', '--data', join(tempDir(), 'd.db'), '--demo'])
    const port = await portOf(output)
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    await expect(fetch(`http://${externalAddress()}:${port}/healthz`)).rejects.toThrow()
  })

  it('signs development tokens for clients on this machine only', async () => {
    const { output } = serve([
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--data',
      join(tempDir(), 'd.db'),
      '--demo',
    ])
    const port = await portOf(output)
    const ask = (host: string) =>
      fetch(`http://${host}:${port}/api/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workspace: 'demo', role: 'admin', userId: 'mallory' }),
      })
    expect((await ask('127.0.0.1')).status).toBe(200)
    const outside = await ask(externalAddress())
    expect(outside.status).toBe(403)
    expect(await outside.json()).toMatchObject({ error: { code: 'forbidden' } })
    expect(output()).toContain('for clients on this machine only')
  })

  it('refuses a second server on the same database with one clear line', async () => {
    const data = join(tempDir(), 'shared.db')
    const first = serve(['--port', '0', '--data', data, '--demo'])
    await portOf(first.output)
    const second = serve(['--port', '0', '--data', data, '--demo'])
    expect((await second.exited).code).toBe(1)
    expect(second.output().trim()).toMatch(
      /^cardfile: .*shared\.db is in use by another Cardfile server \(process \d+\); stop it, or choose another file with --data$/,
    )
  })

  it('says in one line which flag to change when the port is busy', async () => {
    const first = serve(['--port', '0', '--data', join(tempDir(), 'a.db'), '--demo'])
    const port = await portOf(first.output)
    const second = serve(['--port', port, '--data', join(tempDir(), 'b.db'), '--demo'])
    expect((await second.exited).code).toBe(1)
    expect(second.output().trim()).toBe(
      `cardfile: port ${port} is in use on 127.0.0.1; choose another with --port`,
    )
  })

  it('recreates the demo from scratch with --reset-demo', async () => {
    const data = join(tempDir(), 'demo.db')
    const first = serve(['--port', '0', '--data', data, '--demo'])
    const port = await portOf(first.output)
    const token = /ana \(admin\): (\S+)/.exec(first.output())?.[1]
    const created = await fetch(`http://127.0.0.1:${port}/api/demo/inbound`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${/channel-ingest \(system\): (\S+)/.exec(first.output())?.[1]}`,
      },
      body: JSON.stringify({
        channel: 'sms',
        platformUserId: '+15550109999',
        metadata: {},
        message: { text: 'hi' },
      }),
    })
    expect(created.status).toBe(200)
    const count = async (p: string, t: string | undefined) =>
      (
        (await (
          await fetch(`http://127.0.0.1:${p}/api/demo/contacts?limit=100`, {
            headers: { authorization: `Bearer ${t}` },
          })
        ).json()) as { items: unknown[] }
      ).items.length
    const before = await count(port, token)
    first.child.kill('SIGTERM')
    await first.exited
    expect(runCli(['serve', '--reset-demo', '--data', data]).status).toBe(2)
    const again = serve(['--port', '0', '--data', data, '--demo', '--reset-demo'])
    const port2 = await portOf(again.output)
    expect(again.output()).not.toContain('already seeded')
    const token2 = /ana \(admin\): (\S+)/.exec(again.output())?.[1]
    expect(await count(port2, token2)).toBe(before - 1)
  })
})

describe('cardfile serve, outbound targets', () => {
  /** A demo server started with `args` and `env`: its URL and an admin token. */
  const demo = async (args: readonly string[], env: Record<string, string> = {}) => {
    const { output } = serve(
      ['--port', '0', '--data', join(tempDir(), 'w.db'), '--demo', ...args],
      env,
    )
    const port = await portOf(output)
    await expect.poll(() => /ana \(admin\): (\S+)/.exec(output())?.[1]).toBeDefined()
    return { base: `http://127.0.0.1:${port}`, token: /ana \(admin\): (\S+)/.exec(output())![1]! }
  }
  const register = async ({ base, token }: { base: string; token: string }) => {
    const response = await fetch(`${base}/api/demo/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['contact.created'] }),
    })
    const body = (await response.json()) as { error?: { code: string } }
    return { status: response.status, code: body.error?.code }
  }

  it('refuses a loopback webhook unless --allow-private-webhook-targets or its environment variable allows it', async () => {
    expect(await register(await demo([]))).toEqual({ status: 400, code: 'forbidden-target' })
    expect((await register(await demo(['--allow-private-webhook-targets']))).status).toBe(201)
    const byEnv = await demo([], { CARDFILE_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true' })
    expect((await register(byEnv)).status).toBe(201)
    const bad = runCli(['serve', '--port', '0', '--demo'], {
      CARDFILE_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'sometimes',
    })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('CARDFILE_ALLOW_PRIVATE_WEBHOOK_TARGETS must be true or false')
  })

  it('refuses a loopback CRM URL unless --allow-private-outbound-targets or its environment variable allows it, which allow webhooks too', async () => {
    const configure = async ({ base, token }: { base: string; token: string }) => {
      const response = await fetch(`${base}/api/demo/crm/config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ lookupUrl: 'http://127.0.0.1:9/lookup' }),
      })
      const body = (await response.json()) as { error?: { code: string } }
      return { status: response.status, code: body.error?.code }
    }
    expect(await configure(await demo([]))).toEqual({ status: 400, code: 'forbidden-target' })
    const byFlag = await demo(['--allow-private-outbound-targets'])
    expect((await configure(byFlag)).status).toBe(200)
    expect((await register(byFlag)).status).toBe(201)
    const byEnv = await demo([], { CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS: 'true' })
    expect((await configure(byEnv)).status).toBe(200)
    const bad = runCli(['serve', '--port', '0', '--demo'], {
      CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS: 'sometimes',
    })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS must be true or false')
  })
})
