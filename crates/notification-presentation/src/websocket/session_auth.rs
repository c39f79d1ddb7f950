//! The JWT verifier, offered to the conversation for in-band `auth`.

use notification_application::realtime::{SessionAuthenticator, SessionClaims, TokenRejected};

use crate::auth::{AuthError, TokenVerifier};

impl SessionAuthenticator for TokenVerifier {
    fn authenticate(&self, token: &str) -> Result<SessionClaims, TokenRejected> {
        let user = self.verify(token).map_err(|error| match error {
            AuthError::Expired => TokenRejected::Expired,
            AuthError::MissingToken | AuthError::MalformedHeader | AuthError::Invalid { .. } => {
                TokenRejected::Invalid
            }
        })?;
        Ok(SessionClaims {
            user_id: user.user_id(),
            expires_at: user.expires_at(),
        })
    }
}
