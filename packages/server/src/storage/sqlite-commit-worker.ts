import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { configureConnection, createSqliteDocumentWriter } from './sqlite-document-writer'
import { createWalCheckpointer } from './wal-checkpointer'
import type { CommitRequest, CommitWorkerData, CommitReply } from './sqlite-commit-thread'

// The commit thread: a connection of its own to the backend's file, running the document
// writes the main thread sends, one request at a time, in order; every reply goes back in the
// same order. Its fsyncs and write locks stall this thread, never the main one's sockets.
const data = workerData as CommitWorkerData
const port = parentPort!
const db = new Database(data.path, { fileMustExist: true })
configureConnection(db, data)
const writer = createSqliteDocumentWriter(db, data.compactAfter)
const checkpoints = createWalCheckpointer(db)

port.postMessage({ kind: 'ready' } satisfies CommitReply)

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

port.on('message', (request: CommitRequest) => {
  let reply: CommitReply
  try {
    switch (request.kind) {
      case 'commit': {
        const started = performance.now()
        const outcome = writer.commitGroup(request.batch)
        reply = { kind: 'committed', outcome, ms: performance.now() - started }
        break
      }
      case 'compact':
        reply = { kind: 'compacted', done: writer.compact(request.doc) }
        break
      case 'reindex-search':
        reply = { kind: 'reindexed', rows: writer.reindexSearch() }
        break
      case 'close':
        checkpoints.stop()
        db.close()
        port.postMessage({ kind: 'closed' } satisfies CommitReply)
        port.close()
        return
    }
  } catch (e) {
    reply = { kind: 'failed', message: messageOf(e) }
  }
  port.postMessage(reply)
  if (reply.kind === 'committed') checkpoints.committed()
})
