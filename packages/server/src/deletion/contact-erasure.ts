/**
 * The hook point for everything outside documents that may hold a contact's data: a CRM or bot
 * outbox must drop queued deliveries about the contact when it is erased. An extension returns
 * its hook as `onContactErased`; an app passes its own as the server's
 * `deletion: { onContactErased }`. The deletion awaits every hook after the
 * documents are erased and before its last step, which makes every row deleted until then
 * (by the hooks too, when they share the server's database) final in every file, and answers
 * after that. A hook must be idempotent (a retried deletion may
 * call it again) and must not log the contact's values.
 *
 * @example
 * await createCardfileServer({
 *   backend,
 *   auth,
 *   deletion: { onContactErased: async ({ workspace, contactId }) => outbox.dropFor(workspace, contactId) },
 * })
 */
export interface ContactErasedEvent {
  readonly workspace: string
  readonly contactId: string
  /** The contact's conversations that were erased with it. */
  readonly conversationIds: readonly string[]
  readonly erasedAt: number
}

/** Called after a contact's documents are erased (see {@link ContactErasedEvent}). */
export type ContactErasureHook = (event: ContactErasedEvent) => void | Promise<void>

/**
 * Runs before a contact created at `createdAt` is erased and keeps what it guards clear of the
 * erasure until the release it resolves is called, which the deletion does once the erasure is
 * sealed (exports: no snapshot of the contact index is open, none opens meanwhile).
 *
 * @example
 * const release = await barrier('demo', contact.createdAt)
 * try { await erase(); await backend.documents.sealErasure() } finally { await release() }
 */
export type ErasureBarrier = (workspace: string, createdAt: number) => Promise<() => Promise<void>>
