//! Dev mode (contract §1): with no `JWT_SECRET` and no `JWT_PUBLIC_KEY_FILE`
//! the server makes a random secret for this run and prints tokens to try it.

use std::time::Duration;

use notification_presentation::auth::{JwtKey, TokenIssuer, PUBLISH_SCOPE};
use rand::RngCore;
use uuid::Uuid;

/// How long the printed tokens live.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// A fresh random HS256 secret: 32 random bytes, hex encoded (64 bytes of text).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tokens printed at start so the README's first steps need no set-up.
pub struct DevTokens {
    pub user_id: Uuid,
    pub user_token: String,
    pub publisher_token: String,
}

impl DevTokens {
    pub fn issue(key: &JwtKey) -> Result<Self, String> {
        let issuer = TokenIssuer::new(key).map_err(|e| e.to_string())?;
        let user_id = Uuid::now_v7();
        let user_token = issuer
            .issue(user_id, None, DEV_TOKEN_TTL)
            .map_err(|e| e.to_string())?;
        let publisher_token = issuer
            .issue(Uuid::now_v7(), Some(PUBLISH_SCOPE), DEV_TOKEN_TTL)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            user_id,
            user_token,
            publisher_token,
        })
    }

    /// The inbox page signed in as the user: the token rides in the fragment,
    /// which browsers never send to a server, and the page removes it from
    /// the address bar.
    pub fn inbox_link(&self, base_url: &str) -> String {
        format!("{base_url}/#token={}", self.user_token)
    }

    /// Printed straight to standard output, not through the logger: tokens
    /// never go into logs.
    pub fn print(&self, base_url: &str) {
        println!(
            "\n\
=====================================================================
 DEV MODE: JWT_SECRET is not set. A random secret was generated for
 this run only; tokens stop working when the server restarts.
 Never run like this in production.
=====================================================================
 open the inbox:   {inbox_link}

 user id:          {user_id}
 user token:       {user_token}
 publisher token:  {publisher_token}

 export USER_ID={user_id}
 export USER_TOKEN={user_token}
 export PUBLISHER_TOKEN={publisher_token}
 export BASE_URL={base_url}
=====================================================================\n",
            user_id = self.user_id,
            user_token = self.user_token,
            publisher_token = self.publisher_token,
            inbox_link = self.inbox_link(base_url),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_link_carries_the_user_token_in_the_fragment() {
        let key = JwtKey::hs256(random_secret().into_bytes()).unwrap();
        let tokens = DevTokens::issue(&key).unwrap();
        assert_eq!(
            tokens.inbox_link("http://127.0.0.1:8080"),
            format!("http://127.0.0.1:8080/#token={}", tokens.user_token)
        );
        // A JWT is base64url and dots: nothing to escape in a fragment.
        assert!(tokens
            .user_token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    }
}
