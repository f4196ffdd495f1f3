import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { SqliteBackend } from '@cardfile/server/sqlite'
import type { CardfileServer } from '@cardfile/server'
import { SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const SECRET = 'integration-secret-long-enough-for-hs256'
const SYSTEM: Actor = { userId: 'system', role: 'system' }

const token = (user: string, role: Actor['role']) =>
  new SignJWT({ workspace: 'demo', role, name: user })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))

let dir: string
let backend: SqliteBackend
let server: CardfileServer
const providers: WebsocketProvider[] = []

const startServer = async () => {
  backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  server = await createCardfileServer({
    backend,
    auth: { secret: SECRET },
    autoCreateWorkspaces: 'advanced',
  })
}

const stopServer = async () => {
  for (const p of providers.splice(0)) p.destroy()
  await server.close()
  await backend.close()
}

/** A stock y-websocket provider, exactly as an app without the Cardfile SDK would use it. */
const open = async (docName: string, user: string, role: Actor['role']) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.wsUrl, docName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token: await token(user, role) },
  })
  providers.push(provider)
  await expect.poll(() => provider.synced).toBe(true)
  return { doc, provider }
}

const schemaView = (doc: Y.Doc) => new SchemaDoc(doc).view()

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardfile-sync-'))
  await startServer()
})

afterEach(async () => {
  await stopServer()
  rmSync(dir, { recursive: true, force: true })
})

describe('a stock y-websocket provider', () => {
  it('syncs schema, contact and conversation documents', async () => {
    const admin = await open('demo/schema', 'ana', 'admin')
    // The server seeded the new workspace's platform attributes.
    await expect.poll(() => new SchemaDoc(admin.doc).definition('email')?.kind).toBe('platform')
    new SchemaDoc(admin.doc).createAttribute({ id: 'tier', label: 'Tier', type: 'text' })
    const other = await open('demo/schema', 'bo', 'agent')
    await expect.poll(() => new SchemaDoc(other.doc).definition('tier')?.label).toBe('Tier')

    await server.host.transact('demo/contact/c1', SYSTEM, (doc) =>
      new ContactDoc(doc, 'c1').setProfile({
        channel: 'sms',
        platformUserId: '+15550001',
        hint: '+1555***01',
        createdAt: 1,
      }),
    )
    const contact = await open('demo/contact/c1', 'bo', 'agent')
    expect(new ContactDoc(contact.doc, 'c1').read().profile?.platformUserId).toBe('+15550001')

    await server.host.transact('demo/conversation/v1', SYSTEM, (doc) => {
      doc.getMap('meta').set('contactId', 'c1')
      doc.getMap('meta').set('channel', 'sms')
    })
    const conversation = await open('demo/conversation/v1', 'bo', 'agent')
    expect(conversation.doc.getMap('meta').get('contactId')).toBe('c1')
    const page = await backend.index.listConversations('demo', {
      contactIds: ['c1'],
      order: 'newest',
      limit: 10,
    })
    expect(page.items.map((row) => row.id)).toEqual(['v1'])
  })

  it('lets two agents edit one contact and converge', async () => {
    await server.host.transact('demo/contact/c2', SYSTEM, (doc) =>
      new ContactDoc(doc, 'c2').setProfile({
        channel: 'email',
        platformUserId: 'li@example.com',
        hint: 'li***',
        createdAt: 1,
      }),
    )
    const schema = await open('demo/schema', 'ana', 'admin')
    new SchemaDoc(schema.doc).createAttribute({ id: 'city', label: 'City', type: 'text' })
    new SchemaDoc(schema.doc).createAttribute({ id: 'team', label: 'Team', type: 'text' })
    const ana = await open('demo/contact/c2', 'ana', 'agent')
    const bo = await open('demo/contact/c2', 'bo', 'agent')
    await expect.poll(() => new SchemaDoc(schema.doc).definition('team') !== undefined).toBe(true)
    const view = await server.host.read('demo/schema', schemaView)
    expect(view.definitions.has('team')).toBe(true)
    const anaContact = new ContactDoc(ana.doc, 'c2')
    const boContact = new ContactDoc(bo.doc, 'c2')
    for (let i = 0; i < 10; i++) {
      anaContact.setValue('city', `Lisbon ${i}`, { userId: 'ana', role: 'agent' }, view)
      boContact.setValue('team', `Blue ${i}`, { userId: 'bo', role: 'agent' }, view)
    }
    boContact.setValue('city', 'Porto', { userId: 'bo', role: 'agent' }, view)
    await expect
      .poll(() => JSON.stringify(ana.doc.getMap('custom').toJSON()))
      .toBe(JSON.stringify(bo.doc.getMap('custom').toJSON()))
    const read = anaContact.read()
    expect(read.custom.team?.value).toBe('Blue 9')
    expect(read.custom.city?.value).toBe('Porto')
  })

  it('keeps everything after a restart', async () => {
    const schema = await open('demo/schema', 'ana', 'admin')
    new SchemaDoc(schema.doc).createAttribute({ id: 'lang', label: 'Language', type: 'text' })
    await expect
      .poll(() => server.host.read('demo/schema', (d) => new SchemaDoc(d).definition('lang')?.id))
      .toBe('lang')
    // Wait until the commit is durable: the server relays only after commits, so a second
    // client seeing the change means storage has it.
    const check = await open('demo/schema', 'bo', 'agent')
    expect(new SchemaDoc(check.doc).definition('lang')?.label).toBe('Language')
    await stopServer()
    await startServer()
    const after = await open('demo/schema', 'ana', 'admin')
    expect(new SchemaDoc(after.doc).definition('lang')?.label).toBe('Language')
    expect(server.loadedDocuments()).toBe(1)
  })
})
