import { useDeletedContacts } from '@cardfile/react'
import { channelLabel, clockTime } from '../format'
import { humanMessage } from '../human-message'

/** Privacy and security: the deleted-contacts audit log, newest first. */
export function DeletedContactsPage() {
  const { items, loading, error, hasMore, loadMore } = useDeletedContacts({ pageSize: 25 })
  return (
    <div className="narrow-page">
      <header className="page-header">
        <h1>Deleted contacts</h1>
        <p className="muted">
          Every deletion leaves a record: the masked handle, the channel, when, and who deleted it.
          Nothing else about the person is kept.
        </p>
      </header>
      {error !== null && (
        <p className="notice error" role="alert">
          {humanMessage(error)}
        </p>
      )}
      <table className="table" data-testid="deleted-contacts">
        <thead>
          <tr>
            <th>Contact</th>
            <th>Channel</th>
            <th>Deleted</th>
            <th>By</th>
          </tr>
        </thead>
        <tbody>
          {items.map((record) => (
            <tr key={record.id} data-testid="deleted-contact">
              <td>{record.hint}</td>
              <td>{channelLabel(record.channel)}</td>
              <td>{clockTime(record.deletedAt)}</td>
              <td>{record.deletedBy.name ?? record.deletedBy.userId}</td>
            </tr>
          ))}
          {items.length === 0 && !loading && (
            <tr>
              <td colSpan={4} className="muted">
                No contact has been deleted.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {hasMore && (
        <button type="button" className="button" onClick={loadMore} disabled={loading}>
          Load more
        </button>
      )}
    </div>
  )
}
