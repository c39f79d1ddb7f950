//! Reading one client text message: size limits first, then JSON.

use notification_application::realtime::RealtimeSettings;
use notification_protocol::ClientMessage;

/// What a client text message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientRequest {
    Ping,
    Auth {
        token: String,
    },
    /// Too large: close with 1009.
    TooLarge,
    /// Not a message we understand; the text is the `error` message to send.
    Invalid(&'static str),
}

/// Classifies `text`. The size is checked before parsing: anything up to
/// `max_message_size` is parsed; a message between that and
/// `max_auth_message_size` is accepted only if it parses as `auth` (tokens can
/// be long); anything larger is not parsed at all.
pub(crate) fn read_client_message(text: &str, settings: &RealtimeSettings) -> ClientRequest {
    let size = text.len();
    if size
        > settings
            .max_auth_message_size
            .max(settings.max_message_size)
    {
        return ClientRequest::TooLarge;
    }
    let parsed = serde_json::from_str::<ClientMessage>(text);
    if size > settings.max_message_size {
        return match parsed {
            Ok(ClientMessage::Auth { token }) => ClientRequest::Auth { token },
            _ => ClientRequest::TooLarge,
        };
    }
    match parsed {
        Ok(ClientMessage::Ping) => ClientRequest::Ping,
        Ok(ClientMessage::Auth { token }) => ClientRequest::Auth { token },
        // The error's own text is not echoed: it could quote the input.
        Err(error) if error.is_syntax() || error.is_eof() => {
            ClientRequest::Invalid("message is not valid JSON")
        }
        Err(_) => ClientRequest::Invalid(
            r#"unknown or malformed message: expected {"type":"ping"} or {"type":"auth","token":"…"}"#,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RealtimeSettings {
        RealtimeSettings {
            max_message_size: 64,
            max_auth_message_size: 256,
            ..RealtimeSettings::default()
        }
    }

    fn auth_of_size(size: usize) -> String {
        let envelope = r#"{"type":"auth","token":""}"#.len();
        format!(
            r#"{{"type":"auth","token":"{}"}}"#,
            "t".repeat(size - envelope)
        )
    }

    #[test]
    fn ping_and_auth_are_understood() {
        assert_eq!(
            read_client_message(r#"{"type":"ping"}"#, &settings()),
            ClientRequest::Ping
        );
        assert_eq!(
            read_client_message(r#"{"type":"auth","token":"abc"}"#, &settings()),
            ClientRequest::Auth {
                token: "abc".into()
            }
        );
    }

    #[test]
    fn bad_json_and_unknown_types_are_invalid_with_different_explanations() {
        let ClientRequest::Invalid(bad_json) = read_client_message("{nope", &settings()) else {
            panic!("bad JSON must be invalid");
        };
        let ClientRequest::Invalid(unknown) =
            read_client_message(r#"{"type":"dance"}"#, &settings())
        else {
            panic!("an unknown type must be invalid");
        };
        assert_ne!(bad_json, unknown);
        assert!(matches!(
            read_client_message(r#"{"type":"auth"}"#, &settings()),
            ClientRequest::Invalid(_)
        ));
    }

    #[test]
    fn a_message_over_the_limit_is_too_large_unless_it_is_an_auth() {
        let big_ping = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(64));
        assert_eq!(
            read_client_message(&big_ping, &settings()),
            ClientRequest::TooLarge
        );
        assert!(matches!(
            read_client_message(&auth_of_size(200), &settings()),
            ClientRequest::Auth { .. }
        ));
        assert_eq!(
            read_client_message(&"x".repeat(100), &settings()),
            ClientRequest::TooLarge,
            "not even invalid JSON is answered above the limit"
        );
    }

    #[test]
    fn even_an_auth_is_too_large_past_the_auth_limit() {
        assert!(matches!(
            read_client_message(&auth_of_size(256), &settings()),
            ClientRequest::Auth { .. }
        ));
        assert_eq!(
            read_client_message(&auth_of_size(257), &settings()),
            ClientRequest::TooLarge
        );
    }

    #[test]
    fn the_limit_itself_is_allowed() {
        let pad = 64 - r#"{"type":"ping","p":""}"#.len();
        let exactly = format!(r#"{{"type":"ping","p":"{}"}}"#, "x".repeat(pad));
        assert_eq!(exactly.len(), 64);
        assert_eq!(
            read_client_message(&exactly, &settings()),
            ClientRequest::Ping
        );
    }
}
