import type { ComponentType } from 'react'
import type { ChannelId } from '@cardfile/core'
import { channelLabel } from '../format'
import {
  ChatIcon,
  FacebookIcon,
  InstagramIcon,
  MailIcon,
  PhoneIcon,
  SmsIcon,
  XLogoIcon,
} from './icons'

const ICONS: Record<ChannelId, ComponentType<{ size?: number }>> = {
  x: XLogoIcon,
  instagram: InstagramIcon,
  facebook: FacebookIcon,
  whatsapp: PhoneIcon,
  sms: SmsIcon,
  email: MailIcon,
  webchat: ChatIcon,
}

/** A small coloured badge per channel. */
export function ChannelIcon({ channel }: { channel: ChannelId }) {
  const Icon = ICONS[channel]
  return (
    <span
      className={`channel-icon channel-${channel}`}
      title={channelLabel(channel)}
      aria-hidden="true"
    >
      <Icon size={13} />
    </span>
  )
}
