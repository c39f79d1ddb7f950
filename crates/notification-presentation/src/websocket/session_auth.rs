//! The JWT verifier, offered to the connection loop for in-band `auth`.

use notification_application::realtime::{SessionAuthenticator, SessionClaims};

use crate::auth::TokenVerifier;

impl SessionAuthenticator for TokenVerifier {
    fn authenticate(&self, token: &str) -> Result<SessionClaims, String> {
        // AuthError's text describes the problem, never the token.
        let user = self.verify(token).map_err(|error| error.to_string())?;
        Ok(SessionClaims {
            user_id: user.user_id(),
            expires_at: user.expires_at(),
        })
    }
}
