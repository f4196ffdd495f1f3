import { MessageTypes } from '@cardfile/core'
import type { CloseCode } from '@cardfile/core'
import type { AuthenticatedActor } from '../auth/authenticate'
import type { Peer } from '../sync/peer'
import { BusKinds } from './bus-messages'
import type { BusMessage } from './bus-messages'

type Send = (to: string, message: BusMessage) => void

/**
 * On the owner, an instance that follows one of its documents: it hears every broadcast
 * (committed updates, presence) once, for all its clients, as a relay over the bus.
 */
export class FollowerLink implements Peer {
  readonly actor = null
  readonly extended = true
  /** When the follower last said it still follows (performance.now()). */
  heardAt = performance.now()
  /** Awareness ids of the follower's clients present here (removed when the follower goes). */
  readonly presenceIds = new Set<number>()

  constructor(
    readonly instance: string,
    private readonly doc: string,
    private readonly from: string,
    private readonly sendBus: Send,
    /** Called when the owner drops the follower (its document failed or was given up). */
    private readonly onClose: (link: FollowerLink) => void,
  ) {}

  send(message: Uint8Array): boolean {
    this.sendBus(this.instance, { kind: BusKinds.Relay, from: this.from, doc: this.doc, message })
    return true
  }

  sendUncounted(message: Uint8Array): boolean {
    return this.send(message)
  }

  sendExtended(message: Uint8Array): void {
    this.send(message)
  }

  close(): void {
    // "Not mine any more": the follower finds the document's next owner.
    this.sendBus(this.instance, {
      kind: BusKinds.FollowAck,
      from: this.from,
      doc: this.doc,
      owned: false,
    })
    this.onClose(this)
  }
}

/**
 * On the owner, one client of a follower whose changes were forwarded: changes are applied as
 * its own (its actor, its refusals), and its acks and refusals go back to its instance, each
 * ack numbered with the last forwarded change its commit holds.
 */
export class RemoteClient implements Peer {
  actor: AuthenticatedActor | null
  readonly extended = true
  /** The highest forwarded change number applied so far. */
  lastSeq = 0
  /** For each commit handed to storage and not yet acked: the last change number it holds. */
  private readonly marks: number[] = []

  constructor(
    readonly instance: string,
    readonly connection: string,
    private readonly doc: string,
    private readonly from: string,
    actor: AuthenticatedActor | null,
    private readonly sendBus: Send,
  ) {
    this.actor = actor
  }

  noteCommit(): void {
    this.marks.push(this.lastSeq)
  }

  send(message: Uint8Array): boolean {
    const seq = message[0] === MessageTypes.DurableAck ? (this.marks.shift() ?? 0) : 0
    this.direct(seq, message)
    return true
  }

  /** Acknowledges everything up to `seq` with `ack` (a change that changed nothing, once what was in memory with it is stored). */
  acknowledge(seq: number, ack: Uint8Array): void {
    this.direct(seq, ack)
  }

  /** Sends `message` to this client's instance, for this connection only, numbered `seq`. */
  private direct(seq: number, message: Uint8Array): void {
    this.sendBus(this.instance, {
      kind: BusKinds.Direct,
      from: this.from,
      doc: this.doc,
      connection: this.connection,
      seq,
      message,
    })
  }

  sendUncounted(message: Uint8Array): boolean {
    return this.send(message)
  }

  sendExtended(message: Uint8Array): void {
    this.send(message)
  }

  close(code: CloseCode): void {
    this.sendBus(this.instance, {
      kind: BusKinds.Close,
      from: this.from,
      doc: this.doc,
      connection: this.connection,
      code: code.code,
      reason: code.reason,
    })
  }
}
