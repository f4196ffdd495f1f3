import type { CloseCode } from '@cardfile/core'
import type { AuthenticatedActor } from '../auth/authenticate'
import type { SharedMessage } from './wire-frame'

/**
 * Whatever a live document sends to and hears from: a client's websocket ({@link Connection}),
 * or, on an instance that owns a document, another instance standing in for its own clients
 * (a follower, or one client of a follower whose changes were forwarded).
 */
export interface Peer {
  readonly actor: AuthenticatedActor | null
  /** Opted in to Cardfile's message types (durable acks, refusals, purge notices). */
  readonly extended: boolean
  /** Sends `message`; false when it was not sent (closed, or closed for being too slow). */
  send(message: Uint8Array): boolean
  /** {@link send} without counting bytes sent (broadcasts count them once for all). */
  sendUncounted(message: Uint8Array): boolean
  /**
   * One message of a broadcast, uncounted, in a form shared by every receiver (a websocket
   * connection writes one frame built for all); absent: {@link sendUncounted} its bytes.
   */
  sendShared?(message: SharedMessage): boolean
  /** Sends only when {@link extended}. */
  sendExtended(message: Uint8Array): void
  /** Ends the peer's use of the document with `code`. */
  close(code: CloseCode): void
  /**
   * Told when a commit the peer's changes are part of is handed to storage; its durable ack
   * is sent after the commit, in the same order. A forwarded client numbers its acks by it.
   */
  noteCommit?(): void
}
