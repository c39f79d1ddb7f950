//! One connection attempt: `GET /ws/notifications?since_seq=…` (or
//! `?since=<id>`) with the token in the `Authorization` header, and what a
//! refusal means.

use std::time::Duration;

use notification_protocol::ErrorResponse;
use reqwest::Url;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::events::DisconnectReason;
use crate::client::WebSocketTls;

pub(super) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why no socket was opened.
#[derive(Debug)]
pub(super) enum Refusal {
    /// 401: the token is not accepted; retrying with it is pointless.
    Unauthorized,
    /// A refusal that retrying cannot fix (400, 403).
    Fatal(DisconnectReason),
    /// Anything else: server down, restarting (503), too many sockets (429)…
    Retry(DisconnectReason),
}

/// Where a connection resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResumePoint {
    /// `?since_seq=`: after this change.
    Seq(u64),
    /// `?since=`: after the change that created this notification.
    Notification(Uuid),
}

/// Opens the socket, resuming after `resume`; `tls`: the settings of a
/// `wss://` URL (`None`: the system's roots).
pub(super) async fn open(
    url: &Url,
    token: &str,
    resume: ResumePoint,
    timeout: Duration,
    tls: Option<WebSocketTls>,
) -> Result<WsStream, Refusal> {
    let mut url = url.clone();
    match resume {
        ResumePoint::Seq(seq) => url
            .query_pairs_mut()
            .append_pair("since_seq", &seq.to_string()),
        ResumePoint::Notification(id) => {
            url.query_pairs_mut().append_pair("since", &id.to_string())
        }
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| Refusal::Fatal(DisconnectReason::Network(error.to_string())))?;
    // A token that cannot even be a header value is as good as refused.
    let bearer =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| Refusal::Unauthorized)?;
    request.headers_mut().insert("authorization", bearer);
    #[cfg(feature = "rustls")]
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        tls.map(tokio_tungstenite::Connector::Rustls),
    );
    #[cfg(not(feature = "rustls"))]
    let connect = {
        let _no_tls = tls;
        tokio_tungstenite::connect_async(request)
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok((stream, _))) => Ok(stream),
        Ok(Err(WsError::Http(response))) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            Err(refusal(status, body))
        }
        Ok(Err(error)) => Err(Refusal::Retry(DisconnectReason::Network(error.to_string()))),
        Err(_) => Err(Refusal::Retry(DisconnectReason::Network(format!(
            "no answer within {timeout:?}"
        )))),
    }
}

/// What an HTTP answer instead of `101 Switching Protocols` means.
fn refusal(status: u16, body: &[u8]) -> Refusal {
    if status == 401 {
        return Refusal::Unauthorized;
    }
    let (code, message) = match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(ErrorResponse { error }) => (Some(error.code), error.message),
        Err(_) => (
            None,
            String::from_utf8_lossy(body).chars().take(512).collect(),
        ),
    };
    let reason = DisconnectReason::Refused {
        status,
        code,
        message,
    };
    match status {
        400 | 403 => Refusal::Fatal(reason),
        _ => Refusal::Retry(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_protocol::ErrorCode;

    #[test]
    fn refusals_are_sorted_by_what_can_fix_them() {
        assert!(matches!(refusal(401, b""), Refusal::Unauthorized));
        let forbidden = br#"{"error":{"code":"forbidden","message":"origin"}}"#;
        match refusal(403, forbidden) {
            Refusal::Fatal(DisconnectReason::Refused { status, code, .. }) => {
                assert_eq!((status, code), (403, Some(ErrorCode::Forbidden)));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(refusal(429, b"{}"), Refusal::Retry(_)));
        assert!(matches!(refusal(503, b""), Refusal::Retry(_)));
        assert!(matches!(refusal(502, b"<html>"), Refusal::Retry(_)));
    }
}
