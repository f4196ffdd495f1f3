import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { createCardfileServer } from '@cardfile/server'
import type { AuthenticatedActor, CardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import { SECRET, connectClient, createPlan, openSockets, startServer } from './harness'

/** Records the path of every websocket upgrade the server receives. */
function recordUpgrades(server: CardfileServer): string[] {
  const seen: string[] = []
  server.httpServer.prependListener('upgrade', (req: IncomingMessage) => {
    seen.push((req.url ?? '').split('?')[0] ?? '')
  })
  return seen
}

/** Opens an agent's inbox: the schema, three contacts and two conversations. */
function openInbox(client: CardfileClient) {
  return {
    schema: client.schema(),
    contacts: ['c1', 'c2', 'c3'].map((id) => client.contact(id)),
    conversations: ['v1', 'v2'].map((id) => client.conversation(id)),
  }
}

describe('one socket per client', () => {
  it('opens six documents over one connection', async () => {
    const { server, url } = await startServer()
    const upgrades = recordUpgrades(server)
    const agent = await connectClient(url, 'bo', 'agent')
    const inbox = openInbox(agent)
    await Promise.all(
      [inbox.schema, ...inbox.contacts, ...inbox.conversations].map((h) => h.whenSynced()),
    )
    expect(agent.openDocuments()).toHaveLength(6)
    expect(server.connectionCount()).toBe(1)
    expect(upgrades).toEqual(['/demo/mux'])
    expect(agent.inspect().transport).toBe('mux')
  })

  it('saves edits of two documents and reports a refusal on the one refused', async () => {
    const { server, url } = await startServer()
    const admin = await connectClient(url, 'ana', 'admin')
    const plan = await createPlan(admin)
    const agent = await connectClient(url, 'bo', 'agent')
    const c1 = agent.contact('c1')
    const c2 = agent.contact('c2')
    await Promise.all([c1.whenSynced(), c2.whenSynced()])
    const errors: Array<{ code: string; doc: string }> = []
    agent.onError((error, doc) => errors.push({ code: error.code, doc }))
    c1.setValue(plan, 'pro')
    // Agents may never write a contact's profile; the SDK would refuse, so write the raw map.
    c2.doc.getMap('profile').set('hint', '@forged')
    await expect.poll(() => c1.status()).toMatchObject({ status: 'synced', saved: true })
    await expect.poll(() => errors).toEqual([{ code: 'forbidden', doc: 'demo/contact/c2' }])
    await expect.poll(() => c2.doc.getMap('profile').get('hint')).toBeUndefined()
    const watcher = admin.contact('c1')
    await watcher.whenSynced()
    await expect.poll(() => watcher.read().custom[plan]?.value).toBe('pro')
    // The admin's three documents and the agent's two: one socket each.
    expect(server.connectionCount()).toBe(2)
  })

  it('refuses a forbidden document alone and keeps the others syncing', async () => {
    const backend = createMemoryBackend()
    // An app's own authorization: a hook that refuses one contact to everyone.
    const authenticate = (raw: string, docName: string): Promise<AuthenticatedActor> => {
      if (docName === 'demo/contact/secret') {
        return Promise.reject(new CardfileError(ErrorCodes.Forbidden, 'not for you'))
      }
      return Promise.resolve({ userId: raw, role: 'agent', workspace: 'demo' })
    }
    const server = await createCardfileServer({
      backend,
      auth: { authenticate },
      autoCreateWorkspaces: 'advanced',
    })
    try {
      const agent = await connectClient(server.wsUrl, 'bo', 'agent', {
        getToken: () => 'bo',
        userId: 'bo',
        role: 'agent',
      })
      const open = agent.contact('c1')
      const secret = agent.contact('secret')
      await expect.poll(() => secret.error()?.code).toBe('forbidden')
      await open.whenSynced()
      // The other document still hears the server.
      await server.host.transact('demo/contact/c1', { userId: 'system', role: 'system' }, (doc) =>
        doc.getMap('profile').set('hint', '@still-here'),
      )
      await expect.poll(() => open.doc.getMap('profile').get('hint')).toBe('@still-here')
      expect(server.connectionCount()).toBe(1)
      await agent.destroy()
    } finally {
      await server.close()
      await backend.close()
    }
  })

  it('purges an erased contact and keeps the rest of the socket', async () => {
    const { server, url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent')
    const inbox = openInbox(agent)
    const [c1, c2] = inbox.contacts
    if (c1 === undefined || c2 === undefined) throw new Error('unreachable')
    await Promise.all([inbox.schema, c1, c2].map((h) => h.whenSynced()))
    await server.host.erase(['demo/contact/c1'])
    await expect.poll(() => c1.status().purged).toBe(true)
    expect(c1.error()?.code).toBe('deleted')
    expect(c2.status().status).toBe('synced')
    expect(inbox.schema.status().status).toBe('synced')
    expect(server.connectionCount()).toBe(1)
  })

  it('reopens every document and list subscription on a new socket after a restart', async () => {
    const backend = createMemoryBackend()
    let server = await createCardfileServer({
      backend,
      auth: { secret: SECRET },
      autoCreateWorkspaces: 'advanced',
      host: '127.0.0.1',
    })
    try {
      const port = server.port
      const agent = await connectClient(server.wsUrl, 'bo', 'agent')
      const inbox = openInbox(agent)
      const handles = [inbox.schema, ...inbox.contacts, ...inbox.conversations]
      await Promise.all(handles.map((h) => h.whenSynced()))
      const lists = agent.lists()
      const stop = lists.observe({ kind: 'vip' }, 50, () => undefined)
      await expect.poll(() => lists.state({ kind: 'vip' }, 50).push).toBe('active')

      // The server goes away (1001) and comes back on the same port and store.
      await server.close()
      await expect.poll(() => lists.state({ kind: 'vip' }, 50).push).toBe('lost')
      server = await createCardfileServer({
        backend,
        auth: { secret: SECRET },
        autoCreateWorkspaces: 'advanced',
        host: '127.0.0.1',
        port,
      })
      const upgrades = recordUpgrades(server)
      for (const h of handles) {
        await expect.poll(() => h.status().status, { timeout: 15_000 }).toBe('synced')
      }
      // The server confirms the list subscription again on the new socket.
      await expect
        .poll(() => lists.state({ kind: 'vip' }, 50).push, { timeout: 15_000 })
        .toBe('active')
      expect(upgrades.every((u) => u === '/demo/mux')).toBe(true)
      expect(server.connectionCount()).toBe(1)
      stop()
      await agent.destroy()
    } finally {
      await server.close()
      await backend.close()
    }
  })

  it('uses a socket per document against a server without multiplexing', async () => {
    const backend = createMemoryBackend()
    const server = await createCardfileServer({
      backend,
      auth: { secret: SECRET },
      autoCreateWorkspaces: 'advanced',
      multiplex: false,
    })
    try {
      const upgrades = recordUpgrades(server)
      const admin = await connectClient(server.wsUrl, 'ana', 'admin', { multiplex: false })
      const plan = await createPlan(admin)
      await admin.destroy()
      const agent = await connectClient(server.wsUrl, 'bo', 'agent')
      const inbox = openInbox(agent)
      const handles = [inbox.schema, ...inbox.contacts, ...inbox.conversations]
      await Promise.all(handles.map((h) => h.whenSynced()))
      expect(agent.inspect().transport).toBe('per-document')
      expect(server.connectionCount()).toBe(6)
      // One refused probe of the mux endpoint, then the documents' own sockets.
      expect(upgrades.filter((u) => u === '/demo/mux')).toHaveLength(1)
      expect(upgrades.filter((u) => u !== '/demo/mux')).toHaveLength(6 + 1)
      const [c1] = inbox.contacts
      c1?.setValue(plan, 'pro')
      await expect.poll(() => c1?.status()).toMatchObject({ saved: true })
      await agent.destroy()
      await expect.poll(() => openSockets()).toBe(0)
    } finally {
      await server.close()
      await backend.close()
    }
  })

  it('opens a socket per document when multiplexing is turned off', async () => {
    const { server, url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent', { multiplex: false })
    const c1 = agent.contact('c1')
    const c2 = agent.contact('c2')
    await Promise.all([c1.whenSynced(), c2.whenSynced()])
    // The schema too: a contact handle holds it.
    expect(server.connectionCount()).toBe(3)
    expect(agent.inspect().transport).toBe('per-document')
  })

  it('sends a renewed token once for the socket, not once per document', async () => {
    const backend = createMemoryBackend()
    const checks: Array<{ token: string; doc: string }> = []
    const authenticate = (raw: string, doc: string): Promise<AuthenticatedActor> => {
      checks.push({ token: raw, doc })
      return Promise.resolve({ userId: 'bo', role: 'agent', workspace: 'demo' })
    }
    const server = await createCardfileServer({
      backend,
      auth: { authenticate },
      autoCreateWorkspaces: 'advanced',
    })
    try {
      let issued = 0
      const agent = await connectClient(server.wsUrl, 'bo', 'agent', {
        getToken: () => `token-${++issued}`,
        userId: 'bo',
        role: 'agent',
      })
      const inbox = openInbox(agent)
      const handles = [inbox.schema, ...inbox.contacts, ...inbox.conversations]
      await Promise.all(handles.map((h) => h.whenSynced()))
      expect(await agent.refreshToken()).toBe('token-2')
      // A document opened after the refresh rides the same socket behind it: once it is synced,
      // the server has read every refresh the documents sent.
      await agent.contact('c9').whenSynced()
      const renewals = checks.filter((c) => c.token === 'token-2' && c.doc === 'demo/schema')
      expect(renewals).toHaveLength(1)
      // The document opened later was admitted with the renewed token.
      expect(checks).toContainEqual({ token: 'token-2', doc: 'demo/contact/c9' })
      expect(server.connectionCount()).toBe(1)
      await agent.destroy()
    } finally {
      await server.close()
      await backend.close()
    }
  })
})
