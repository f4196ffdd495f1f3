import type { ConversationStatus, Role } from '@cardfile/core'

/**
 * What a committed change means to the parts of the server that react to it. They are written
 * in the same transaction as the change itself, so a side effect can never be lost to a crash
 * between the commit and the reaction, and read back in commit order by consumers that hold a
 * lease on their cursor. They carry ids and attribute ids only, never a contact's values:
 * consumers read the document for those, so an erasure leaves nothing behind in the log.
 */
export type DomainEventData = {
  /** A contact document committed a change. */
  readonly 'contact.changed': {
    /** Custom attribute ids whose current value this change wrote (refused ones left out). */
    readonly custom: readonly string[]
    /** Platform attribute ids whose current value this change wrote. */
    readonly platform: readonly string[]
    /** True when this change gave the contact its profile (the contact was created). */
    readonly created: boolean
  }
  /** The contact's VIP flag is now `vip` (it was not before). */
  readonly 'contact.vip-changed': { readonly vip: boolean }
  /**
   * A user linked the contact to `other` by hand, or (`unlink`) detached `other` from its
   * group, or (`revert`) removed the manual record of the pair so that only their matching
   * values link them again (published by the linking routes); or, with `source: 'match'`, the
   * two became linked (or stopped being linked) automatically because a commit or a re-link
   * changed a matching value (written in that transaction).
   */
  readonly 'contact.linked': {
    readonly other: string
    readonly kind: 'link' | 'unlink' | 'revert'
    /** With `revert`: the kind of the manual record removed. */
    readonly reverted?: 'link' | 'unlink'
    /** `match` for an automatic link; absent for a manual one. */
    readonly source?: 'match'
  }
  /** The conversation got its metadata: it exists now. */
  readonly 'conversation.started': { readonly contactId: string }
  /** A conversation that existed changed status. */
  readonly 'conversation.status-changed': {
    readonly contactId: string
    readonly from: ConversationStatus
    readonly to: ConversationStatus
  }
  /**
   * The workspace's matching attribute (by which contacts link across channels) is now
   * `attribute`, or the schema changed in a way that may have changed what it resolves to.
   */
  readonly 'workspace.matching-changed': { readonly attribute: string | null }
  /**
   * VIP now has effect in the workspace (`active`) or no longer has (switched off, or a plan
   * without it): VIP contacts' open conversations are routed again.
   */
  readonly 'workspace.vip-changed': { readonly active: boolean }
  /** A contact and its conversations were erased. */
  readonly 'contact.erased': {
    /** The contact's creation time (exports that cover it are removed). */
    readonly createdAt: number | null
    readonly conversationIds: readonly string[]
    /**
     * The contact's masked handle, as the deleted-contacts log keeps it (absent from events
     * written before it was recorded).
     */
    readonly hint?: string
  }
}

/** The kinds of domain event there are. */
export type DomainEventType = keyof DomainEventData

/** The domain event types, for validation and for consumers that want all of them. */
export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'contact.changed',
  'contact.vip-changed',
  'contact.linked',
  'conversation.started',
  'conversation.status-changed',
  'workspace.matching-changed',
  'workspace.vip-changed',
  'contact.erased',
]

/** Who caused an event: a user (by role), or null for the server itself. */
export interface EventActor {
  readonly userId: string
  readonly role: Role
}

/** An event before it is stored (the store assigns `seq`). */
export type NewDomainEvent = {
  [T in DomainEventType]: {
    readonly type: T
    readonly workspace: string
    /** The contact or conversation id the event is about ('' for a workspace event). */
    readonly subject: string
    readonly actor: EventActor | null
    readonly data: DomainEventData[T]
    /** When it was committed (ms since epoch). */
    readonly at: number
  }
}[DomainEventType]

/** A stored event: `seq` increases in commit order across the whole store. */
export type DomainEvent = NewDomainEvent & { readonly seq: number }
