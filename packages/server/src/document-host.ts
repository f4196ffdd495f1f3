import type { Actor, Plan } from '@cardfile/core'
import type * as Y from 'yjs'

/**
 * The seam between the sync engine and everything else on the server (HTTP API, CRM, routing).
 * Server-side code never keeps its own copy of a document: it asks the host, which loads the
 * document if no client has it open, applies the change as one transaction, persists it (group
 * commit), relays it to connected clients, and unloads the document again when nobody uses it.
 */
export interface DocumentHost {
  /**
   * Runs `change` inside one Yjs transaction on the live document and resolves, with what
   * `change` returned, after the resulting update is committed to storage and relayed.
   * Changes made here are trusted (not checked against permissions): callers check first.
   *
   * @example
   * await host.transact('demo/contact/c1', systemActor, (doc) => new ContactDoc(doc, 'c1').setProfile(p))
   */
  transact<T>(docName: string, actor: Actor, change: (doc: Y.Doc) => T): Promise<T>
  /** Reads a document (loading it if needed) without changing it. */
  read<T>(docName: string, reader: (doc: Y.Doc) => T): Promise<T>
  /**
   * Erases documents: connected clients get a purge notice and are closed with 4410, backend
   * erases them and leaves tombstones. The deleted bytes are final in every file once
   * `backend.documents.sealErasure()` ran, which a contact deletion does as its last step.
   */
  erase(docNames: readonly string[]): Promise<void>
  /**
   * Creates a workspace on `plan`: its schema document with the channel catalogue and default
   * settings, committed as one server transaction. Every other document of a workspace that was
   * never created is refused (`unknown-workspace`) unless the server creates workspaces on
   * first use. Rejects `workspace-exists` when it already exists (change its plan instead).
   *
   * @example
   * await host.createWorkspace('acme', 'business')
   */
  createWorkspace(workspace: string, plan: Plan): Promise<void>
}
