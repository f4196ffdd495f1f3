import type * as Y from 'yjs'
import { CONVERSATION_META_KEYS } from './document-layout'
import { CardfileError, ErrorCodes } from './errors'
import type { CheckResult } from './errors'
import { checkMessageSender, checkWrite } from './permissions'
import type { ConversationMetaKey } from './permissions'
import type { SchemaView } from './schema-doc'
import { TrackedMaps } from './tracked-maps'
import type { Actor, ConversationMeta, ConversationStatus, Message } from './types'
import { isMessage, isMetaValue } from './value-shapes'

/** Options of {@link ConversationDoc}. */
export interface ConversationDocOptions {
  /** Transaction origin of every mutation. */
  readonly origin?: unknown
}

interface ConversationSnapshot {
  readonly meta: ConversationMeta | null
  readonly messages: readonly Message[]
}

const throwIfRefused = (result: CheckResult, field: string): void => {
  if (!result.ok) throw new CardfileError(result.code, result.message, field)
}

const compareMessages = (a: Message, b: Message): number =>
  a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * The typed API over one conversation document: metadata (contact, channel, status, team,
 * priority) and messages. Wraps a Y.Doc it does not own.
 *
 * @example
 * const conversation = new ConversationDoc(doc, 'v1')
 * conversation.setStatus('resolved', agent, schema.view())
 * conversation.messages().at(-1)?.text
 */
export class ConversationDoc {
  readonly doc: Y.Doc
  readonly id: string
  private readonly metaMap: Y.Map<unknown>
  private readonly messagesMap: Y.Map<unknown>
  private readonly origin: unknown
  private readonly tracked: TrackedMaps<ConversationSnapshot>

  constructor(doc: Y.Doc, conversationId: string, options: ConversationDocOptions = {}) {
    this.doc = doc
    this.id = conversationId
    this.metaMap = doc.getMap('meta')
    this.messagesMap = doc.getMap('messages')
    this.origin = options.origin ?? null
    this.tracked = new TrackedMaps(doc, [this.metaMap, this.messagesMap], () => ({
      meta: this.readMeta(),
      messages: this.readMessages(),
    }))
  }

  private readMeta(): ConversationMeta | null {
    for (const key of CONVERSATION_META_KEYS) {
      if (!isMetaValue(key, this.metaMap.get(key))) return null
    }
    const get = <T>(key: ConversationMetaKey) => this.metaMap.get(key) as T
    return Object.freeze({
      contactId: get<string>('contactId'),
      channel: get<ConversationMeta['channel']>('channel'),
      status: get<ConversationStatus>('status'),
      team: get<string | null>('team'),
      priority: get<number>('priority'),
      createdAt: get<number>('createdAt'),
    })
  }

  private readMessages(): readonly Message[] {
    const messages: Message[] = []
    this.messagesMap.forEach((value, key) => {
      if (isMessage(value, key)) messages.push(Object.freeze({ ...value }))
    })
    return Object.freeze(messages.sort(compareMessages))
  }

  /**
   * The metadata, or null until the conversation is initialised (cached until the next change).
   *
   * @example
   * conversation.meta()?.status // 'new'
   */
  meta(): ConversationMeta | null {
    return this.tracked.get().meta
  }

  /**
   * Messages by time, then id (cached until the next change).
   *
   * @example
   * conversation.messages().map((m) => m.text)
   */
  messages(): readonly Message[] {
    return this.tracked.get().messages
  }

  /**
   * Calls `listener` once after every transaction that touched the conversation.
   *
   * @example
   * const stop = conversation.observe(() => render(conversation.messages()))
   */
  observe(listener: () => void): () => void {
    return this.tracked.observe(listener)
  }

  /** Stops tracking the document (the document is untouched). */
  destroy(): void {
    this.tracked.destroy()
  }

  /**
   * Writes the metadata of a new conversation (the system does this on ingestion). Throws
   * `invalid-value` for a malformed value.
   *
   * @example
   * conversation.init({ contactId: 'c1', channel: 'sms', status: 'new', team: null,
   *   priority: 0, createdAt: Date.now() })
   */
  init(meta: ConversationMeta): void {
    for (const key of CONVERSATION_META_KEYS) {
      if (!isMetaValue(key, meta[key])) {
        throw new CardfileError(ErrorCodes.InvalidValue, `malformed ${key}`, `meta:${key}`)
      }
    }
    this.doc.transact(() => {
      for (const key of CONVERSATION_META_KEYS) {
        if (this.metaMap.get(key) !== meta[key]) this.metaMap.set(key, meta[key])
      }
    }, this.origin)
  }

  private setMeta(key: ConversationMetaKey, value: unknown, actor: Actor, schema: SchemaView) {
    const name = `meta:${key}`
    throwIfRefused(checkWrite(actor, { kind: 'conversation-meta', key }, schema), name)
    if (!isMetaValue(key, value)) {
      throw new CardfileError(ErrorCodes.InvalidValue, `malformed ${key}`, name)
    }
    this.doc.transact(() => {
      if (this.metaMap.get(key) !== value) this.metaMap.set(key, value)
    }, this.origin)
  }

  /**
   * Moves the conversation to `new`, `pending` or `resolved` (agents, admins, bot, system).
   *
   * @example
   * conversation.setStatus('pending', agent, schema.view())
   */
  setStatus(status: ConversationStatus, actor: Actor, schema: SchemaView): void {
    this.setMeta('status', status, actor, schema)
  }

  /**
   * Routes the conversation to a team, or to none (admins and system).
   *
   * @example
   * conversation.setTeam('vip-desk', admin, schema.view())
   */
  setTeam(team: string | null, actor: Actor, schema: SchemaView): void {
    this.setMeta('team', team, actor, schema)
  }

  /**
   * Sets the priority score (admins and system; routing computes it).
   *
   * @example
   * conversation.setPriority(2, system, schema.view())
   */
  setPriority(priority: number, actor: Actor, schema: SchemaView): void {
    this.setMeta('priority', priority, actor, schema)
  }

  /**
   * Adds a message. Messages are immutable once added: an id already present throws
   * `immutable-field`. With `actor` (and its `schema`), the write is checked as the server would
   * check it: the CRM may not post, and the author must be the actor (`provenance-mismatch`).
   *
   * @example
   * conversation.addMessage({ id: 'm1', direction: 'outbound', text: 'Hi!', at: Date.now(),
   *   author: { role: 'agent', userId: 'u1', at: Date.now() }, attachments: [] }, agent, view)
   */
  addMessage(message: Message, actor?: Actor, schema?: SchemaView): void {
    const name = `messages:${message.id}`
    if (!isMessage(message, message.id)) {
      throw new CardfileError(ErrorCodes.InvalidValue, 'malformed message', name)
    }
    if (this.messagesMap.has(message.id)) {
      throw new CardfileError(ErrorCodes.ImmutableField, 'messages cannot be changed', name)
    }
    if (actor && schema) {
      throwIfRefused(
        checkWrite(actor, { kind: 'message', messageId: message.id, existing: false }, schema),
        name,
      )
      if (
        actor.role !== 'system' &&
        (message.author.role !== actor.role || message.author.userId !== actor.userId)
      ) {
        throw new CardfileError(ErrorCodes.ProvenanceMismatch, 'the author must be you', name)
      }
      throwIfRefused(checkMessageSender(actor, message), name)
    }
    this.doc.transact(() => {
      this.messagesMap.set(message.id, {
        ...message,
        author: { ...message.author },
        attachments: message.attachments.map((a) => ({ ...a })),
      })
    }, this.origin)
  }
}
