import type * as Y from 'yjs'
import type { ContactDoc } from '../contact-doc'
import type { ConversationDoc } from '../conversation-doc'
import type { DocKind } from '../document-layout'
import type { CardfileError } from '../errors'
import type { SchemaDoc } from '../schema-doc'
import type { ContactData } from '../types'
import type { Presence } from './presence'
import type { DocStatus } from './status'

/**
 * An open document. Every `client.open(...)` (or typed accessor) returns a new handle on the
 * one shared replica; call `release()` when done, and the replica closes after the last one.
 */
export interface DocHandle {
  readonly name: string
  readonly kind: DocKind
  /** The replica's Y.Doc (shared by every handle on this document). */
  readonly doc: Y.Doc
  /** Connection, load source and durability of this document. */
  status(): DocStatus
  /** The most recent error about this document (refusal, close, purge), or null. */
  error(): CardfileError | null
  /** A number that changes whenever content, status or presence changes (for snapshot caches). */
  version(): number
  /** Listens to every change of content, status or presence; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /**
   * Listens to errors about this document (server refusals, closes, purge) and to
   * `cache-discarded`: the local copy came from another server database and was dropped unsent.
   */
  onError(listener: (error: CardfileError) => void): () => void
  /** Runs `fn` in one transaction with the client's local origin, so undo tracks it. */
  transact<T>(fn: () => T): T
  /** Undoes the local user's last change on this document; false when there was none. */
  undo(): boolean
  /** Redoes the last undone change; false when there was none. */
  redo(): boolean
  canUndo(): boolean
  canRedo(): boolean
  /** Other users on this document (this replica excluded). */
  presence(): readonly Presence[]
  /** Tells the others which field the local user is editing (null when none). */
  setEditing(field: string | null): void
  /**
   * Resolves once the server's state has arrived (status `synced`). Rejects with `deleted` when
   * the document is purged, and with `bad-request` when it is closed first (the last handle
   * released, or the client destroyed), so no caller waits forever.
   */
  whenSynced(): Promise<void>
  /** Gives the handle back. Idempotent. A borrowed handle (from `peek`) ignores it. */
  release(): void
}

/** The workspace schema document with its typed API. */
export interface SchemaHandle extends DocHandle {
  readonly kind: 'schema'
  /** Typed reads and mutations; mutations run with the client's local origin. */
  readonly schema: SchemaDoc
}

/** A contact document with its typed API and actor-aware setters. */
export interface ContactHandle extends DocHandle {
  readonly kind: 'contact'
  readonly contactId: string
  /** Typed reads and mutations; mutations run with the client's local origin. */
  readonly contact: ContactDoc
  /** The workspace schema this contact is read against (held open with the contact). */
  readonly schemaHandle: SchemaHandle
  /** The contact as it stands (cached until the next change). */
  read(): ContactData
  /**
   * Sets a custom attribute value as the client's user (null clears it). Validates and checks
   * permission first: throws a CardfileError (also reported to error listeners) when refused.
   */
  setValue(attributeId: string, value: string | null): void
  /** Marks or unmarks the contact as VIP as the client's user; throws when refused. */
  setVip(vip: boolean): void
}

/** A conversation document with its typed API. */
export interface ConversationHandle extends DocHandle {
  readonly kind: 'conversation'
  readonly conversationId: string
  /** Typed reads and mutations; mutations run with the client's local origin. */
  readonly conversation: ConversationDoc
}
