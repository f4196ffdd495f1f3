import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import type { Actor, ConversationStatus } from '@cardfile/core'
import { createCardfileServer, httpApi } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { SqliteBackend } from '@cardfile/server/sqlite'
import type { CardfileServer, CrmOptions } from '@cardfile/server'
import { startReferenceCrm } from '../../examples/crm-reference/reference-crm'
import type { ReferenceCrm } from '../../examples/crm-reference/reference-crm'
import { SECRET, WORKSPACE, token } from '../client/harness'

export { WORKSPACE }
export const SYSTEM: Actor = { userId: 'ingest', role: 'system' }
export const AGENT: Actor = { userId: 'alan', role: 'agent' }
export const ADMIN: Actor = { userId: 'ada', role: 'admin' }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

/** A temp folder removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-crm-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Fast retries, so a test of an outage takes well under a second of backoff. */
export const FAST: CrmOptions = {
  timeoutMs: 400,
  retry: { baseDelayMs: 20, maxDelayMs: 150, maxAttempts: 50 },
}

export interface Cardfile {
  server: CardfileServer
  readonly backend: SqliteBackend
  /** Stops the server (storage stays open) and starts a new one on the same storage. */
  restart(): Promise<void>
  api(path: string, init?: { method?: string; body?: unknown; as?: Actor }): Promise<Response>
}

/** A Cardfile server with SQLite backend, the HTTP API and the CRM integration. */
export async function startCardfile(
  options: CrmOptions = FAST,
  dir = tempDir(),
): Promise<Cardfile> {
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  const start = () =>
    createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      backend,
      auth: { secret: SECRET },
      httpHandler: httpApi(),
      crm: options,
      // The reference CRM answers on this machine.
      allowPrivateOutboundTargets: true,
      logger: { warn: () => undefined },
    })
  const cardfile: Cardfile = {
    server: await start(),
    backend,
    async restart() {
      await cardfile.server.close()
      cardfile.server = await start()
    },
    async api(path, init = {}) {
      const as = init.as ?? ADMIN
      return fetch(`${cardfile.server.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          authorization: `Bearer ${await token(as.userId, as.role)}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      })
    },
  }
  cleanups.push(async () => {
    await cardfile.server.close()
    await backend.close()
  })
  return cardfile
}

/** The reference CRM with one record, found by email. */
export async function startCrm(): Promise<ReferenceCrm> {
  const crm = await startReferenceCrm({
    port: 0,
    dataFile: join(tempDir(), 'crm.json'),
    secret: '00'.repeat(32),
    seed: [
      {
        id: 'r1',
        match: { email: 'ana@example.com', customer: 'CU-1' },
        values: { tier: 'Gold', account: 'AC-100' },
      },
    ],
  })
  cleanups.push(() => crm.close())
  return crm
}

/**
 * The workspace's CRM attributes: `tier` (dropdown, CRM-managed), `account` (text,
 * CRM-managed), `customer` (text, lookup) and the email platform attribute as a lookup.
 */
export async function setUpWorkspace(
  cardfile: Cardfile,
  settings: { agentsMayEditCrm?: boolean } = {},
): Promise<void> {
  await cardfile.server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    schema.createAttribute({
      id: 'tier',
      label: 'Tier',
      type: 'dropdown',
      alias: 'tier',
      crmManaged: true,
      options: [
        { id: 'gold', label: 'Gold' },
        { id: 'silver', label: 'Silver' },
      ],
    })
    schema.createAttribute({
      id: 'account',
      label: 'Account',
      type: 'text',
      alias: 'account',
      crmManaged: true,
    })
    schema.createAttribute({
      id: 'customer',
      label: 'Customer',
      type: 'text',
      alias: 'customer',
      lookup: true,
    })
    schema.updateAttribute('email', { lookup: true, alias: 'email' })
    schema.updateSettings({
      plan: 'enterprise',
      agentsMayEditCrm: settings.agentsMayEditCrm ?? false,
    })
    schema.destroy()
  })
}

/**
 * Connects the workspace to the reference CRM through the HTTP API (admin): lookups and
 * write-backs, and notifications when `notifications` is set.
 */
export async function connect(
  cardfile: Cardfile,
  crm: ReferenceCrm,
  { notifications = false }: { notifications?: boolean } = {},
): Promise<string> {
  const response = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
    method: 'PUT',
    body: {
      enabled: true,
      lookupUrl: crm.lookupUrl,
      writeBackUrl: crm.writeBackUrl,
      ...(notifications ? { notificationUrl: crm.notificationUrl } : {}),
    },
  })
  const body = (await response.json()) as { secret?: string }
  if (response.status !== 200 || body.secret === undefined) {
    throw new Error(`configuring the CRM failed: ${response.status} ${JSON.stringify(body)}`)
  }
  crm.setSecret(body.secret)
  return body.secret
}

/** An inbound email from `email` (a new contact and conversation the first time). */
export async function inbound(cardfile: Cardfile, email: string, text = 'hello') {
  const response = await cardfile.api(`/api/${WORKSPACE}/inbound`, {
    as: SYSTEM,
    body: { channel: 'email', platformUserId: email, metadata: { email }, message: { text } },
  })
  if (response.status !== 200) throw new Error(`inbound failed: ${await response.text()}`)
  return (await response.json()) as { contactId: string; conversationId: string }
}

export const readContact = (cardfile: Cardfile, id: string) =>
  cardfile.server.host.read(contactDocName(WORKSPACE, id), (doc) => {
    const contact = new ContactDoc(doc, id)
    const data = contact.read()
    contact.destroy()
    const flags = doc.getMap('flags')
    return {
      custom: data.custom,
      validated: flags.get('crmValidated'),
      lookupAt: flags.get('crmLookupAt'),
      pending: flags.get('crmPending'),
    }
  })

/** Sets a custom value as `actor` through the host (as the sync engine commits an edit). */
export const editAs = (
  cardfile: Cardfile,
  actor: Actor,
  id: string,
  attributeId: string,
  value: string,
) =>
  cardfile.server.host.transact(contactDocName(WORKSPACE, id), actor, (doc) => {
    doc.getMap('custom').set(attributeId, {
      value,
      by: { role: actor.role, userId: actor.userId, at: Date.now() },
    })
  })

export const setStatus = (cardfile: Cardfile, conversationId: string, status: ConversationStatus) =>
  cardfile.server.host.transact(conversationDocName(WORKSPACE, conversationId), AGENT, (doc) => {
    doc.getMap('meta').set('status', status)
  })

export { ConversationDoc, token }
