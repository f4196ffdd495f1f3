import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import { CardfileError } from '@cardfile/core'
import type {
  ConversationHandle,
  ConversationMeta,
  ConversationStatus,
  Message,
  SchemaHandle,
} from '@cardfile/core'
import { useCardfileClient } from './context'

/** What {@link useConversation} returns: the conversation live, and an agent's writes on it. */
export interface ConversationResult {
  /** Its metadata (contact, channel, status, team, priority), null until loaded. */
  readonly meta: ConversationMeta | null
  /** Its messages, oldest first. */
  readonly messages: readonly Message[]
  /** Its status, null until loaded. */
  readonly status: ConversationStatus | null
  /** The conversation was deleted (its contact was erased): nothing of it is kept. */
  readonly purged: boolean
  /** Moves it to new, pending or resolved; returns the refusal, or null when applied. */
  setStatus(status: ConversationStatus): CardfileError | null
  /** Adds a reply by the signed-in user and moves the conversation to pending. */
  reply(text: string): CardfileError | null
}

interface Handles {
  readonly conversation: ConversationHandle
  readonly schema: SchemaHandle
}

const NO_MESSAGES: readonly Message[] = []
const noop = (): void => undefined

/**
 * A conversation document, live (messages, status changes by anyone), with the writes an agent
 * makes on it: a status change and a reply. Writes are checked locally first (a refusal is
 * returned, nothing is sent) and by the server again. Opens the conversation and the schema
 * while mounted.
 *
 * @example
 * function Conversation({ id }: { id: string }) {
 *   const { messages, status, reply, setStatus } = useConversation(id)
 *   const [draft, setDraft] = useState('')
 *   return (
 *     <>
 *       {messages.map((m) => <p key={m.id}>{m.text}</p>)}
 *       <textarea value={draft} onChange={(e) => setDraft(e.target.value)} />
 *       <button onClick={() => reply(draft) === null && setDraft('')}>Reply</button>
 *       {status !== 'resolved' && <button onClick={() => setStatus('resolved')}>Resolve</button>}
 *     </>
 *   )
 * }
 */
export function useConversation(id: string): ConversationResult {
  const client = useCardfileClient()
  const [handles, setHandles] = useState<Handles | null>(null)

  // Opened in an effect, never in render: a render that is thrown away leaks nothing.
  useEffect(() => {
    const opened = { conversation: client.conversation(id), schema: client.schema() }
    setHandles(opened)
    return () => {
      opened.conversation.release()
      opened.schema.release()
      setHandles(null)
    }
  }, [client, id])

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (handles === null) return noop
      const offConversation = handles.conversation.subscribe(onChange)
      const offSchema = handles.schema.subscribe(onChange)
      return () => {
        offConversation()
        offSchema()
      }
    },
    [handles],
  )
  const versionOf = (): string =>
    handles === null ? '' : `${handles.conversation.version()}/${handles.schema.version()}`
  const version = useSyncExternalStore(subscribe, versionOf, versionOf)

  return useMemo(() => {
    void version
    const write = (fn: (h: Handles) => void): CardfileError | null => {
      if (handles === null || client.actor() === null) return null
      try {
        handles.conversation.transact(() => fn(handles))
        return null
      } catch (error) {
        if (error instanceof CardfileError) return error
        throw error
      }
    }
    const meta = handles?.conversation.conversation.meta() ?? null
    return {
      meta,
      messages: handles?.conversation.conversation.messages() ?? NO_MESSAGES,
      status: meta?.status ?? null,
      purged: handles?.conversation.status().purged ?? false,
      setStatus: (status) =>
        write((h) => {
          const actor = client.actor()
          if (actor !== null) {
            h.conversation.conversation.setStatus(status, actor, h.schema.schema.view())
          }
        }),
      reply: (text) =>
        write((h) => {
          const actor = client.actor()
          if (actor === null) return
          const view = h.schema.schema.view()
          const at = Date.now()
          h.conversation.conversation.addMessage(
            {
              id: crypto.randomUUID(),
              direction: 'outbound',
              author: { role: actor.role, userId: actor.userId, at },
              text,
              at,
              attachments: [],
            },
            actor,
            view,
          )
          h.conversation.conversation.setStatus('pending', actor, view)
        }),
    }
  }, [client, handles, version])
}
