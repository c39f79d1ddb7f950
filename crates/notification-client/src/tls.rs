//! Private certificate authorities (`ClientConfig::ca_certificates_pem`):
//! the certificates a server signed by the caller's own CA is checked
//! against, beside the system's roots, for `https://` (the client's private
//! HTTP client) and `wss://` (the subscription's connector) alike.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use crate::error::ClientError;

/// The private CAs in the two forms the connections take.
#[derive(Debug)]
pub(crate) struct PrivateRoots {
    /// For the REST client (added beside reqwest's system roots).
    pub(crate) http: Vec<reqwest::Certificate>,
    /// For the WebSocket: the system roots and the private CAs, on ring
    /// (the workspace's one provider; no process default is needed).
    pub(crate) websocket: Arc<rustls::ClientConfig>,
}

/// Reads every certificate of the PEM bundle `pem` (at least one).
pub(crate) fn private_roots(pem: &[u8]) -> Result<PrivateRoots, ClientError> {
    let invalid = |reason: String| ClientError::InvalidCaCertificates { reason };
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("not PEM certificates: {error}")))?;
    if certificates.is_empty() {
        return Err(invalid("no certificate in the PEM text".to_owned()));
    }
    let http = certificates
        .iter()
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(error.to_string()))?;
    let mut roots = RootCertStore::empty();
    // The system's roots too, as for reqwest: a private CA adds trust.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|error| invalid(error.to_string()))?;
    }
    let websocket = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| invalid(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(PrivateRoots {
        http,
        websocket: Arc::new(websocket),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_is_refused() {
        for pem in [
            &b""[..],
            b"not pem at all",
            b"-----BEGIN CERTIFICATE-----\n!!\n",
        ] {
            assert!(
                matches!(
                    private_roots(pem),
                    Err(ClientError::InvalidCaCertificates { .. })
                ),
                "{pem:?}"
            );
        }
    }
}
