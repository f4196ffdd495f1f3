import { createHash, randomUUID } from 'node:crypto'
import {
  CardfileError,
  ContactDoc,
  ConversationDoc,
  ErrorCodes,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  isValidId,
  platformAttributeIdsFor,
  schemaDocName,
  seedWorkspace,
  validateValue,
} from '@cardfile/core'
import type { Actor, ChannelId, ConversationStatus, Message, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import type { Backend } from '../backend'
import type { InvalidatingCache } from '../coordination/cache'
import type { KeyedLock } from '../coordination/keyed-lock'
import type { InboundLog, InboundResult } from './inbound-log'
import { maskHint } from './mask-hint'
import { within } from '../http/within'
import type { InboundBody } from './inbound-body'

/**
 * Channel ingestion: one inbound message from a channel identity finds or creates its contact,
 * fills the contact's profile and platform values, and lands in the contact's open conversation
 * (or starts one). The HTTP route and the demo seed both go through {@link ingestInbound}.
 */

/** What ingestion needs to look up; the server's storage index in production. */
export interface InboundDirectory {
  findContact(workspace: string, channel: ChannelId, platformUserId: string): Promise<string | null>
  /** The newest conversation of the contact that is not resolved. */
  findOpenConversation(
    workspace: string,
    contactId: string,
  ): Promise<{ readonly id: string; readonly status: ConversationStatus } | null>
  /** Ids of the contact's newest conversations, newest first. */
  recentConversations(workspace: string, contactId: string, limit: number): Promise<string[]>
}

/** The directory answered from the storage index. */
export function storageDirectory(backend: Backend): InboundDirectory {
  return {
    async findContact(workspace, channel, platformUserId) {
      return (await backend.index.findContact(workspace, channel, platformUserId))?.id ?? null
    },
    async findOpenConversation(workspace, contactId) {
      const row = await backend.index.findOpenConversation(workspace, contactId)
      return row === null ? null : { id: row.id, status: row.status }
    },
    async recentConversations(workspace, contactId, limit) {
      const page = await backend.index.listConversations(workspace, {
        contactIds: [contactId],
        order: 'newest',
        limit,
      })
      return page.items.map((row) => row.id)
    },
  }
}

export interface InboundContext {
  readonly host: DocumentHost
  readonly directory: InboundDirectory
  /** Serialises ingestion per channel identity. */
  readonly lock: KeyedLock
  /**
   * Workspaces whose schema document is known to be seeded (skips a read per message). Being
   * seeded never stops being true, so a cache per process is exact.
   */
  readonly seeded: InvalidatingCache<true>
  /** The answers given to messages with ids, for retries. */
  readonly log: InboundLog
}

/**
 * How many of a contact's newest conversations a retry missing from the log is looked for in
 * (a crash between the message's commit and its log entry).
 */
const RETRY_SCAN = 5

/**
 * The key a channel message id is stored under. Platform ids are kept as they are when they are
 * valid Cardfile ids; others (an email Message-ID such as `<a.b@host>`) are hashed, which keeps
 * them stable across retries.
 */
export function storedMessageId(platformMessageId: string): string {
  if (isValidId(platformMessageId)) return platformMessageId
  return `h${createHash('sha256').update(platformMessageId).digest('base64url').slice(0, 42)}`
}

/** A fresh document id: a UUID is 36 characters of the allowed alphabet. */
const newId = (): string => randomUUID()

/** Seeds the workspace's schema document (channel catalogue, default settings) once. */
export async function ensureWorkspaceSeeded(
  context: Pick<InboundContext, 'host' | 'seeded'>,
  workspace: string,
  actor: Actor,
): Promise<void> {
  await context.seeded.get(workspace, async () => {
    const name = schemaDocName(workspace)
    const empty = await context.host.read(name, (doc) =>
      within(new SchemaDoc(doc), (schema) => schema.definitions().length === 0),
    )
    if (empty) await context.host.transact(name, actor, (doc) => seedWorkspace(doc))
    return true
  })
}

/**
 * Checks metadata keys and values against the channel's platform attributes before anything is
 * written, so a bad request changes nothing.
 */
function checkMetadata(
  channel: ChannelId,
  metadata: Readonly<Record<string, string>>,
  schema: SchemaView,
): void {
  const allowed = new Set(platformAttributeIdsFor(channel))
  for (const [attributeId, value] of Object.entries(metadata)) {
    if (!allowed.has(attributeId)) {
      throw new CardfileError(
        ErrorCodes.UnknownAttribute,
        `"${attributeId}" is not a platform attribute of ${channel} (expected one of ${[...allowed].join(', ')})`,
        `platform:${attributeId}`,
      )
    }
    const check = validateValue(schema.definitions.get(attributeId), value, 'platform')
    if (!check.ok) throw new CardfileError(check.code, check.message, `platform:${attributeId}`)
  }
}

/**
 * Ingests one inbound message for `workspace` on behalf of the system `actor`.
 *
 * @example
 * await ingestInbound(context, 'demo', systemActor, {
 *   channel: 'x', platformUserId: '42', metadata: { x_handle: '@anna' },
 *   message: { id: 'm1', text: 'Hi!', attachments: [] },
 * })
 */
export async function ingestInbound(
  context: InboundContext,
  workspace: string,
  actor: Actor,
  input: InboundBody,
  now: number = Date.now(),
): Promise<InboundResult> {
  const { host, directory } = context
  const { channel, platformUserId, metadata } = input
  await ensureWorkspaceSeeded(context, workspace, actor)
  const schema = await host.read(schemaDocName(workspace), (doc) =>
    within(new SchemaDoc(doc), (s) => s.view()),
  )
  checkMetadata(channel, metadata, schema)

  const identity = `${workspace}\u0000${channel}\u0000${platformUserId}`
  return context.lock.run(identity, async () => {
    const messageId = input.message.id === undefined ? newId() : storedMessageId(input.message.id)
    // A hash: the log must not hold the channel identity (a phone number, an address).
    const logKey = createHash('sha256').update(`${identity}\u0000${messageId}`).digest('base64url')
    if (input.message.id !== undefined) {
      const remembered = await context.log.find(workspace, logKey)
      if (remembered !== null) return remembered
    }

    const existingContact = await directory.findContact(workspace, channel, platformUserId)
    if (existingContact !== null && input.message.id !== undefined) {
      const earlier = await findEarlierDelivery(context, workspace, existingContact, messageId)
      if (earlier !== null) return remember(context, workspace, logKey, earlier, now)
    }

    const contactId = existingContact ?? newId()
    await host.transact(contactDocName(workspace, contactId), actor, (doc) =>
      within(new ContactDoc(doc, contactId), (contact) => {
        const before = contact.read()
        // The hint comes from everything known about the identity, so a message whose metadata
        // lacks the handle does not downgrade a hint made from an earlier one.
        const known: Record<string, string> = {}
        for (const [id, field] of Object.entries(before.platform)) known[id] = field.value
        const hint = maskHint(channel, { platformUserId, metadata: { ...known, ...metadata } })
        const profile = before.profile
        if (
          profile === null ||
          profile.hint !== hint ||
          profile.channel !== channel ||
          profile.platformUserId !== platformUserId
        ) {
          contact.setProfile({
            channel,
            platformUserId,
            hint,
            createdAt: profile?.createdAt ?? now,
          })
        }
        for (const [attributeId, value] of Object.entries(metadata)) {
          // Unchanged values keep their provenance instead of churning a write per message.
          if (before.platform[attributeId]?.value === value) continue
          contact.setPlatformValue(attributeId, value, actor, schema, now)
        }
      }),
    )

    const message: Message = {
      id: messageId,
      direction: 'inbound',
      author: { role: actor.role, userId: actor.userId, at: now },
      text: input.message.text,
      at: input.message.at ?? now,
      attachments: input.message.attachments,
    }
    const open =
      existingContact === null ? null : await directory.findOpenConversation(workspace, contactId)
    let result: InboundResult
    if (open !== null) {
      await host.transact(conversationDocName(workspace, open.id), actor, (doc) =>
        within(new ConversationDoc(doc, open.id), (conversation) => {
          conversation.addMessage(message)
          // A contact's reply puts a conversation waiting on them back in the queue.
          if (conversation.meta()?.status === 'pending') {
            conversation.setStatus('new', actor, schema)
          }
        }),
      )
      result = {
        contactId,
        conversationId: open.id,
        createdContact: false,
        createdConversation: false,
      }
    } else {
      const conversationId = newId()
      const vip = await host.read(contactDocName(workspace, contactId), (doc) =>
        within(new ContactDoc(doc, contactId), (contact) => contact.read().vip?.value === true),
      )
      const routeVip = vip && schema.settings.vipEnabled
      await host.transact(conversationDocName(workspace, conversationId), actor, (doc) =>
        within(new ConversationDoc(doc, conversationId), (conversation) => {
          conversation.init({
            contactId,
            channel,
            status: 'new',
            // VIP contacts go to the VIP team and rise in the queue (PRODUCT.md, VIP).
            team: routeVip ? schema.settings.vipTeam : null,
            priority: routeVip ? schema.settings.vipPriorityBoost : 0,
            createdAt: now,
          })
          conversation.addMessage(message)
        }),
      )
      result = {
        contactId,
        conversationId,
        createdContact: existingContact === null,
        createdConversation: true,
      }
    }
    return input.message.id === undefined
      ? result
      : remember(context, workspace, logKey, result, now)
  })
}

async function remember(
  context: InboundContext,
  workspace: string,
  key: string,
  result: InboundResult,
  at: number,
): Promise<InboundResult> {
  // The stored answer, which is another server's when it answered the same message first.
  return context.log.record(workspace, key, result, at)
}

/**
 * Looks for a message id among the contact's newest conversations (a retry of a message whose
 * log entry a crash cut off after its commit) and rebuilds the first answer: the conversation was created by
 * this message when it is its first message, and the contact too when both share one timestamp,
 * as ingestion writes them.
 */
async function findEarlierDelivery(
  context: InboundContext,
  workspace: string,
  contactId: string,
  messageId: string,
): Promise<InboundResult | null> {
  const ids = await context.directory.recentConversations(workspace, contactId, RETRY_SCAN)
  for (const conversationId of ids) {
    const found = await context.host.read(conversationDocName(workspace, conversationId), (doc) =>
      within(new ConversationDoc(doc, conversationId), (conversation) => {
        const messages = conversation.messages()
        if (!messages.some((m) => m.id === messageId)) return null
        return { first: messages[0]?.id === messageId, createdAt: conversation.meta()?.createdAt }
      }),
    )
    if (found === null) continue
    const contactCreatedAt = await context.host.read(contactDocName(workspace, contactId), (doc) =>
      within(new ContactDoc(doc, contactId), (contact) => contact.read().profile?.createdAt),
    )
    return {
      contactId,
      conversationId,
      createdContact: found.first && contactCreatedAt === found.createdAt,
      createdConversation: found.first,
    }
  }
  return null
}
