import type { DomainEvent, EventActor } from './domain-event'

/** A row of the `events` table, as both SQL engines return it (actor and data as JSON text). */
export interface EventSqlRow {
  seq: number
  type: string
  workspace: string
  subject: string
  actor: string | null
  data: string
  at: number
}

/** Reads an `events` table row as a domain event (shared by the SQLite and PostgreSQL stores). */
export const toEvent = (r: EventSqlRow): DomainEvent =>
  ({
    seq: r.seq,
    type: r.type,
    workspace: r.workspace,
    subject: r.subject,
    actor: r.actor === null ? null : (JSON.parse(r.actor) as EventActor),
    data: JSON.parse(r.data) as unknown,
    at: r.at,
  }) as DomainEvent
