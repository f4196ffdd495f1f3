import {
  CardfileError,
  ContactDoc,
  ConversationDoc,
  ErrorCodes,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import type { Actor, ChannelId, ConversationStatus, Plan, Role, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { ensureWorkspaceSeeded, ingestInbound } from '../ingestion/inbound'
import { createMemoryInboundLog } from '../ingestion/inbound-log'
import { createLocalCache } from '../coordination/cache'
import { within } from '../http/within'
import type { InboundContext, InboundDirectory } from '../ingestion/inbound'
import type { InboundResult } from '../ingestion/inbound-log'
import { createKeyedLock } from '../coordination/keyed-lock'
import { inboundBody } from '../ingestion/inbound-body'

/**
 * The demo workspace: a seeded schema with a few custom attributes, VIP routing, three users and
 * eight contacts across every channel with conversations in each status. Contacts arrive through
 * the same ingestion code as `POST /api/<workspace>/inbound`, so the demo shows what real
 * channel traffic produces.
 */

/** A demo user; tokens for them are printed by `cardfile serve --demo`. */
export interface DemoUser {
  readonly userId: string
  readonly name: string
  readonly role: Role
}

/** The demo users: one admin and two agents. */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { userId: 'ana', name: 'Ana', role: 'admin' },
  { userId: 'ben', name: 'Ben', role: 'agent' },
  { userId: 'cleo', name: 'Cleo', role: 'agent' },
])

/** What {@link seedDemoWorkspace} did. */
export interface DemoSeedResult {
  /** False when the workspace already held the demo data (nothing was written). */
  readonly seeded: boolean
  readonly workspace: string
  /** Ids of the contacts created, in seed order. */
  readonly contactIds: readonly string[]
}

export interface DemoSeedOptions {
  readonly workspace?: string
  /** The plan the workspace is created on when it does not exist yet (default `advanced`). */
  readonly plan?: Plan
  /** Time of the newest demo message (ms); earlier ones are spread over the days before it. */
  readonly now?: number
}

const HOUR = 60 * 60 * 1000
const SEED_ACTOR: Actor = { userId: 'channel-ingest', role: 'system', name: 'Channel ingestion' }
const actorOf = (userId: string): Actor => {
  const user = DEMO_USERS.find((u) => u.userId === userId)
  if (user === undefined) throw new Error(`no demo user ${userId}`)
  return { userId: user.userId, role: user.role, name: user.name }
}

interface DemoContact {
  readonly channel: ChannelId
  readonly platformUserId: string
  readonly metadata: Readonly<Record<string, string>>
  /** Messages from the contact and replies by agents, hours before `now`. */
  readonly thread: readonly (
    | { readonly from: 'contact'; readonly text: string; readonly hoursAgo: number }
    | { readonly from: string; readonly text: string; readonly hoursAgo: number }
  )[]
  readonly status: ConversationStatus
  readonly vip?: boolean
  /** Custom values (dropdowns by option id), set by the admin. */
  readonly values?: Readonly<Record<string, string>>
}

