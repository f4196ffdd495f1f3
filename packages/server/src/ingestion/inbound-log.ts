/** The answer of an ingestion. */
export interface InboundResult {
  readonly contactId: string
  readonly conversationId: string
  readonly createdContact: boolean
  readonly createdConversation: boolean
}

/**
 * The answers given to channel messages that carried an id, so that a channel retrying a
 * message (after a timeout, or after a restart of either side) gets the first answer back and
 * the message is not added twice. Entries are stored under a hash of the channel identity and
 * message id, never the identity itself, and are dropped with the contact.
 */
export interface InboundLog {
  /** The answer recorded under `key`, or null. */
  find(workspace: string, key: string): Promise<InboundResult | null>
  /**
   * Records the answer to the message under `key` and resolves the answer stored under it: the
   * first one recorded wins, so two servers answering one retried message at once give the
   * channel the same answer.
   */
  record(workspace: string, key: string, result: InboundResult, at: number): Promise<InboundResult>
  /** Drops every entry that points at the contact (erasure). */
  forgetContact(workspace: string, contactId: string): Promise<void>
}

/**
 * The inbound log in memory (tests and the memory backend).
 *
 * @example
 * const log = createMemoryInboundLog()
 */
export function createMemoryInboundLog(): InboundLog {
  const entries = new Map<string, InboundResult>()
  const id = (workspace: string, key: string): string => `${workspace}\u0000${key}`
  return {
    async find(workspace, key) {
      return entries.get(id(workspace, key)) ?? null
    },
    async record(workspace, key, result) {
      const first = entries.get(id(workspace, key))
      if (first !== undefined) return first
      entries.set(id(workspace, key), result)
      return result
    },
    async forgetContact(workspace, contactId) {
      for (const [k, result] of entries) {
        if (k.startsWith(`${workspace}\u0000`) && result.contactId === contactId) entries.delete(k)
      }
    },
  }
}
