import type { InboundResult } from './inbound-log'

/** A row of the `inbound_messages` table, as both SQL engines return it (flags as 0 or 1). */
export interface InboundSqlRow {
  contact_id: string
  conversation_id: string
  created_contact: number
  created_conversation: number
}

/** Reads an `inbound_messages` row as the answer it recorded (shared by both SQL logs). */
export const toInboundResult = (row: InboundSqlRow): InboundResult => ({
  contactId: row.contact_id,
  conversationId: row.conversation_id,
  createdContact: row.created_contact === 1,
  createdConversation: row.created_conversation === 1,
})

/** The answer's columns of an `inbound_messages` row, in table order (flags as 0 or 1). */
export const inboundRowValues = (result: InboundResult): [string, string, number, number] => [
  result.contactId,
  result.conversationId,
  result.createdContact ? 1 : 0,
  result.createdConversation ? 1 : 0,
]