const CONTACTS: readonly DemoContact[] = [
  {
    channel: 'x',
    platformUserId: '1480021933',
    metadata: { x_user_id: '1480021933', x_handle: '@anna_kar', x_display_name: 'Anna Karlsson' },
    thread: [
      {
        from: 'contact',
        text: 'My invoice shows the Pro price but we are on Enterprise?',
        hoursAgo: 2,
      },
    ],
    status: 'new',
    vip: true,
    values: { customer_id: 'C-1001', plan: 'enterprise', language: 'sv' },
  },
  {
    channel: 'instagram',
    platformUserId: '8821730045',
    metadata: {
      instagram_user_id: '8821730045',
      instagram_username: 'bjorn.design',
      instagram_name: 'Björn Lind',
    },
    thread: [
      { from: 'contact', text: 'Do you ship to Norway?', hoursAgo: 30 },
      { from: 'ben', text: 'We do! Delivery takes 3-5 working days.', hoursAgo: 29 },
    ],
    status: 'pending',
    values: { plan: 'free', language: 'en' },
  },
  {
    channel: 'facebook',
    platformUserId: '100073339821',
    metadata: { facebook_user_id: '100073339821', facebook_name: 'Chidi Okafor' },
    thread: [
      { from: 'contact', text: 'The app logs me out every morning.', hoursAgo: 70 },
      { from: 'cleo', text: 'Fixed in today’s release, please update.', hoursAgo: 68 },
      { from: 'contact', text: 'Works now, thanks!', hoursAgo: 50 },
    ],
    status: 'resolved',
    values: { customer_id: 'C-2040', plan: 'pro', notes: 'Android user, beta tester' },
  },
  {
    channel: 'whatsapp',
    platformUserId: '447700900123',
    metadata: { phone_number: '+44 7700 900123', whatsapp_name: 'Dana Whitfield' },
    thread: [
      { from: 'contact', text: 'Hi, I need to change my delivery address', hoursAgo: 5 },
      { from: 'contact', text: 'Order #44120', hoursAgo: 4.9 },
    ],
    status: 'new',
    values: { language: 'en' },
  },
  {
    channel: 'sms',
    platformUserId: '15550100987',
    metadata: { phone_number: '+1 555 0100 987' },
    thread: [
      { from: 'contact', text: 'STOP sending me reminders please', hoursAgo: 20 },
      { from: 'ben', text: 'Done: you will not get reminders any more.', hoursAgo: 19 },
    ],
    status: 'pending',
  },
  {
    channel: 'email',
    platformUserId: 'anna.karlsson@example.com',
    metadata: { email: 'anna.karlsson@example.com', email_name: 'Anna Karlsson' },
    thread: [
      {
        from: 'contact',
        text: 'Following up on my X message: can you send the corrected invoice by email?',
        hoursAgo: 1,
      },
    ],
    status: 'new',
    // Same customer id as the X contact above: the two are linked by the matching attribute.
    values: { customer_id: 'C-1001' },
  },
  {
    channel: 'webchat',
    platformUserId: 'v-5521',
    metadata: {
      webchat_visitor_id: 'v-5521',
      webchat_name: 'Farah Haddad',
      email: 'farah@example.org',
    },
    thread: [
      { from: 'contact', text: 'Is there a student discount?', hoursAgo: 48 },
      { from: 'cleo', text: 'Yes, 30% with a valid student email.', hoursAgo: 47 },
    ],
    status: 'resolved',
    values: { language: 'fr', notes: 'Asked about student pricing' },
  },
  {
    channel: 'email',
    platformUserId: 'gus@example.net',
    metadata: { email: 'gus@example.net', email_name: 'Gus Romero' },
    thread: [
      { from: 'contact', text: 'Our SSO login fails for the whole team since 9am.', hoursAgo: 0.5 },
    ],
    status: 'new',
    vip: true,
    values: { customer_id: 'C-3007', plan: 'enterprise', language: 'es' },
  },
]

/** Writes the demo's custom attributes and settings into the schema document. */
function seedSchema(schema: SchemaDoc): void {
  schema.createAttribute({ id: 'customer_id', label: 'Customer ID', type: 'text', lookup: true })
  schema.createAttribute({
    id: 'plan',
    label: 'Plan',
    type: 'dropdown',
    options: [
      { id: 'free', label: 'Free' },
      { id: 'pro', label: 'Pro' },
      { id: 'enterprise', label: 'Enterprise' },
    ],
  })
  schema.createAttribute({
    id: 'language',
    label: 'Preferred language',
    type: 'dropdown',
    options: [
      { id: 'en', label: 'English' },
      { id: 'es', label: 'Español' },
      { id: 'fr', label: 'Français' },
      { id: 'de', label: 'Deutsch' },
      { id: 'sv', label: 'Svenska' },
    ],
  })
  schema.createAttribute({ id: 'notes', label: 'Notes', type: 'text', maxLength: 2000 })
  schema.updateSettings({ vipEnabled: true, vipTeam: 'vip', matchingAttribute: 'customer_id' })
}

/**
 * A directory of what this seed itself created: the seed only runs on a workspace without demo
 * data, so its own record answers ingestion's look-ups exactly, without waiting on the index.
 */
class SeedDirectory implements InboundDirectory {
  private readonly contacts = new Map<string, string>()
  private readonly conversations: { id: string; contactId: string; status: ConversationStatus }[] =
    []

  async findContact(_workspace: string, channel: ChannelId, platformUserId: string) {
    return this.contacts.get(`${channel}\u0000${platformUserId}`) ?? null
  }

  async findOpenConversation(_workspace: string, contactId: string) {
    const open = this.conversations.filter(
      (c) => c.contactId === contactId && c.status !== 'resolved',
    )
    const newest = open[open.length - 1]
    return newest === undefined ? null : { id: newest.id, status: newest.status }
  }

  async recentConversations(_workspace: string, contactId: string, limit: number) {
    return this.conversations
      .filter((c) => c.contactId === contactId)
      .map((c) => c.id)
      .reverse()
      .slice(0, limit)
  }

  /** Records what one ingestion did. */
  record(channel: ChannelId, platformUserId: string, result: InboundResult): void {
    this.contacts.set(`${channel}\u0000${platformUserId}`, result.contactId)
    if (result.createdConversation) {
      this.conversations.push({
        id: result.conversationId,
        contactId: result.contactId,
        status: 'new',
      })
    }
  }

  setStatus(conversationId: string, status: ConversationStatus): void {
    const entry = this.conversations.find((c) => c.id === conversationId)
    if (entry !== undefined) entry.status = status
  }
}

