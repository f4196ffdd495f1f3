import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import { CardfileError } from '@cardfile/core'
import type {
  ConversationHandle,
  ConversationMeta,
  ConversationStatus,
  Message,
  SchemaHandle,
} from '@cardfile/core'
import { useCardfileClient } from '@cardfile/react'

/** A conversation document, live, with the writes an agent makes on it. */
export interface ConversationState {
  readonly meta: ConversationMeta | null
  readonly messages: readonly Message[]
  /** The conversation was deleted (its contact was erased); nothing of it is kept. */
  readonly purged: boolean
  /** Moves it to new, pending or resolved; returns the refusal, or null. */
  readonly setStatus: (status: ConversationStatus) => CardfileError | null
  /** Adds the signed-in user's reply and moves the conversation to pending. */
  readonly reply: (text: string) => CardfileError | null
}

interface Handles {
  readonly conversation: ConversationHandle
  readonly schema: SchemaHandle
}

const NOTHING: readonly Message[] = []
const noop = (): void => {}

/**
 * Opens a conversation document through the client (the hooks package covers contacts and the
 * schema; a conversation is opened the same way, with `client.conversation(id)`).
 */
export function useConversation(id: string): ConversationState {
  const client = useCardfileClient()
  const [handles, setHandles] = useState<Handles | null>(null)

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
      const a = handles.conversation.subscribe(onChange)
      const b = handles.schema.subscribe(onChange)
      return () => {
        a()
        b()
      }
    },
    [handles],
  )
  const version = useSyncExternalStore(subscribe, () =>
    handles === null ? '' : `${handles.conversation.version()}/${handles.schema.version()}`,
  )

  return useMemo(() => {
    void version
    const write = (fn: (h: Handles) => void): CardfileError | null => {
      const actor = client.actor()
      if (handles === null || actor === null) return null
      try {
        handles.conversation.transact(() => fn(handles))
        return null
      } catch (error) {
        if (error instanceof CardfileError) return error
        throw error
      }
    }
    return {
      meta: handles?.conversation.conversation.meta() ?? null,
      messages: handles?.conversation.conversation.messages() ?? NOTHING,
      purged: handles?.conversation.status().purged ?? false,
      setStatus: (status) =>
        write((h) => {
          const actor = client.actor()
          if (actor !== null)
            h.conversation.conversation.setStatus(status, actor, h.schema.schema.view())
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
