//! The port that checks a token sent in band (`{"type":"auth","token":…}`).

use notification_domain::UserId;
use thiserror::Error;

/// What a valid token says about its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    /// The token's `sub`.
    pub user_id: UserId,
    /// The token's `exp`, in Unix seconds.
    pub expires_at: i64,
}

/// Why a token was rejected. Its text is sent to the client, so it never
/// quotes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenRejected {
    #[error("token expired")]
    Expired,
    /// Bad signature, wrong algorithm, malformed token, failed claim check…
    #[error("invalid token")]
    Invalid,
}

/// Verifies a token the same way the HTTP layer does at the upgrade.
///
/// Synchronous: verifying a JWT is a little CPU work and no I/O.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SessionAuthenticator: Send + Sync {
    /// The claims of a valid token, or why it was rejected.
    fn authenticate(&self, token: &str) -> Result<SessionClaims, TokenRejected>;
}