/** Adds an agent's reply, which leaves the conversation waiting on the contact (pending). */
async function replyAsAgent(
  host: DocumentHost,
  workspace: string,
  conversationId: string,
  agent: Actor,
  reply: {
    readonly id: string
    readonly text: string
    readonly at: number
    readonly schema: SchemaView
  },
): Promise<void> {
  await host.transact(conversationDocName(workspace, conversationId), agent, (doc) =>
    within(new ConversationDoc(doc, conversationId), (conversation) => {
      conversation.addMessage(
        {
          id: reply.id,
          direction: 'outbound',
          author: { role: agent.role, userId: agent.userId, at: reply.at },
          text: reply.text,
          at: reply.at,
          attachments: [],
        },
        agent,
        reply.schema,
      )
      conversation.setStatus('pending', agent, reply.schema)
    }),
  )
}

/**
 * Seeds the demo workspace when it has no demo data yet (creating it on `plan` when it does
 * not exist); does nothing otherwise.
 *
 * @example
 * const server = await createCardfileServer({ backend, secret })
 * await seedDemoWorkspace(server.host, { workspace: 'demo' })
 */
export async function seedDemoWorkspace(
  host: DocumentHost,
  options: DemoSeedOptions = {},
): Promise<DemoSeedResult> {
  const workspace = options.workspace ?? 'demo'
  const now = options.now ?? Date.now()
  const schemaName = schemaDocName(workspace)
  const context = { host, seeded: createLocalCache<true>() }
  try {
    await host.createWorkspace(workspace, options.plan ?? 'advanced')
  } catch (error) {
    if (!(error instanceof CardfileError && error.code === ErrorCodes.WorkspaceExists)) throw error
  }
  await ensureWorkspaceSeeded(context, workspace, SEED_ACTOR)
  const present = await host.read(schemaName, (doc) =>
    within(new SchemaDoc(doc), (schema) => schema.definition('customer_id')),
  )
  if (present !== undefined && present !== null) return { seeded: false, workspace, contactIds: [] }

  await host.transact(schemaName, actorOf('ana'), (doc) => within(new SchemaDoc(doc), seedSchema))
  const schema: SchemaView = await host.read(schemaName, (doc) =>
    within(new SchemaDoc(doc), (s) => s.view()),
  )

  const directory = new SeedDirectory()
  const inbound: InboundContext = {
    host,
    directory,
    lock: createKeyedLock(),
    seeded: context.seeded,
    // Demo message ids are unique: the log only has to answer within this run.
    log: createMemoryInboundLog(),
  }
  const contactIds: string[] = []
  for (const [index, contact] of CONTACTS.entries()) {
    let result: InboundResult | null = null
    for (const [n, entry] of contact.thread.entries()) {
      const at = Math.round(now - entry.hoursAgo * HOUR)
      const messageId = `demo-${index}-${n}`
      if (entry.from === 'contact') {
        const body = inboundBody.parse({
          channel: contact.channel,
          platformUserId: contact.platformUserId,
          metadata: contact.metadata,
          message: { id: messageId, text: entry.text, at },
        })
        result = await ingestInbound(inbound, workspace, SEED_ACTOR, body, at)
        directory.record(contact.channel, contact.platformUserId, result)
      } else if (result !== null) {
        await replyAsAgent(host, workspace, result.conversationId, actorOf(entry.from), {
          id: messageId,
          text: entry.text,
          at,
          schema,
        })
        directory.setStatus(result.conversationId, 'pending')
      }
    }
    if (result === null) continue
    const { contactId, conversationId } = result
    contactIds.push(contactId)

    const admin = actorOf('ana')
    await host.transact(contactDocName(workspace, contactId), admin, (doc) =>
      within(new ContactDoc(doc, contactId), (record) => {
        for (const [attributeId, value] of Object.entries(contact.values ?? {})) {
          record.setValue(attributeId, value, admin, schema, now)
        }
        if (contact.vip === true) record.setVip(true, admin, schema, now)
      }),
    )
    await host.transact(conversationDocName(workspace, conversationId), SEED_ACTOR, (doc) =>
      within(new ConversationDoc(doc, conversationId), (conversation) => {
        if (contact.vip === true) {
          // What routing does for a VIP: the VIP team, and the priority boost.
          conversation.setTeam(schema.settings.vipTeam, SEED_ACTOR, schema)
          conversation.setPriority(schema.settings.vipPriorityBoost, SEED_ACTOR, schema)
        }
        if (conversation.meta()?.status !== contact.status) {
          conversation.setStatus(contact.status, SEED_ACTOR, schema)
        }
      }),
    )
    directory.setStatus(conversationId, contact.status)
  }
  return { seeded: true, workspace, contactIds }
}
