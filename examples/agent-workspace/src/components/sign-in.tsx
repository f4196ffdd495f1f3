import { DEMO_USERS } from '../session'
import type { DemoUser } from '../session'
import { initials } from '../format'
import { ArrowRightIcon } from './icons'

/** Pick a demo user; a real app signs in with its own identity provider instead. */
export function SignIn({ onSignIn }: { onSignIn: (user: DemoUser) => void }) {
  return (
    <main className="sign-in">
      <div className="sign-in-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Cardfile
        </div>
        <h1>Sign in to the demo workspace</h1>
        <p className="muted">
          Open this page in two windows as two different people to watch edits, presence and admin
          changes travel live.
        </p>
        <ul className="user-picker">
          {DEMO_USERS.map((user) => (
            <li key={user.userId}>
              <button
                type="button"
                className="user-choice"
                onClick={() => onSignIn(user)}
                data-testid={`sign-in-${user.userId}`}
              >
                <span className={`avatar avatar-${user.userId}`}>{initials(user.name)}</span>
                <span className="user-choice-text">
                  <strong>{user.name}</strong>
                  <span className="muted">{user.title}</span>
                </span>
                <span className="chevron">
                  <ArrowRightIcon />
                </span>
              </button>
            </li>
          ))}
        </ul>
      </div>
    </main>
  )
}
