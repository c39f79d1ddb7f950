//! The port that checks a token sent in band (`{"type":"auth","token":…}`).

use notification_domain::UserId;

/// What a valid token says about its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    /// The token's `sub`.
    pub user_id: UserId,
    /// The token's `exp`, in Unix seconds.
    pub expires_at: i64,
}

/// Verifies a token the same way the HTTP layer does at the upgrade.
///
/// Synchronous: verifying a JWT is a little CPU work and no I/O.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SessionAuthenticator: Send + Sync {
    /// The claims of a valid token, or why it was rejected. The reason is sent
    /// to the client and may be logged, so it must never contain the token.
    fn authenticate(&self, token: &str) -> Result<SessionClaims, String>;
}
