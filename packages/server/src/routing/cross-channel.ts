import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  capabilities,
  contactDocName,
  conversationDocName,
  parseDocName,
  schemaDocName,
  valueLabel,
} from '@cardfile/core'
import type { Actor, ContactData, SchemaView } from '@cardfile/core'
import * as Y from 'yjs'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import { matchingAttributeOf } from '../linking/matching'
import { RelinkJobs } from '../linking/relink-jobs'
import type { Storage } from '../storage/storage'
import type { CommitEvent } from '../sync/live-document'
import { completeLogger, errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { deliverBotHandoff } from './bot-handoff'
import type { BotHandoffAttribute, BotHandoffOptions, BotHandoffPayload } from './bot-handoff'
import { defaultRoute } from './priority'
import type { RouteHook, RouteInput, RouteReason, ScoringOptions } from './priority'

/** Options of the cross-channel features (`createCardfileServer` passes its own through). */
export interface CrossChannelOptions {
  /** Replaces the default scoring and VIP team assignment. */
  readonly route?: RouteHook
  /** Weights of the default scoring. */
  readonly scoring?: ScoringOptions
  /** Told about every conversation that starts (webhook or function). */
  readonly botHandoff?: BotHandoffOptions
  /** Contacts per re-link transaction (default 500). */
  readonly relinkChunkSize?: number
  readonly logger?: Partial<ServerLogger>
}

/** The actor of the server's routing writes. */
export const ROUTING_ACTOR: Actor = { userId: 'cardfile-routing', role: 'system' }

/** What an update is known to write. */
export interface TouchedKeys {
  /** `<root map>:<key>` of map entries written for the first time. */
  readonly keys: ReadonlySet<string>
  /**
   * True when the update overwrites entries too. Yjs encodes an overwrite relative to the entry
   * it replaces and leaves out its map and key, so which keys those are is unknown here.
   */
  readonly overwrites: boolean
}

/**
 * Decodes which map keys an update writes, as far as the update alone says.
 *
 * @example
 * touchedKeys(update).keys.has('settings:matchingAttribute')
 */
export function touchedKeys(update: Uint8Array): TouchedKeys {
  const keys = new Set<string>()
  let overwrites = false
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item)) continue
    // In a decoded update, a root-level entry names its root map by string.
    const parent: unknown = struct.parent
    if (typeof parent === 'string' && typeof struct.parentSub === 'string') {
      keys.add(`${parent}:${struct.parentSub}`)
    } else {
      overwrites = true
    }
  }
  return { keys, overwrites }
}

/** How many documents' last seen VIP flag is remembered. */
const VIP_MEMORY = 50_000

const OPEN = ['new', 'pending'] as const

/**
 * The server-side part of linking and routing that reacts to commits: a changed matching
 * attribute starts a workspace re-link; a new conversation is routed (VIP team, priority score,
 * or the app's `route` hook) and handed to the bot; a changed VIP flag re-scores the contact's
 * open conversations. Everything it writes goes through the document host, so clients see it
 * like any other change.
 *
 * @example
 * const cross = attachCrossChannel(storage, server.host, { botHandoff: { url } })
 * // createCardfileServer does this itself and feeds it every commit.
 */
export class CrossChannel {
  readonly jobs: RelinkJobs | null
  private readonly logger: ServerLogger
  private readonly matching = new Map<string, string | null>()
  private readonly vipSeen = new Map<string, boolean>()
  private readonly routed = new Set<string>()
  private readonly pending = new Set<Promise<unknown>>()
  private stopped = false

  constructor(
    readonly storage: Storage,
    readonly host: DocumentHost,
    private readonly options: CrossChannelOptions = {},
  ) {
    this.logger = completeLogger(options.logger)
    this.jobs =
      storage.links === undefined
        ? null
        : new RelinkJobs(storage.links, {
            logger: this.logger,
            ...(options.relinkChunkSize === undefined
              ? {}
              : { chunkSize: options.relinkChunkSize }),
          })
  }

