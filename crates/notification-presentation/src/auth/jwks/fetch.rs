//! The HTTP side of the JWKS: one GET with a timeout and a size limit.

use super::{JwksError, JwksSettings};

/// A JWK set is a few kilobytes; a larger answer is not one.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(super) struct KeySource {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl KeySource {
    pub(super) fn new(settings: &JwksSettings) -> Result<Self, JwksError> {
        let url = reqwest::Url::parse(&settings.url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| {
                JwksError::Config(format!(
                    "expected an http:// or https:// URL, got {:?}",
                    settings.url
                ))
            })?;
        let mut builder = reqwest::Client::builder()
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            // A redirect elsewhere would move trust to another host.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &settings.private_ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| JwksError::Config(format!("TLS_CA_FILE: {e}")))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|e| JwksError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client, url })
    }

    /// The body of one successful GET.
    pub(super) async fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        let failed = |reason: String| JwksError::Fetch {
            url: self.url.to_string(),
            reason,
        };
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(failed(format!("answered {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(error_chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(failed(format!("answer larger than {MAX_BODY_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// reqwest's own text hides the cause ("error sending request"): add it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}
