//! The users of one worker: fresh ids (so runs never see each other's
//! notifications), their tokens, and the node each one lives on.

use std::time::Duration;

use anyhow::Context;
use notification_presentation::auth::{JwtKey, TokenIssuer, PUBLISH_SCOPE};
use uuid::Uuid;

/// One simulated user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    /// HS256 token for the user's sockets.
    pub token: String,
    /// Index of the node the user's sockets and notifications go to.
    pub node: usize,
}

/// Mints tokens exactly as the server's own `token` command does.
pub struct Tokens {
    issuer: TokenIssuer,
    ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &str, ttl: Duration) -> anyhow::Result<Self> {
        let key = JwtKey::hs256(secret.as_bytes().to_vec()).context("--jwt-secret")?;
        Ok(Self {
            issuer: TokenIssuer::new(&key).context("--jwt-secret")?,
            ttl,
        })
    }

    pub fn user(&self, id: Uuid) -> anyhow::Result<String> {
        self.issuer
            .issue(id, None, self.ttl)
            .context("minting a user token")
    }

    /// A token with the `notifications:publish` scope, for a made-up publisher.
    pub fn publisher(&self) -> anyhow::Result<String> {
        self.issuer
            .issue(Uuid::new_v4(), Some(PUBLISH_SCOPE), self.ttl)
            .context("minting the publisher token")
    }
}

/// `count` new users; global user `first + i` lives on node `(first + i) mod nodes`.
pub fn make_users(
    tokens: &Tokens,
    first: usize,
    count: usize,
    nodes: usize,
) -> anyhow::Result<Vec<User>> {
    (first..first + count)
        .map(|global| {
            let id = Uuid::new_v4();
            Ok(User {
                id,
                token: tokens.user(id)?,
                node: global % nodes.max(1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_presentation::auth::{JwtSettings, TokenVerifier};

    const SECRET: &str = "a-bench-secret-of-at-least-32-bytes!";

    #[test]
    fn users_alternate_over_the_nodes_and_their_tokens_verify() {
        let tokens = Tokens::new(SECRET, Duration::from_secs(60)).unwrap();
        let users = make_users(&tokens, 3, 4, 2).unwrap();
        let nodes: Vec<usize> = users.iter().map(|u| u.node).collect();
        assert_eq!(nodes, [1, 0, 1, 0]);

        let key = JwtKey::hs256(SECRET.as_bytes().to_vec()).unwrap();
        let verifier = TokenVerifier::new(JwtSettings::new(key)).unwrap();
        let user = verifier.verify(&users[0].token).unwrap();
        assert_eq!(user.user_id().into_uuid(), users[0].id);
        let publisher = verifier.verify(&tokens.publisher().unwrap()).unwrap();
        assert!(publisher.is_publisher());
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(Tokens::new("short", Duration::from_secs(60)).is_err());
    }
}
