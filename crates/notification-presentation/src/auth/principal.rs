//! Who is calling: the result of verifying a token.

use notification_domain::UserId;

/// The scope that lets a token create notifications for any user.
pub const PUBLISH_SCOPE: &str = "notifications:publish";

/// The caller behind a valid token.
///
/// Used as an actix extractor on REST handlers (token from the
/// `Authorization: Bearer` header only), and returned by
/// [`authenticate_websocket`](super::authenticate_websocket) for the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    user_id: UserId,
    scopes: Vec<String>,
    expires_at: i64,
}

impl AuthenticatedUser {
    pub(crate) fn new(user_id: UserId, scope: Option<&str>, expires_at: i64) -> Self {
        Self {
            user_id,
            scopes: scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            expires_at,
        }
    }

    /// The token's `sub`: every request acts on this user's notifications.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The token's `exp`, in unix seconds: a WebSocket opened with this token
    /// is closed when it passes.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The entries of the token's space-separated `scope` claim.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the token carries [`PUBLISH_SCOPE`].
    pub fn is_publisher(&self) -> bool {
        self.has_scope(PUBLISH_SCOPE)
    }
}

/// A caller whose token carries [`PUBLISH_SCOPE`]. As an extractor it answers
/// 401 without a valid token and 403 `forbidden` without the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher(pub AuthenticatedUser);

impl Publisher {
    pub fn user(&self) -> &AuthenticatedUser {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(scope: Option<&str>) -> AuthenticatedUser {
        AuthenticatedUser::new(UserId::from_uuid(uuid::Uuid::nil()), scope, 0)
    }

    #[test]
    fn the_publish_scope_is_found_among_space_separated_scopes() {
        assert!(user(Some("profile  notifications:publish email")).is_publisher());
        assert!(user(Some("notifications:publish")).is_publisher());
    }

    #[test]
    fn similar_or_missing_scopes_are_not_publishers() {
        assert!(!user(None).is_publisher());
        assert!(!user(Some("")).is_publisher());
        assert!(!user(Some("notifications:publisher notifications")).is_publisher());
        assert!(!user(Some("NOTIFICATIONS:PUBLISH")).is_publisher());
    }
}
