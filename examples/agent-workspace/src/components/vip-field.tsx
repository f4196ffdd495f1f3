import type { ContactField } from '@cardfile/react'
import { StarIcon } from './icons'

/**
 * VIP in the attribute list, in the place and under the label the admin chose: a switch that
 * marks or unmarks the contact (the same flag as the star in the panel's header).
 */
export function VipField({
  field,
  isVip,
  canEdit,
  onToggle,
}: {
  field: ContactField
  isVip: boolean
  canEdit: boolean
  onToggle: (vip: boolean) => void
}) {
  const labelId = `field-label-${field.id}`
  return (
    <li className="field" data-testid="attribute-row" data-attribute-id={field.id}>
      <div className="field-head">
        <span className="field-label" id={labelId}>
          {field.label}
        </span>
      </div>
      <button
        type="button"
        role="switch"
        aria-checked={isVip}
        aria-labelledby={labelId}
        className={`vip-button${isVip ? ' on' : ''}`}
        disabled={!canEdit}
        data-testid="vip-field"
        onClick={() => onToggle(!isVip)}
      >
        <StarIcon filled={isVip} size={12} /> {isVip ? 'Yes' : 'No'}
      </button>
    </li>
  )
}
