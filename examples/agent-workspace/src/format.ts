import { CHANNELS } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'

export const channelLabel = (channel: ChannelId): string =>
  CHANNELS.find((c) => c.id === channel)?.label ?? channel

/** "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ago(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 45) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} h ago`
  return `${Math.round(h / 24)} d ago`
}

export const clockTime = (at: number): string =>
  new Date(at).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })

/** Two letters for an avatar, from a name or a masked handle. */
export function initials(text: string): string {
  const letters = text
    .replace(/[^\p{L}\p{N} ]/gu, ' ')
    .trim()
    .split(/\s+/)
  const first = letters[0]?.[0] ?? '?'
  const second = letters[1]?.[0] ?? letters[0]?.[1] ?? ''
  return (first + second).toUpperCase()
}

/** Team ids as queue names. */
export const teamLabel = (team: string | null): string =>
  team === null ? 'General' : team === 'vip' ? 'VIP desk' : team.replace(/[-_]/g, ' ')
