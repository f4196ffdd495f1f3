import type { DocName } from './document-layout'
import type { ErrorCode } from './errors'
import type { Actor, AttributeDefinition, WorkspaceSettings } from './types'

/**
 * One change to one key of one root map, as the server sees it after applying a client's update.
 * `undefined` means "absent": an `oldValue` of undefined is a created key, a `newValue` of
 * undefined a deleted key. A value that is not plain JSON (a nested Yjs type) is reported as
 * the symbol {@link NON_JSON_VALUE}.
 */
export interface FieldChange {
  readonly map: string
  readonly key: string
  readonly oldValue: unknown
  readonly newValue: unknown
}

/** Stands for a value that is not plain JSON (for example a nested Y.Map a hostile client sent). */
export const NON_JSON_VALUE: unique symbol = Symbol('cardfile.non-json-value')

/** A refused change: the server restores `oldValue` and tells the sender `code` and why. */
export interface Refusal {
  readonly map: string
  readonly key: string
  readonly code: ErrorCode
  readonly message: string
}

/** What the permission and validation rules read besides the changes themselves. */
export interface PolicyContext {
  readonly actor: Actor
  readonly doc: DocName
  /** The workspace's definitions (retired included) and settings, as they stand now. */
  readonly definitions: ReadonlyMap<string, AttributeDefinition>
  readonly settings: WorkspaceSettings
  /** Reads the current (post-change) value of a key in a root map of the changed document. */
  readonly read: (map: string, key: string) => unknown
  /** Current time in ms, injectable for tests. */
  readonly now: number
  /**
   * Reads the custom values of another contact of the workspace, for rules that span documents
   * (resolving a conversation needs its contact's required values). Returns a reader of one
   * attribute's stored entry, null when the contact is gone (nothing is required of it), or
   * undefined when its values are not at hand (the rule then refuses with `unavailable`, and
   * the caller should have them at hand for a retry). Absent: as if never at hand.
   */
  readonly contactValues?: (
    contactId: string,
  ) => ((attributeId: string) => unknown) | null | undefined
}
