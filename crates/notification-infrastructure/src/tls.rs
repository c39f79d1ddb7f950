//! TLS for the connections the service opens (PostgreSQL, Redis, an https
//! JWKS): one crypto provider, a private CA, and telling a certificate that
//! does not verify apart from a server that is away.
//!
//! Every TLS client in the process is rustls on ring: sqlx, redis and reqwest
//! are built with it and nothing builds aws-lc-rs. rustls still wants the
//! provider named when more than one could be linked, so
//! [`install_crypto_provider`] makes ring the process default at start-up.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use thiserror::Error;

/// Makes ring the process-wide rustls crypto provider. Idempotent: a second
/// call (tests build many applications in one process) changes nothing.
pub fn install_crypto_provider() {
    // Err only means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A private certificate authority (`TLS_CA_FILE`): PEM certificates trusted
/// beside the system's roots for `rediss://` and an https JWKS.
#[derive(Clone)]
pub struct PrivateCa {
    path: PathBuf,
    /// The file as read: one or more PEM `CERTIFICATE` blocks, each checked.
    pem: Vec<u8>,
}

/// `TLS_CA_FILE` cannot be used; one line naming the file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct InvalidCaFile(String);

impl PrivateCa {
    /// Reads and checks the file: it must hold at least one PEM certificate,
    /// and every certificate block in it must decode.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, InvalidCaFile> {
        let path = path.as_ref();
        let shown = path.display();
        let pem =
            std::fs::read(path).map_err(|e| InvalidCaFile(format!("cannot read {shown}: {e}")))?;
        let count = CertificateDer::pem_slice_iter(&pem)
            .try_fold(0usize, |count, cert| cert.map(|_| count + 1))
            .map_err(|e| InvalidCaFile(format!("{shown} is not valid PEM: {e}")))?;
        if count == 0 {
            return Err(InvalidCaFile(format!(
                "{shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            pem,
        })
    }

    /// The PEM text, as read.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The system's trusted roots followed by this CA, as one PEM bundle:
    /// for clients (redis) that take a single root list, where giving only the
    /// private CA would stop trusting public ones. A system store that cannot
    /// be read is logged; the private CA alone is then trusted.
    pub(crate) fn with_system_roots(&self) -> Vec<u8> {
        let system = rustls_native_certs::load_native_certs();
        for error in &system.errors {
            tracing::warn!(%error, "some of the system's trusted certificates could not be read");
        }
        let mut bundle = Vec::with_capacity(system.certs.len() * 2048 + self.pem.len() + 1);
        for cert in &system.certs {
            bundle.extend_from_slice(pem_certificate(cert).as_bytes());
        }
        bundle.extend_from_slice(&self.pem);
        bundle.push(b'\n');
        bundle
    }
}

impl fmt::Debug for PrivateCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PrivateCa").field(&self.path).finish()
    }
}

/// A DER certificate as a PEM block (64 base64 characters a line, RFC 7468).
fn pem_certificate(der: &CertificateDer<'_>) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 60);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// Whether `error`, or anything in its chain of causes, is rustls refusing the
/// peer's certificate (unknown issuer, wrong name, expired…): a deployment
/// error that retrying does not fix, unlike a server that is away.
pub fn is_certificate_error(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(rustls) = error.downcast_ref::<rustls::Error>() {
            return matches!(
                rustls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        // io::Error's `source()` skips its own payload, where rustls puts
        // the refusal; redis shares its causes behind an `Arc`.
        let hidden: Option<&(dyn StdError + 'static)> =
            if let Some(io) = error.downcast_ref::<std::io::Error>() {
                io.get_ref().map(|inner| inner as _)
            } else {
                error
                    .downcast_ref::<Arc<dyn StdError + Send + Sync>>()
                    .map(|shared| shared.as_ref() as _)
            };
        if hidden.is_some_and(is_certificate_error) {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(content: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn a_file_without_certificates_is_refused_naming_it() {
        let path = write(b"not a certificate\n");
        let err = PrivateCa::read(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("no PEM certificate"), "{err}");
        assert!(!err.contains('\n'));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_missing_file_is_refused_naming_it() {
        let err = PrivateCa::read("/no/such/ca.pem").unwrap_err().to_string();
        assert!(err.contains("/no/such/ca.pem"), "{err}");
    }

    #[test]
    fn a_der_certificate_round_trips_through_its_pem_block() {
        let der = CertificateDer::from((0u8..=200).collect::<Vec<u8>>());
        let pem = pem_certificate(&der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        let back: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, vec![der]);
    }

    #[test]
    fn a_certificate_refusal_is_found_through_io_and_shared_causes() {
        let refusal = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, refusal);
        assert!(is_certificate_error(&io));
        let shared: Arc<dyn StdError + Send + Sync> = Arc::new(io);
        assert!(is_certificate_error(&shared));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_certificate_error(&refused));
    }
}
