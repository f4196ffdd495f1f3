import { toContactIndexRow } from './contact-sql-row'
import type { ContactSqlRow } from './contact-sql-row'
import { toConversation } from './conversation-sql-row'
import type { ConversationSqlRow } from './conversation-sql-row'
import { checkLimit, decodeCursor, newestPage, priorityPage } from './cursor'
import type { PgDatabase } from './postgres-database'
import type { IndexStore } from './index-store'
import { checkSearch } from '../search/contact-search-query'
import { searchPostgres } from '../search/postgres-search'

/** Builds a WHERE clause with numbered parameters. */
class Filter {
  readonly parts: string[] = []
  readonly params: unknown[] = []
  /** Adds a condition; `?` marks stand for the values, in order. */
  add(condition: string, ...values: unknown[]): void {
    let text = condition
    for (const value of values) {
      this.params.push(value)
      text = text.replace('?', `$${this.params.length}`)
    }
    this.parts.push(text)
  }
  /** The parameter mark for one more value. */
  param(value: unknown): string {
    this.params.push(value)
    return `$${this.params.length}`
  }
  get sql(): string {
    return this.parts.join(' AND ')
  }
}

/**
 * The contact and conversation index over PostgreSQL: the same keyset pagination, orders and
 * cursors as the SQLite index, each list one indexed query.
 */
export function createPostgresIndexStore(db: PgDatabase): IndexStore {
  return {
    async findContact(workspace, channel, platformUserId) {
      const row = await db.one<ContactSqlRow>(
        'SELECT * FROM contacts WHERE workspace = $1 AND channel = $2 AND platform_user_id = $3',
        [workspace, channel, platformUserId],
      )
      return row === undefined ? null : toContactIndexRow(row)
    },

    async findOpenConversation(workspace, contactId) {
      const row = await db.one<ConversationSqlRow>(
        `SELECT * FROM conversations WHERE workspace = $1 AND contact_id = $2
           AND status != 'resolved'
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        [workspace, contactId],
      )
      return row === undefined ? null : toConversation(row)
    },

    async listContacts(workspace, q) {
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const where = new Filter()
      where.add('workspace = ?', workspace)
      if (q.vip !== undefined) where.add('vip = ?', q.vip ? 1 : 0)
      if (q.matchValue !== undefined) where.add('match_value = ?', q.matchValue)
      if (after !== null) {
        where.add('(created_at, id) < (?, ?)', after.t, after.i)
      }
      const rows = await db.rows<ContactSqlRow>(
        `SELECT * FROM contacts WHERE ${where.sql}
         ORDER BY created_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      )
      return newestPage(rows.map(toContactIndexRow), limit, (r) => ({ t: r.createdAt, i: r.id }))
    },

    async searchContacts(workspace, q) {
      return searchPostgres(db, workspace, checkSearch(q))
    },

    async listConversations(workspace, q) {
      const limit = checkLimit(q.limit)
      if (q.contactIds !== undefined && q.contactIds.length === 0) return { items: [], next: null }
      if (q.status !== undefined && q.status.length === 0) return { items: [], next: null }
      const where = new Filter()
      where.add('workspace = ?', workspace)
      if (q.contactIds?.length === 1) where.add('contact_id = ?', q.contactIds[0])
      else if (q.contactIds !== undefined) where.add('contact_id = ANY(?::text[])', q.contactIds)
      if (q.contactGroup === 'vip') {
        where.add(
          'contact_id IN (SELECT id FROM contacts WHERE workspace = ? AND vip = 1)',
          workspace,
        )
      }
      if (q.team === null) where.add('team IS NULL')
      else if (q.team !== undefined) where.add('team = ?', q.team)
      if (q.status !== undefined) where.add('status = ANY(?::text[])', q.status)
      let orderBy: string
      if (q.order === 'priority') {
        const after = decodeCursor(q.cursor, 'priority')
        if (after !== null) {
          where.add(
            '(priority < ? OR (priority = ? AND (created_at, id) > (?, ?)))',
            after.p,
            after.p,
            after.t,
            after.i,
          )
        }
        orderBy = 'priority DESC, created_at ASC, id ASC'
      } else {
        const after = decodeCursor(q.cursor, 'newest')
        if (after !== null) where.add('(created_at, id) < (?, ?)', after.t, after.i)
        orderBy = 'created_at DESC, id DESC'
      }
      const rows = (
        await db.rows<ConversationSqlRow>(
          `SELECT * FROM conversations WHERE ${where.sql}
           ORDER BY ${orderBy} LIMIT ${where.param(limit + 1)}`,
          where.params,
        )
      ).map(toConversation)
      return q.order === 'priority'
        ? priorityPage(rows, limit, (r) => ({ p: r.priority, t: r.createdAt, i: r.id }))
        : newestPage(rows, limit, (r) => ({ t: r.createdAt, i: r.id }))
    },
  }
}
