import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContactDoc, SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { within } from '../src/http/within'
import { createCardfileServer } from '../src/server'
import type { CardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'

const SECRET = 'http-search-test-secret'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A real server on port 0 with a SQLite file, the HTTP API and the built-in extensions. */
async function startServer(): Promise<CardfileServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-http-search-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const server = await createCardfileServer({
    backend,
    autoCreateWorkspaces: 'advanced',
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    httpHandler: httpApi({ onError: () => {} }),
  })
  cleanups.push(() => server.close())
  return server
}

const tokenFor = (role: Role, workspace = 'acme'): Promise<string> =>
  signToken({ secret: SECRET, userId: `${role}-1`, workspace, role })

async function get(
  base: string,
  path: string,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

/** Contacts arrive as channel messages, the way real ones do (documents, then the index). */
async function inbound(
  server: CardfileServer,
  channel: 'x' | 'email',
  platformUserId: string,
  metadata: Record<string, string>,
): Promise<string> {
  const response = await fetch(`${server.url}/api/acme/inbound`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await tokenFor('system')}`,
    },
    body: JSON.stringify({ channel, platformUserId, metadata, message: { text: 'Hello' } }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { contactId: string }).contactId
}

const idsOf = (json: Record<string, unknown>): string[] =>
  (json.items as { id: string }[]).map((r) => r.id)

async function seeded(): Promise<{ server: CardfileServer; anna: string; bo: string }> {
  const server = await startServer()
  const anna = await inbound(server, 'x', '42', {
    x_user_id: '42',
    x_handle: '@anna_k',
    x_display_name: 'Anna Karlsson',
  })
  const bo = await inbound(server, 'email', 'bo@example.org', {
    email: 'bo@example.org',
    email_name: 'Bo Annerstedt',
  })
  return { server, anna, bo }
}

describe('GET /api/<workspace>/contacts/search', () => {
  it('finds contacts by name, handle and email, filtered by channel, and pages with a cursor', async () => {
    const { server, anna, bo } = await seeded()
    const agent = await tokenFor('agent')

    const byName = await get(server.url, '/api/acme/contacts/search?q=ann', agent)
    expect(byName.status).toBe(200)
    expect(idsOf(byName.json).sort()).toEqual([anna, bo].sort())
    expect(
      idsOf((await get(server.url, '/api/acme/contacts/search?q=%40anna_k', agent)).json),
    ).toEqual([anna])
    expect(
      idsOf((await get(server.url, '/api/acme/contacts/search?q=bo%40example.org', agent)).json),
    ).toEqual([bo])
    expect(
      idsOf((await get(server.url, '/api/acme/contacts/search?q=ann&channel=email', agent)).json),
    ).toEqual([bo])

    const first = await get(server.url, '/api/acme/contacts/search?q=ann&sort=name&limit=1', agent)
    expect(idsOf(first.json)).toEqual([anna])
    const next = encodeURIComponent(first.json.next as string)
    const second = await get(
      server.url,
      `/api/acme/contacts/search?q=ann&sort=name&limit=1&cursor=${next}`,
      agent,
    )
    expect(idsOf(second.json)).toEqual([bo])
    expect(second.json.next).toBeNull()
  })

  it('filters by attribute values an admin or agent set, as soon as the change is committed', async () => {
    const { server, bo } = await seeded()
    const admin = await tokenFor('admin')
    const attributeId = await server.host.transact(
      schemaDocName('acme'),
      { userId: 'admin-1', role: 'admin' },
      (doc) =>
        within(new SchemaDoc(doc), (s) => s.createAttribute({ label: 'Tier', type: 'text' }).id),
    )
    const view = await server.host.read(schemaDocName('acme'), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    await server.host.transact(
      contactDocName('acme', bo),
      { userId: 'admin-1', role: 'admin' },
      (doc) =>
        within(new ContactDoc(doc, bo), (c) =>
          c.setValue(attributeId, 'Platinum plus', { userId: 'admin-1', role: 'admin' }, view),
        ),
    )

    await expect
      .poll(async () =>
        idsOf(
          (
            await get(
              server.url,
              `/api/acme/contacts/search?attr.${attributeId}=Platinum%20plus`,
              admin,
            )
          ).json,
        ),
      )
      .toEqual([bo])
    expect(
      idsOf(
        (
          await get(
            server.url,
            `/api/acme/contacts/search?attr.${attributeId}.contains=PLAT`,
            admin,
          )
        ).json,
      ),
    ).toEqual([bo])
    expect(
      idsOf((await get(server.url, '/api/acme/contacts/search?q=platinum', admin)).json),
    ).toEqual([bo])
    expect(
      idsOf(
        (await get(server.url, `/api/acme/contacts/search?attr.${attributeId}=platinum`, admin))
          .json,
      ),
    ).toEqual([])
  })

  it('refuses requests without a valid token, for another workspace, or from roles that may not list contacts', async () => {
    const { server } = await seeded()

    const none = await get(server.url, '/api/acme/contacts/search?q=ann')
    expect(none.status).toBe(401)
    expect((none.json.error as { code: string }).code).toBe('unauthorized')
    const other = await get(
      server.url,
      '/api/acme/contacts/search?q=ann',
      await tokenFor('agent', 'other'),
    )
    expect(other.status).toBe(403)
    expect((other.json.error as { code: string }).code).toBe('wrong-workspace')
    for (const role of ['bot', 'crm'] as const) {
      const refused = await get(server.url, '/api/acme/contacts/search?q=ann', await tokenFor(role))
      expect(refused.status, role).toBe(403)
    }
    // The other workspace's own search finds none of acme's contacts.
    const theirs = await get(
      server.url,
      '/api/other/contacts/search?q=ann',
      await tokenFor('agent', 'other'),
    )
    expect(theirs.status).toBe(200)
    expect(theirs.json.items).toEqual([])
  })

  it('filters by VIP only while VIP is on for the workspace', async () => {
    const { server, anna } = await seeded()
    const agent = await tokenFor('agent')
    const view = await server.host.read(schemaDocName('acme'), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    await server.host.transact(
      contactDocName('acme', anna),
      { userId: 'agent-1', role: 'agent' },
      (doc) =>
        within(new ContactDoc(doc, anna), (c) =>
          c.setVip(true, { userId: 'agent-1', role: 'agent' }, view),
        ),
    )
    await expect
      .poll(async () =>
        idsOf((await get(server.url, '/api/acme/contacts/search?vip=true', agent)).json),
      )
      .toEqual([anna])
    expect(
      idsOf((await get(server.url, '/api/acme/contacts/search?vip=false', agent)).json),
    ).toHaveLength(1)

    await server.host.transact(schemaDocName('acme'), { userId: 'admin-1', role: 'admin' }, (doc) =>
      within(new SchemaDoc(doc), (s) => s.updateSettings({ vipEnabled: false })),
    )
    const off = await get(server.url, '/api/acme/contacts/search?vip=true', agent)
    expect(off.status).toBe(403)
    expect((off.json.error as { code: string }).code).toBe('vip-disabled')
    // Without the VIP filter the search still answers.
    expect((await get(server.url, '/api/acme/contacts/search?q=anna', agent)).status).toBe(200)
  })

  it('answers bad queries with 400 bad-request and never an engine error', async () => {
    const { server } = await seeded()
    const agent = await tokenFor('agent')
    const bad = [
      `q=${'a'.repeat(201)}`,
      'sort=random',
      'channel=fax',
      'limit=0',
      'cursor=not-a-cursor',
      'unknown=1',
      'attr.bad%22id=1',
      'attr.tier.between=1',
    ]
    for (const query of bad) {
      const { status, json } = await get(server.url, `/api/acme/contacts/search?${query}`, agent)
      expect(status, query).toBe(400)
      expect((json.error as { code: string }).code, query).toBe('bad-request')
    }
    for (const q of ['"', 'NEAR(a b)', 'a*', "x' | 'y", 'words:ann', '\\']) {
      const { status } = await get(
        server.url,
        `/api/acme/contacts/search?q=${encodeURIComponent(q)}`,
        agent,
      )
      expect(status, q).toBe(200)
    }
    const post = await fetch(`${server.url}/api/acme/contacts/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent}` },
    })
    expect(post.status).toBe(405)
  })
})