  /** Hears one commit (cheap: decodes the update's keys; the work runs after). */
  onCommit(event: CommitEvent): void {
    if (this.stopped) return
    const name = parseDocName(event.docName)
    if (name === null) return
    const touched = touchedKeys(event.update)
    const { keys } = touched
    if (name.kind === 'schema') {
      this.track(this.checkMatching(name.workspace, touched))
    } else if (name.kind === 'contact') {
      if (keys.has('flags:vip') || touched.overwrites) {
        this.track(this.checkVip(name.workspace, name.id))
      }
    } else if (
      // A conversation's metadata is written once, into empty maps: its keys are always decoded.
      keys.has('meta:contactId') &&
      (event.actor === null || event.actor.role === 'system') &&
      !this.routed.has(event.docName)
    ) {
      this.routed.add(event.docName)
      this.track(this.routeNew(name.workspace, name.id))
    }
  }

  /** Resolves when the work started by commits so far has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  /** Stops reacting and cancels re-links (before storage closes). */
  async stop(): Promise<void> {
    this.stopped = true
    await this.settled()
    await this.jobs?.stop()
  }

  /** Starts a re-link of the workspace by its current matching attribute. */
  async relink(workspace: string): Promise<ReturnType<RelinkJobs['start']>> {
    const attribute = await this.host.read(schemaDocName(workspace), matchingAttributeOf)
    this.matching.set(workspace, attribute)
    if (this.jobs === null) throw new Error('this storage adapter does not support linking')
    return this.jobs.start(workspace, attribute)
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((error: unknown) => {
      this.logger.error('cross-channel work failed', errorContext(error))
    })
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  private async checkMatching(workspace: string, touched: TouchedKeys): Promise<void> {
    const attribute = await this.host.read(schemaDocName(workspace), matchingAttributeOf)
    const known = this.matching.get(workspace)
    this.matching.set(workspace, attribute)
    // The first schema commit seen since start: nothing says what the index was linked by, so
    // re-link when the commit may have touched the setting (or retired an attribute).
    const mayHaveChanged =
      touched.overwrites ||
      touched.keys.has('settings:matchingAttribute') ||
      [...touched.keys].some((k) => k.startsWith('attributes:') && k.endsWith(':retired'))
    const changed = known === undefined ? mayHaveChanged : known !== attribute
    if (!changed || this.jobs === null) return
    this.jobs.start(workspace, attribute)
  }

  /** Re-scores when the contact's VIP flag differs from the last one seen (or may have). */
  private async checkVip(workspace: string, contactId: string): Promise<void> {
    const docName = contactDocName(workspace, contactId)
    const vip = await this.host.read(docName, (doc) =>
      within(new ContactDoc(doc, contactId), (c) => c.read().vip?.value === true),
    )
    const known = this.vipSeen.get(docName)
    this.vipSeen.delete(docName)
    this.vipSeen.set(docName, vip)
    if (this.vipSeen.size > VIP_MEMORY) {
      const oldest = this.vipSeen.keys().next()
      if (oldest.done !== true) this.vipSeen.delete(oldest.value)
    }
    // Not seen since start: re-score when the flag may have changed (re-scoring is idempotent).
    if (known === undefined || known !== vip) await this.rescore(workspace, contactId)
  }

  private async context(workspace: string, contactId: string) {
    const schema = await this.host.read(schemaDocName(workspace), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    const contact = await this.host.read(contactDocName(workspace, contactId), (doc) =>
      within(new ContactDoc(doc, contactId), (c) => c.read()),
    )
    const { settings } = schema
    const vip =
      settings.vipEnabled && capabilities(settings.plan).vip && contact.vip?.value === true
    return { schema, contact, vip }
  }

  private async route(
    reason: RouteReason,
    workspace: string,
    conversationId: string,
    ctx: { schema: SchemaView; vip: boolean },
  ): Promise<boolean> {
    const docName = conversationDocName(workspace, conversationId)
    const meta = await this.host.read(docName, (doc) =>
      within(new ConversationDoc(doc, conversationId), (c) => c.meta()),
    )
    if (meta === null || meta.status === 'resolved') return false
    const input: RouteInput = {
      reason,
      workspace,
      conversationId,
      contactId: meta.contactId,
      channel: meta.channel,
      vip: ctx.vip,
      settings: ctx.schema.settings,
      createdAt: meta.createdAt,
      now: Date.now(),
      current: { team: meta.team, priority: meta.priority },
    }
    let decision
    try {
      decision = await (this.options.route ?? ((i) => defaultRoute(i, this.options.scoring)))(input)
    } catch (error) {
      this.logger.warn('route hook failed; the conversation keeps its routing', {
        conversation: docName,
        ...errorContext(error),
      })
      return true
    }
    const { team, priority } = decision
    const teamChanges = team !== undefined && team !== meta.team
    const priorityChanges = Number.isFinite(priority) && priority !== meta.priority
    if (!teamChanges && !priorityChanges) return true
    await this.host.transact(docName, ROUTING_ACTOR, (doc) =>
      within(new ConversationDoc(doc, conversationId), (c) => {
        if (teamChanges) c.setTeam(team, ROUTING_ACTOR, ctx.schema)
        if (priorityChanges) c.setPriority(priority, ROUTING_ACTOR, ctx.schema)
      }),
    )
    return true
  }

  private async routeNew(workspace: string, conversationId: string): Promise<void> {
    const contactId = await this.host.read(conversationDocName(workspace, conversationId), (doc) =>
      within(new ConversationDoc(doc, conversationId), (c) => c.meta()?.contactId ?? null),
    )
    if (contactId === null) return
    const ctx = await this.context(workspace, contactId)
    const open = await this.route('new', workspace, conversationId, ctx)
    const handoff = this.options.botHandoff
    if (!open || handoff === undefined) return
    const channel = ctx.contact.profile?.channel
    if (channel === undefined) return
    const payload: BotHandoffPayload = {
      event: 'conversation.started',
      workspace,
      conversationId,
      contactId,
      channel,
      vip: ctx.vip,
      attributes: handoffAttributes(ctx.contact, ctx.schema),
    }
    await deliverBotHandoff(handoff, payload, this.logger)
  }

  private async rescore(workspace: string, contactId: string): Promise<void> {
    const ctx = await this.context(workspace, contactId)
    let cursor: string | null = null
    do {
      const page = await this.storage.listConversations(workspace, {
        contactIds: [contactId],
        status: OPEN,
        order: 'newest',
        limit: 200,
        cursor,
      })
      for (const row of page.items) await this.route('vip-changed', workspace, row.id, ctx)
      cursor = page.next
    } while (cursor !== null)
  }
}

/** The contact's values with their labels, for the bot. */
function handoffAttributes(
  contact: ContactData,
  schema: SchemaView,
): Record<string, BotHandoffAttribute> {
  const out: Record<string, BotHandoffAttribute> = {}
  for (const [kind, values] of [
    ['platform', contact.platform],
    ['custom', contact.custom],
  ] as const) {
    for (const [id, field] of Object.entries(values)) {
      const def = schema.definitions.get(id)
      if (def === undefined || def.retired) continue
      out[id] = {
        label: def.label,
        kind,
        alias: def.alias.length > 0 ? def.alias : null,
        value: field.value,
        display: valueLabel(def, field.value)?.label ?? field.value,
      }
    }
  }
  return out
}

const services = new WeakMap<Storage, CrossChannel>()

/**
 * Creates the cross-channel service of a store (the server calls this with its options).
 *
 * @example
 * const cross = attachCrossChannel(storage, host, { route })
 */
export function attachCrossChannel(
  storage: Storage,
  host: DocumentHost,
  options: CrossChannelOptions = {},
): CrossChannel {
  const service = new CrossChannel(storage, host, options)
  services.set(storage, service)
  return service
}

/**
 * The cross-channel service of a store: the server's, or a default one for an HTTP API that
 * runs without `createCardfileServer`.
 */
export function crossChannelOf(storage: Storage, host: DocumentHost): CrossChannel {
  return services.get(storage) ?? attachCrossChannel(storage, host)
}
