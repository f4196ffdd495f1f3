import type { PgDatabase } from './postgres-database'

/**
 * Schema migrations of the PostgreSQL backend, applied in order at start. Never edit a published migration: add a new one. The layout mirrors the SQLite
 * one (same tables and column names, so row readers are shared), with PostgreSQL types:
 * times are epoch milliseconds in BIGINT, bytes are BYTEA, JSON is kept as TEXT exactly as
 * written, and text sorts by code point (`COLLATE "C"`), as in SQLite and the memory backend,
 * so keyset pages come in the same order on every engine whatever the database's locale.
 */
const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE store_meta (
        key TEXT COLLATE "C" PRIMARY KEY,
        value TEXT COLLATE "C" NOT NULL
      );
      -- Made with the database and never changed: clients compare it with the one their
      -- cached documents came from (gen_random_uuid is built in from PostgreSQL 13).
      INSERT INTO store_meta (key, value) VALUES ('generation', gen_random_uuid()::text);

      -- An identity column never reuses a value, so "seq <= bound" means "was there".
      CREATE TABLE updates (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        doc TEXT COLLATE "C" NOT NULL,
        data BYTEA NOT NULL
      );
      CREATE INDEX updates_doc_seq ON updates (doc, seq);

      CREATE TABLE snapshots (
        doc TEXT COLLATE "C" PRIMARY KEY,
        data BYTEA NOT NULL,
        upto BIGINT NOT NULL
      );

      CREATE TABLE tombstones (
        doc TEXT COLLATE "C" PRIMARY KEY,
        erased_at BIGINT NOT NULL
      );

      CREATE TABLE contacts (
        workspace TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        platform_user_id TEXT COLLATE "C" NOT NULL,
        hint TEXT COLLATE "C" NOT NULL,
        vip INTEGER NOT NULL,
        match_value TEXT COLLATE "C",
        values_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (workspace, id)
      );
      CREATE UNIQUE INDEX contacts_identity ON contacts (workspace, channel, platform_user_id);
      CREATE INDEX contacts_newest ON contacts (workspace, created_at DESC, id DESC);
      CREATE INDEX contacts_vip ON contacts (workspace, vip, created_at DESC, id DESC);
      CREATE INDEX contacts_match ON contacts (workspace, match_value, created_at DESC, id DESC)
        WHERE match_value IS NOT NULL;

      CREATE TABLE conversations (
        workspace TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        team TEXT COLLATE "C",
        priority DOUBLE PRECISION NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (workspace, id)
      );
      CREATE INDEX conversations_history
        ON conversations (workspace, contact_id, created_at DESC, id DESC);
      CREATE INDEX conversations_queue
        ON conversations (workspace, team, priority DESC, created_at ASC, id ASC);
      CREATE INDEX conversations_newest ON conversations (workspace, created_at DESC, id DESC);

      -- Manual links, one current record per pair (a < b), and every change ever made.
      CREATE TABLE contact_links (
        workspace TEXT COLLATE "C" NOT NULL,
        a TEXT COLLATE "C" NOT NULL,
        b TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('link', 'unlink')),
        subject TEXT COLLATE "C" NOT NULL,
        by_role TEXT COLLATE "C" NOT NULL,
        by_user TEXT COLLATE "C",
        at BIGINT NOT NULL,
        PRIMARY KEY (workspace, a, b)
      );
      CREATE INDEX contact_links_b ON contact_links (workspace, b);

      CREATE TABLE contact_link_log (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace TEXT COLLATE "C" NOT NULL,
        a TEXT COLLATE "C" NOT NULL,
        b TEXT COLLATE "C" NOT NULL,
        action TEXT COLLATE "C" NOT NULL CHECK (action IN ('link', 'unlink', 'revert')),
        subject TEXT COLLATE "C" NOT NULL,
        by_role TEXT COLLATE "C" NOT NULL,
        by_user TEXT COLLATE "C",
        at BIGINT NOT NULL
      );
      CREATE INDEX contact_link_log_a ON contact_link_log (workspace, a, seq);
      CREATE INDEX contact_link_log_b ON contact_link_log (workspace, b, seq);

      -- The deleted-contacts audit log: masked hint, platform, when and by whom. Append-only:
      -- the trigger refuses any change or removal, whoever asks.
      CREATE TABLE deleted_contacts (
        workspace TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        hint TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        deleted_at BIGINT NOT NULL,
        deleted_by_user TEXT COLLATE "C" NOT NULL,
        deleted_by_name TEXT COLLATE "C",
        PRIMARY KEY (workspace, id)
      );
      CREATE INDEX deleted_contacts_newest ON deleted_contacts (workspace, deleted_at DESC, id DESC);
      CREATE FUNCTION deleted_contacts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the deleted-contacts log is append-only';
      END $$;
      CREATE TRIGGER deleted_contacts_append_only BEFORE UPDATE OR DELETE ON deleted_contacts
        FOR EACH ROW EXECUTE FUNCTION deleted_contacts_append_only();
      CREATE TRIGGER deleted_contacts_no_truncate BEFORE TRUNCATE ON deleted_contacts
        FOR EACH STATEMENT EXECUTE FUNCTION deleted_contacts_append_only();

      CREATE TABLE crm_config (
        workspace TEXT COLLATE "C" PRIMARY KEY,
        enabled INTEGER NOT NULL,
        lookup_url TEXT COLLATE "C",
        write_back_url TEXT COLLATE "C",
        notification_url TEXT COLLATE "C",
        secret TEXT COLLATE "C" NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE crm_sequences (
        workspace TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (workspace, contact_id)
      );
      CREATE TABLE crm_pending (
        workspace TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        attribute_id TEXT COLLATE "C" NOT NULL,
        by_role TEXT COLLATE "C" NOT NULL,
        by_user TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (workspace, contact_id, attribute_id)
      );
      CREATE TABLE crm_lookups (
        workspace TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT COLLATE "C" NOT NULL,
        reason TEXT COLLATE "C",
        PRIMARY KEY (workspace, contact_id)
      );

      -- Domain events, written in the transaction of the change they announce, and each
      -- consumer's cursor and lease.
      CREATE TABLE events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        type TEXT COLLATE "C" NOT NULL,
        workspace TEXT COLLATE "C" NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
        actor TEXT COLLATE "C",
        data TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX events_subject ON events (workspace, subject);
      CREATE INDEX events_at ON events (at);

      CREATE TABLE event_consumers (
        name TEXT COLLATE "C" PRIMARY KEY,
        cursor BIGINT NOT NULL,
        owner TEXT COLLATE "C",
        lease_until BIGINT NOT NULL,
        seen_at BIGINT NOT NULL
      );

      -- Background work: one row per job, run by the worker holding its lease.
      CREATE TABLE jobs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        kind TEXT COLLATE "C" NOT NULL,
        workspace TEXT COLLATE "C" NOT NULL,
        job_key TEXT COLLATE "C",
        lane TEXT COLLATE "C",
        state TEXT COLLATE "C" NOT NULL,
        input TEXT COLLATE "C" NOT NULL,
        progress TEXT COLLATE "C",
        result TEXT COLLATE "C",
        error TEXT COLLATE "C",
        owner TEXT COLLATE "C",
        lease_until BIGINT NOT NULL,
        attempts INTEGER NOT NULL,
        run_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        finished_at BIGINT
      );
      CREATE UNIQUE INDEX jobs_key ON jobs (kind, job_key) WHERE job_key IS NOT NULL;
      CREATE INDEX jobs_due ON jobs (state, run_at);
      CREATE INDEX jobs_lane ON jobs (lane, seq) WHERE lane IS NOT NULL;
      -- The claim's path: only unfinished jobs, so neither its scan in seq order nor its
      -- "older job of the lane still pending" probe walks the finished history.
      CREATE INDEX jobs_pending ON jobs (seq) WHERE state IN ('queued', 'running');
      CREATE INDEX jobs_lane_pending ON jobs (lane, seq)
        WHERE lane IS NOT NULL AND state IN ('queued', 'running');
      CREATE INDEX jobs_workspace ON jobs (workspace, kind, seq);

      CREATE TABLE inbound_messages (
        workspace TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        conversation_id TEXT COLLATE "C" NOT NULL,
        created_contact INTEGER NOT NULL,
        created_conversation INTEGER NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (workspace, key)
      );
      CREATE INDEX inbound_messages_contact ON inbound_messages (workspace, contact_id);

      -- Generated files (export CSVs), in chunks so that neither side holds a whole file in
      -- memory. A write stores its chunks under a write id of its own, then points the blob at
      -- it in one statement, so a blob is whole or absent.
      CREATE TABLE blobs (
        key TEXT COLLATE "C" PRIMARY KEY,
        write_id TEXT COLLATE "C" NOT NULL,
        bytes BIGINT NOT NULL,
        written_at BIGINT NOT NULL
      );
      CREATE TABLE blob_chunks (
        write_id TEXT COLLATE "C" NOT NULL,
        n INTEGER NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (write_id, n)
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- Which server instance decides for a document, until when (the database's clock, so
      -- instances' clocks need not agree) and under which epoch: a fencing token that grows
      -- whenever the document changes hands. Appends under another epoch are refused.
      CREATE TABLE document_owners (
        doc TEXT COLLATE "C" PRIMARY KEY,
        owner TEXT COLLATE "C" NOT NULL,
        epoch BIGINT NOT NULL,
        lease_until BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      -- Every committed change of a contact's values (custom, platform, VIP), with who made it
      -- and the value before; written in the group commit of the update that holds the change
      -- and dropped with the contact. An identity never reuses a value: ids order changes.
      CREATE TABLE value_history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        attribute_id TEXT COLLATE "C" NOT NULL,
        previous_json TEXT COLLATE "C" NOT NULL,
        value_json TEXT COLLATE "C" NOT NULL,
        by_role TEXT COLLATE "C" NOT NULL,
        by_user TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX value_history_contact ON value_history (workspace, contact_id, id);
      CREATE INDEX value_history_attribute
        ON value_history (workspace, contact_id, attribute_id, id);
      `,
  },
  {
    version: 4,
    sql: `
      -- Webhooks admins registered per workspace: where to POST which contact events, signed
      -- with their secret. No contact data: deliveries are jobs in their contact's lane.
      CREATE TABLE webhooks (
        id TEXT COLLATE "C" PRIMARY KEY,
        workspace TEXT COLLATE "C" NOT NULL,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX webhooks_workspace ON webhooks (workspace, created_at);
      `,
  },
  {
    version: 5,
    sql: `
      -- Contact search. The words, whole-value keys and display name are derived from the
      -- values in JavaScript (one tokeniser for every engine); NULL words: not derived yet, the
      -- backend fills them at open (contacts indexed before search existed). The tsvector is
      -- generated from the words (already tokens, so the 'simple' configuration keeps them
      -- as they are) and lives in the row, so it goes with the row on erasure.
      ALTER TABLE contacts ADD COLUMN search_words TEXT COLLATE "C";
      ALTER TABLE contacts ADD COLUMN search_keys TEXT COLLATE "C";
      ALTER TABLE contacts ADD COLUMN sort_name TEXT COLLATE "C";
      ALTER TABLE contacts ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(search_words, ''))) STORED;
      CREATE INDEX contacts_search ON contacts USING gin (search_vector);
      CREATE INDEX contacts_updated ON contacts (workspace, updated_at DESC, id DESC);
      CREATE INDEX contacts_name ON contacts (workspace, sort_name, id);
    `,
  },
]

/** The schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length

// Any fixed number: every instance takes the same advisory lock, so two starting at once
// migrate one after the other instead of both creating the same tables.
const MIGRATION_LOCK = 0x43617264

/**
 * Brings the database's schema to {@link POSTGRES_SCHEMA_VERSION} in one transaction under an
 * advisory lock, so instances starting together are safe. Refuses a
 * database written by a newer version rather than guessing at its layout.
 */
export async function migratePostgres(db: PgDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      applied_at BIGINT NOT NULL
    )`)
    const row = await tx.one<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    )
    const current = row?.v ?? 0
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${current} is newer than this server supports (${POSTGRES_SCHEMA_VERSION})`,
      )
    }
    // One transaction for all of them: DDL is transactional in PostgreSQL, so a failed
    // migration leaves the schema as it was.
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue
      await tx.run(m.sql)
      await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        m.version,
        Date.now(),
      ])
    }
  })
}
