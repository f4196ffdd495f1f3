import type { ChannelId } from '@cardfile/core'
import { channelLabel } from '../format'

const GLYPHS: Record<ChannelId, string> = {
  x: '𝕏',
  instagram: 'IG',
  facebook: 'f',
  whatsapp: 'WA',
  sms: 'SMS',
  email: '@',
  webchat: '💬',
}

/** A small coloured badge per channel. */
export function ChannelIcon({ channel }: { channel: ChannelId }) {
  return (
    <span
      className={`channel-icon channel-${channel}`}
      title={channelLabel(channel)}
      aria-hidden="true"
    >
      {GLYPHS[channel]}
    </span>
  )
}
