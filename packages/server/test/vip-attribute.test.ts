import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaDoc, createCardfileClient, schemaDocName } from '@cardfile/core'
import type { CardfileClient, Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { createCardfileServer } from '../src/server'
import type { CardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'

const SECRET = 'vip-attribute-secret-long-enough-for-hs256'
const WS = 'acme'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A schema as workspaces held it before VIP was an attribute: two custom attributes. */
function oldSchema(): Uint8Array {
  const doc = new Y.Doc()
  const schema = new SchemaDoc(doc)
  schema.createAttribute({ id: 'account', label: 'Account', type: 'text' })
  schema.createAttribute({ id: 'notes', label: 'Notes', type: 'text' })
  schema.updateSettings({ plan: 'enterprise', vipEnabled: true })
  schema.destroy()
  return Y.encodeStateAsUpdate(doc)
}

async function start(path: string): Promise<CardfileServer & { stop(): Promise<void> }> {
  const backend = createSqliteBackend({ path })
  const server = await createCardfileServer({
    backend,
    autoCreateWorkspaces: 'advanced',
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    logger: { warn: () => undefined },
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await server.close()
    await backend.close()
  }
  cleanups.push(stop)
  return Object.assign(server, { stop })
}

async function client(server: CardfileServer, role: Role): Promise<CardfileClient> {
  const c = createCardfileClient({
    url: server.wsUrl,
    workspace: WS,
    token: await signToken({ secret: SECRET, userId: `${role}-1`, workspace: WS, role }),
    WebSocket,
    indexedDB: false,
    keepAliveMs: 0,
  })
  cleanups.push(() => c.destroy())
  return c
}

describe('VIP as an attribute on the server', () => {
  it('adds VIP to a schema written before it was an attribute, once, at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-vip-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'cardfile.db')
    const seeding = createSqliteBackend({ path })
    await seeding.documents.append(schemaDocName(WS), oldSchema())
    await seeding.close()

    const server = await start(path)
    const admin = await client(server, 'admin')
    const schema = admin.schema()
    await schema.whenSynced()
    await expect.poll(() => schema.schema.definition('vip')?.kind).toBe('standard')
    expect(schema.schema.definitions().map((d) => d.id)).toEqual(['account', 'notes', 'vip'])
    expect(schema.schema.definition('vip')).toMatchObject({ label: 'VIP', alias: 'vip' })
    schema.release()
    await admin.destroy()
    await server.stop()

    // A second start finds it there and writes nothing more.
    const count = async () => {
      const backend = createSqliteBackend({ path })
      const n = (await backend.documents.load(schemaDocName(WS))).length
      await backend.close()
      return n
    }
    const updates = await count()
    const second = await start(path)
    const agent = await client(second, 'agent')
    const seen = agent.schema()
    await seen.whenSynced()
    expect(seen.schema.definitions().map((d) => d.id)).toEqual(['account', 'notes', 'vip'])
    seen.release()
    await agent.destroy()
    await second.stop()
    expect(await count()).toBe(updates)
  })

  it("follows the admin's order and switch on every agent's panel, and refuses an agent that moves it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-vip-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const server = await start(join(dir, 'cardfile.db'))
    const admin = await client(server, 'admin')
    const adminSchema = admin.schema()
    await adminSchema.whenSynced()
    await expect.poll(() => adminSchema.schema.definition('vip')?.kind).toBe('standard')
    adminSchema.schema.createAttribute({ id: 'account', label: 'Account', type: 'text' })

    const agent = await client(server, 'agent')
    const agentSchema = agent.schema()
    await agentSchema.whenSynced()
    const panel = () => agentSchema.schema.visibleDefinitions('sms').map((d) => d.id)
    await expect.poll(() => panel().slice(-2)).toEqual(['vip', 'account'])

    adminSchema.schema.moveAttribute('vip', { after: 'account' })
    await expect.poll(() => panel().slice(-2)).toEqual(['account', 'vip'])
    adminSchema.schema.setVisible('vip', false)
    await expect.poll(() => panel().includes('vip')).toBe(false)
    adminSchema.schema.setVisible('vip', true)
    await expect.poll(() => panel().includes('vip')).toBe(true)
    adminSchema.schema.updateSettings({ vipEnabled: false })
    await expect.poll(() => panel().includes('vip')).toBe(false)
    adminSchema.schema.updateSettings({ vipEnabled: true })
    await expect.poll(() => panel().includes('vip')).toBe(true)

    // An agent's replica moves it anyway: the server refuses and puts it back.
    agentSchema.schema.moveAttribute('vip', { before: 'account' })
    expect(panel().slice(-2)).toEqual(['vip', 'account'])
    await expect.poll(() => panel().slice(-2)).toEqual(['account', 'vip'])
    expect(
      adminSchema.schema
        .definitions()
        .map((d) => d.id)
        .slice(-2),
    ).toEqual(['account', 'vip'])
    agentSchema.release()
    adminSchema.release()
  })
})
