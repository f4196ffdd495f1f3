import type { Database } from 'better-sqlite3'

/**
 * Schema migrations of the SQLite store, applied in order at open. Never edit a published
 * migration: add a new one. `schema_migrations` records which versions a file has.
 */
const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      -- AUTOINCREMENT: a seq is never reused, even after compaction deletes the highest rows,
      -- so "seq <= bound" always means "was there when the bound was read".
      CREATE TABLE updates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE INDEX updates_doc_seq ON updates (doc, seq);

      CREATE TABLE snapshots (
        doc TEXT PRIMARY KEY,
        data BLOB NOT NULL,
        upto INTEGER NOT NULL
      );

      CREATE TABLE tombstones (
        doc TEXT PRIMARY KEY,
        erased_at INTEGER NOT NULL
      );

      CREATE TABLE contacts (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        channel TEXT NOT NULL,
        platform_user_id TEXT NOT NULL,
        hint TEXT NOT NULL,
        vip INTEGER NOT NULL,
        match_value TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace, id)
      );
      CREATE UNIQUE INDEX contacts_identity ON contacts (workspace, channel, platform_user_id);
      CREATE INDEX contacts_newest ON contacts (workspace, created_at DESC, id DESC);
      CREATE INDEX contacts_vip ON contacts (workspace, vip, created_at DESC, id DESC);
      CREATE INDEX contacts_match ON contacts (workspace, match_value, created_at DESC, id DESC)
        WHERE match_value IS NOT NULL;

      CREATE TABLE conversations (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        team TEXT,
        priority REAL NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace, id)
      );
      CREATE INDEX conversations_history
        ON conversations (workspace, contact_id, created_at DESC, id DESC);
      CREATE INDEX conversations_queue
        ON conversations (workspace, team, priority DESC, created_at ASC, id ASC);
      CREATE INDEX conversations_newest ON conversations (workspace, created_at DESC, id DESC);
    `,
  },
  {
    version: 2,
    sql: `
      -- The contact's attribute values by attribute id (custom and platform; dropdowns hold the
      -- option id), so that re-linking on a new matching attribute and exports read the index
      -- instead of loading every contact document.
      ALTER TABLE contacts ADD COLUMN values_json TEXT NOT NULL DEFAULT '{}';

      -- Manual links between two contacts, one current record per pair (a < b). kind 'link'
      -- joins the two groups; kind 'unlink' detaches \`subject\` from automatic linking with
      -- the other contact's matching value. Deleting the record reverts to automatic linking.
      CREATE TABLE contact_links (
        workspace TEXT NOT NULL,
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('link', 'unlink')),
        subject TEXT NOT NULL,
        by_role TEXT NOT NULL,
        by_user TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (workspace, a, b)
      );
      CREATE INDEX contact_links_b ON contact_links (workspace, b);

      -- Every link, unlink and revert ever made, with who made it (the record of manual links).
      CREATE TABLE contact_link_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace TEXT NOT NULL,
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('link', 'unlink', 'revert')),
        subject TEXT NOT NULL,
        by_role TEXT NOT NULL,
        by_user TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX contact_link_log_a ON contact_link_log (workspace, a, seq);
      CREATE INDEX contact_link_log_b ON contact_link_log (workspace, b, seq);
    `,
  },
  {
    version: 3,
    sql: `
      -- The deleted-contacts audit log: masked hint, platform, when and by whom; nothing else
      -- about the person. Append-only: the triggers refuse any change or removal.
      CREATE TABLE deleted_contacts (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        hint TEXT NOT NULL,
        channel TEXT NOT NULL,
        deleted_at INTEGER NOT NULL,
        deleted_by_user TEXT NOT NULL,
        deleted_by_name TEXT,
        PRIMARY KEY (workspace, id)
      );
      CREATE INDEX deleted_contacts_newest ON deleted_contacts (workspace, deleted_at DESC, id DESC);
      CREATE TRIGGER deleted_contacts_no_update BEFORE UPDATE ON deleted_contacts
      BEGIN SELECT RAISE(ABORT, 'the deleted-contacts log is append-only'); END;
      CREATE TRIGGER deleted_contacts_no_delete BEFORE DELETE ON deleted_contacts
      BEGIN SELECT RAISE(ABORT, 'the deleted-contacts log is append-only'); END;

      -- Export jobs (the CSV files live in the exports folder; rows hold no personal data).
      CREATE TABLE export_jobs (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        range_from INTEGER,
        range_to INTEGER,
        status TEXT NOT NULL,
        rows INTEGER NOT NULL,
        total INTEGER,
        file TEXT,
        error TEXT,
        requested_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        PRIMARY KEY (workspace, id)
      );
      CREATE INDEX export_jobs_running ON export_jobs (status) WHERE status = 'running';
    `,
  },
  {
    version: 4,
    sql: `
      -- A workspace's CRM connection (the secret is hex and never leaves the server in full).
      CREATE TABLE crm_config (
        workspace TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        lookup_url TEXT,
        write_back_url TEXT,
        notification_url TEXT,
        secret TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      -- The CRM outbox: write-backs and notifications, sent one at a time per contact in seq
      -- order; id is the idempotency key of every attempt.
      CREATE TABLE crm_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        workspace TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('write-back', 'notification')),
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX crm_deliveries_pending ON crm_deliveries (workspace, contact_id, seq)
        WHERE state = 'pending';
      CREATE INDEX crm_deliveries_list ON crm_deliveries (workspace, state, seq DESC);

      -- Per-contact sequence numbers of delivery bodies (the CRM can ignore stale write-backs).
      CREATE TABLE crm_sequences (
        workspace TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (workspace, contact_id)
      );

      -- Agents' edits of CRM-managed attributes waiting for the next write-back.
      CREATE TABLE crm_pending (
        workspace TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        attribute_id TEXT NOT NULL,
        by_role TEXT NOT NULL,
        by_user TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (workspace, contact_id, attribute_id)
      );

      -- The outcome of each contact's last lookup (found, not found, refused or failed, why).
      CREATE TABLE crm_lookups (
        workspace TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (workspace, contact_id)
      );
    `,
  },
  {
    version: 5,
    sql: `
      -- Facts about the store itself. 'generation' is a random UUID made with the file and
      -- never changed: clients compare it with the one their cached documents came from, so a
      -- deleted and recreated database is never refilled from stale caches.
      CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      INSERT INTO store_meta (key, value) VALUES ('generation', lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
        substr(hex(randomblob(2)), 2) || '-' ||
        substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' ||
        hex(randomblob(6))
      ));
    `,
  },
  {
    version: 6,
    sql: `
      -- Domain events, written in the transaction of the change they announce, and the cursor
      -- and lease of each consumer (one reader per consumer at a time, across processes).
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        workspace TEXT NOT NULL,
        subject TEXT NOT NULL,
        actor TEXT,
        data TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX events_subject ON events (workspace, subject);
      CREATE INDEX events_at ON events (at);

      CREATE TABLE event_consumers (
        name TEXT PRIMARY KEY,
        cursor INTEGER NOT NULL,
        owner TEXT,
        lease_until INTEGER NOT NULL,
        seen_at INTEGER NOT NULL
      );

      -- Background work (re-links, exports, deliveries): one row per job, run by the worker
      -- holding its lease; a job whose lease ran out is taken over and resumed. Jobs of one
      -- lane run one at a time in seq order.
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        workspace TEXT NOT NULL,
        job_key TEXT,
        lane TEXT,
        state TEXT NOT NULL,
        input TEXT NOT NULL,
        progress TEXT,
        result TEXT,
        error TEXT,
        owner TEXT,
        lease_until INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE UNIQUE INDEX jobs_key ON jobs (kind, job_key) WHERE job_key IS NOT NULL;
      CREATE INDEX jobs_due ON jobs (state, run_at);
      CREATE INDEX jobs_lane ON jobs (lane, seq) WHERE lane IS NOT NULL;
      CREATE INDEX jobs_workspace ON jobs (workspace, kind, seq);
    `,
  },
  {
    version: 7,
    sql: `
      -- CRM deliveries become jobs of kind 'crm-delivery', one lane per contact, in their old
      -- order; the id stays the idempotency key of every attempt. Delivered and dead ones move
      -- too, so admins keep the history and can still retry a dead one. The attempts so far
      -- become the job's attempts and its progress (failures as of that many runs), so a
      -- retry by an admin, which sets the job's attempts back to 0, counts them afresh.
      INSERT INTO jobs (id, kind, workspace, job_key, lane, state, input, progress, result,
          error, owner, lease_until, attempts, run_at, created_at, updated_at, finished_at)
        SELECT id, 'crm-delivery', workspace, 'outbox/' || id,
          'crm/' || workspace || '/' || contact_id,
          CASE state WHEN 'pending' THEN 'queued' WHEN 'dead' THEN 'failed' ELSE 'done' END,
          json_object('contactId', contact_id, 'kind', kind, 'body', body,
            'attributeIds', json_array()),
          json_object('failures', attempts, 'claim', attempts),
          CASE state WHEN 'delivered' THEN json_object('attempts', attempts) END,
          last_error, NULL, 0, attempts, next_attempt_at, created_at, updated_at,
          CASE state WHEN 'pending' THEN NULL ELSE updated_at END
        FROM crm_deliveries ORDER BY seq;
      DROP TABLE crm_deliveries;
    `,
  },
  {
    version: 8,
    // Export jobs move into the jobs table (kind 'export', the export id as job id, the file
    // as a blob under its old name) and their own table goes. A job that was running when the
    // old server stopped had only a partial file: it moves as failed.
    sql: `
      INSERT OR IGNORE INTO jobs (id, kind, workspace, job_key, lane, state, input, progress,
        result, error, owner, lease_until, attempts, run_at, created_at, updated_at, finished_at)
      SELECT id, 'export', workspace, NULL, NULL,
        CASE status WHEN 'running' THEN 'failed' WHEN 'removed' THEN 'done' ELSE status END,
        json_object('type', type, 'from', range_from, 'to', range_to,
          'requestedBy', requested_by),
        CASE WHEN total IS NULL THEN NULL ELSE json_object('rows', rows, 'total', total) END,
        CASE WHEN status IN ('done', 'removed') THEN json_object(
          'blob', workspace || '-' || id || '.csv', 'rows', rows, 'bytes', NULL,
          'removed', CASE status WHEN 'removed' THEN error ELSE NULL END) ELSE NULL END,
        CASE status
          WHEN 'running' THEN 'interrupted by a server restart; start the export again'
          WHEN 'removed' THEN NULL ELSE error END,
        NULL, 0, 1, created_at, created_at, coalesce(finished_at, created_at),
        CASE status WHEN 'running' THEN created_at ELSE finished_at END
      FROM export_jobs ORDER BY created_at, id;
      DROP TABLE export_jobs;
    `,
  },
  {
    version: 9,
    sql: `
      -- The answer given to each channel message that carried an id, under a hash of the
      -- channel identity and the message id, so that a retried message is not added twice
      -- (across restarts too); dropped with the contact.
      CREATE TABLE inbound_messages (
        workspace TEXT NOT NULL,
        key TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        created_contact INTEGER NOT NULL,
        created_conversation INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (workspace, key)
      );
      CREATE INDEX inbound_messages_contact ON inbound_messages (workspace, contact_id);
    `,
  },
  {
    version: 10,
    sql: `
      -- Which server instance decides for a document, until when, and under which epoch (a
      -- fencing token that grows whenever the document changes hands).
      CREATE TABLE document_owners (
        doc TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        lease_until INTEGER NOT NULL
      );
    `,
  },
  {
    version: 11,
    sql: `
      -- Every committed change of a contact's values (custom, platform, VIP), with who made it
      -- and the value before; written in the commit of the update that holds the change and
      -- dropped with the contact. AUTOINCREMENT: ids never come back, so they order changes.
      CREATE TABLE value_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        attribute_id TEXT NOT NULL,
        previous_json TEXT NOT NULL,
        value_json TEXT NOT NULL,
        by_role TEXT NOT NULL,
        by_user TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX value_history_contact ON value_history (workspace, contact_id, id);
      CREATE INDEX value_history_attribute
        ON value_history (workspace, contact_id, attribute_id, id);
      `,
  },
  {
    version: 12,
    sql: `
      -- Webhooks admins registered per workspace: where to POST which contact events, signed
      -- with their secret. No contact data: deliveries are jobs in their contact's lane.
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX webhooks_workspace ON webhooks (workspace, created_at);
      `,
  },
  {
    version: 13,
    sql: `
      -- Contact search. The words, whole-value keys and display name are derived from the
      -- values in JavaScript (one tokeniser for every engine); NULL keys: not derived yet, the
      -- backend fills them at open (contacts indexed before search existed).
      ALTER TABLE contacts ADD COLUMN search_keys TEXT;
      ALTER TABLE contacts ADD COLUMN sort_name TEXT;
      CREATE INDEX contacts_updated ON contacts (workspace, updated_at DESC, id DESC);
      CREATE INDEX contacts_name ON contacts (workspace, sort_name, id);

      -- Each contact's words under a rowid of its own (an INTEGER PRIMARY KEY, so VACUUM keeps
      -- it), the content of the full-text index below.
      CREATE TABLE contact_search_rows (
        rowid INTEGER PRIMARY KEY,
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        words TEXT NOT NULL,
        UNIQUE (workspace, id)
      );
      -- The prefix indexes answer a word being typed (its last word) of up to 4 letters with one
      -- seek. secure-delete: a deleted row's tokens are removed from the index's own pages, not only
      -- marked deleted, so an erased contact's words leave the file with its row (the pages
      -- are then zeroed by PRAGMA secure_delete like every other table's).
      CREATE VIRTUAL TABLE contact_search USING fts5(
        words, content = 'contact_search_rows', content_rowid = 'rowid',
        tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3 4'
      );
      INSERT INTO contact_search (contact_search, rank) VALUES ('secure-delete', 1);

      -- The index follows its content table, and the content table follows the contacts
      -- table's deletions, within the writer's transaction whoever deletes a contact.
      CREATE TRIGGER contact_search_rows_insert AFTER INSERT ON contact_search_rows BEGIN
        INSERT INTO contact_search (rowid, words) VALUES (new.rowid, new.words);
      END;
      CREATE TRIGGER contact_search_rows_update AFTER UPDATE OF words ON contact_search_rows BEGIN
        INSERT INTO contact_search (contact_search, rowid, words)
          VALUES ('delete', old.rowid, old.words);
        INSERT INTO contact_search (rowid, words) VALUES (new.rowid, new.words);
      END;
      CREATE TRIGGER contact_search_rows_delete AFTER DELETE ON contact_search_rows BEGIN
        INSERT INTO contact_search (contact_search, rowid, words)
          VALUES ('delete', old.rowid, old.words);
      END;
      CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
        DELETE FROM contact_search_rows WHERE workspace = old.workspace AND id = old.id;
      END;
    `,
  },
  {
    version: 14,
    sql: `
      -- The search rows again, with each contact's filter columns, sort keys and whole-value
      -- keys beside its words, so a search driven by the full-text index filters and sorts its
      -- matches without reading the contacts table; the words gain marker words (filters and
      -- the display name's words, see sqlite-search). Emptied here: clearing search_keys
      -- makes the backend derive every contact's search data again at open.
      DROP TABLE contact_search;
      DROP TABLE contact_search_rows;
      UPDATE contacts SET search_keys = NULL;
      CREATE TABLE contact_search_rows (
        rowid INTEGER PRIMARY KEY,
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        words TEXT NOT NULL,
        search_keys TEXT NOT NULL,
        sort_name TEXT,
        channel TEXT NOT NULL,
        vip INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (workspace, id)
      );

      -- The words tokenised by spaces only (the ascii tokeniser: words hold letters and digits,
      -- and every character but a space belongs to a word), so the index agrees exactly with
      -- the check in JavaScript that a search also runs on single rows. A prefix index for 1
      -- to 4 letters makes a word begun one doclist that a search can stop reading early;
      -- detail=none: no positions, a search never asks for phrases.
      CREATE VIRTUAL TABLE contact_search USING fts5(
        words, content = 'contact_search_rows', content_rowid = 'rowid',
        tokenize = 'ascii', prefix = '1 2 3 4', detail = none
      );
      INSERT INTO contact_search (contact_search, rank) VALUES ('secure-delete', 1);
      -- The whole-value keys, each one word: finds the exact matches that rank first.
      CREATE VIRTUAL TABLE contact_search_keys USING fts5(
        search_keys, content = 'contact_search_rows', content_rowid = 'rowid',
        tokenize = 'ascii', detail = none
      );
      INSERT INTO contact_search_keys (contact_search_keys, rank) VALUES ('secure-delete', 1);

      -- Both indexes follow their content table; a change of sort keys alone leaves them be.
      -- The contacts table's deletion trigger (migration 13) deletes the row, so the words.
      CREATE TRIGGER contact_search_rows_insert AFTER INSERT ON contact_search_rows BEGIN
        INSERT INTO contact_search (rowid, words) VALUES (new.rowid, new.words);
        INSERT INTO contact_search_keys (rowid, search_keys) VALUES (new.rowid, new.search_keys);
      END;
      CREATE TRIGGER contact_search_rows_words AFTER UPDATE OF words ON contact_search_rows
        WHEN old.words IS NOT new.words BEGIN
        INSERT INTO contact_search (contact_search, rowid, words)
          VALUES ('delete', old.rowid, old.words);
        INSERT INTO contact_search (rowid, words) VALUES (new.rowid, new.words);
      END;
      CREATE TRIGGER contact_search_rows_keys AFTER UPDATE OF search_keys ON contact_search_rows
        WHEN old.search_keys IS NOT new.search_keys BEGIN
        INSERT INTO contact_search_keys (contact_search_keys, rowid, search_keys)
          VALUES ('delete', old.rowid, old.search_keys);
        INSERT INTO contact_search_keys (rowid, search_keys) VALUES (new.rowid, new.search_keys);
      END;
      CREATE TRIGGER contact_search_rows_delete AFTER DELETE ON contact_search_rows BEGIN
        INSERT INTO contact_search (contact_search, rowid, words)
          VALUES ('delete', old.rowid, old.words);
        INSERT INTO contact_search_keys (contact_search_keys, rowid, search_keys)
          VALUES ('delete', old.rowid, old.search_keys);
      END;

      -- Lists of VIPs of one channel in creation order, walked without reading other rows.
      CREATE INDEX contacts_channel_vip
        ON contacts (workspace, channel, vip, created_at DESC, id DESC);
    `,
  },
  {
    version: 15,
    sql: `
      -- An edit no longer re-indexes its contact's words in its own commit: with secure-delete
      -- (and the prefix indexes) that was most of an edit's commit. A changed row is listed
      -- here with what the indexes hold for it, the first time it changes, and re-indexed in a
      -- later transaction (a timer after the commit, a search, a compaction, the close); see
      -- sqlite-search's reindexStale.
      CREATE TABLE contact_search_stale (
        rowid INTEGER PRIMARY KEY,
        indexed_words TEXT NOT NULL,
        indexed_keys TEXT NOT NULL
      );
      DROP TRIGGER contact_search_rows_words;
      DROP TRIGGER contact_search_rows_keys;
      DROP TRIGGER contact_search_rows_delete;
      CREATE TRIGGER contact_search_rows_stale
        AFTER UPDATE OF words, search_keys ON contact_search_rows
        WHEN old.words IS NOT new.words OR old.search_keys IS NOT new.search_keys BEGIN
        -- Not OR IGNORE: an upsert's own conflict policy would override the trigger's.
        INSERT INTO contact_search_stale (rowid, indexed_words, indexed_keys)
          SELECT old.rowid, old.words, old.search_keys
          WHERE NOT EXISTS (SELECT 1 FROM contact_search_stale WHERE rowid = old.rowid);
      END;
      -- A deleted row (an erased contact) leaves both indexes at once, with the words they
      -- hold for it, stale or not.
      CREATE TRIGGER contact_search_rows_delete AFTER DELETE ON contact_search_rows BEGIN
        INSERT INTO contact_search (contact_search, rowid, words) VALUES ('delete', old.rowid,
          coalesce((SELECT indexed_words FROM contact_search_stale WHERE rowid = old.rowid),
            old.words));
        INSERT INTO contact_search_keys (contact_search_keys, rowid, search_keys)
          VALUES ('delete', old.rowid,
            coalesce((SELECT indexed_keys FROM contact_search_stale WHERE rowid = old.rowid),
              old.search_keys));
        DELETE FROM contact_search_stale WHERE rowid = old.rowid;
      END;
    `,
  },
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Brings a database to {@link SCHEMA_VERSION} (or to `target`, for tests of a migration), each
 * migration in its own transaction. Refuses a file written by a newer version rather than
 * guessing at its layout.
 */
export function migrate(db: Database, target: number = SCHEMA_VERSION): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
  )`)
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
    v: number | null
  }
  const current = row.v ?? 0
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `database schema version ${current} is newer than this server supports (${SCHEMA_VERSION})`,
    )
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, Date.now())
    }).immediate()
  }
}
