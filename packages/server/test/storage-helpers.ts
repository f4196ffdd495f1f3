import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import type { ChannelId, ConversationStatus } from '@cardfile/core'
import type { ContactIndexRow, ConversationIndexRow } from '../src/storage/index-store'

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A real Yjs update that sets `key` to `value` in root map `m` of a fresh document. */
export function updateSetting(key: string, value: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getMap<string>('m').set(key, value)
  return Y.encodeStateAsUpdate(doc)
}

/** Records every update a document emits, in order. */
export function recordUpdates(doc: Y.Doc): Uint8Array[] {
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  return updates
}

/** Rebuilds a document from what `load` returned. */
export function rebuild(parts: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc()
  for (const part of parts) Y.applyUpdate(doc, part)
  return doc
}

export const contactRow = (
  workspace: string,
  id: string,
  over: Partial<Omit<ContactIndexRow, 'kind' | 'workspace' | 'id'>> = {},
): ContactIndexRow => ({
  kind: 'contact',
  workspace,
  id,
  channel: 'whatsapp' satisfies ChannelId,
  platformUserId: `pu-${id}`,
  hint: `hint-${id}`,
  vip: false,
  matchValue: null,
  values: {},
  createdAt: 1_000,
  updatedAt: 1_000,
  ...over,
})

export const conversationRow = (
  workspace: string,
  id: string,
  contactId: string,
  over: Partial<Omit<ConversationIndexRow, 'kind' | 'workspace' | 'id' | 'contactId'>> = {},
): ConversationIndexRow => ({
  kind: 'conversation',
  workspace,
  id,
  contactId,
  channel: 'whatsapp' satisfies ChannelId,
  status: 'new' satisfies ConversationStatus,
  team: null,
  priority: 0,
  createdAt: 1_000,
  updatedAt: 1_000,
  ...over,
})
