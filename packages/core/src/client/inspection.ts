import type { TransportMode } from './mux-transport'
import type { DocKind } from '../document-layout'
import type { CardfileError } from '../errors'
import type { Actor } from '../types'
import type { Presence } from './presence'
import type { ConnectionStatus, DocStatus } from './status'

/** One open document as `client.inspect()` reports it. */
export interface DocumentInspection {
  readonly name: string
  readonly kind: DocKind
  /** Connection, load source (`none`, `local`, `server`), pending changes, purge, token. */
  readonly status: DocStatus
  /** Local transactions of this session the server acknowledged as committed. */
  readonly acknowledged: number
  /** Handles held on it (0 while it lingers after the last release). */
  readonly handles: number
  /** Other users on it. */
  readonly presence: readonly Presence[]
  /** The latest error about it, or null. */
  readonly error: CardfileError | null
}

/** An error the client reported (a refusal, a close, a purge), with when it arrived. */
export interface RecentError {
  readonly docName: string
  readonly error: CardfileError
  /** `Date.now()` when it was reported. */
  readonly at: number
}

/** A live list of the HTTP API that something on screen keeps fresh. */
export interface ListInspection {
  /** Its path under `/api/<workspace>`. */
  readonly path: string
  /** How many subscribers keep it live. */
  readonly subscribers: number
}

/** What the client can say about itself, for devtools and debugging; a fresh copy each call. */
export interface ClientInspection {
  readonly workspace: string
  readonly actor: Actor | null
  readonly connection: ConnectionStatus
  /**
   * How documents reach the server: `mux` (all over one socket), `per-document` (a socket
   * each: multiplexing is off, or the server does not support it), `unknown` (not connected
   * yet).
   */
  readonly transport: TransportMode
  readonly documents: readonly DocumentInspection[]
  /** The latest errors, newest first (at most 20). */
  readonly recentErrors: readonly RecentError[]
  readonly lists: readonly ListInspection[]
}

/** How many recent errors `inspect()` keeps. */
export const RECENT_ERRORS = 20
