//! A certificate authority of one test's own, for servers with TLS on: the CA
//! and a server certificate for `127.0.0.1` and `localhost` signed by it, as
//! PEM files in a folder that disappears with the value.
//!
//! Two `TestCa`s never trust each other's certificates, so "the wrong CA" is
//! simply another `TestCa`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use uuid::Uuid;

use super::remove_stale_folders;

/// A private CA and a server certificate it signed, written to files.
pub struct TestCa {
    folder: PathBuf,
}

impl TestCa {
    /// Makes the CA and the server certificate (names `127.0.0.1` and
    /// `localhost`) and writes `ca.pem`, `server.crt` and `server.key`.
    pub fn new() -> Self {
        let root = std::env::temp_dir().join("notification-tests-ca");
        remove_stale_folders(&root);
        let folder = root.join(Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&folder)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", folder.display()));

        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "notification tests CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, &ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();

        let write = |name: &str, content: String| {
            let path = folder.join(name);
            std::fs::write(&path, content)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        };
        write("ca.pem", ca_cert.pem());
        write("server.crt", server_cert.pem());
        write("server.key", server_key.serialize_pem());
        Self { folder }
    }

    /// The CA certificate (PEM): what a client trusts.
    pub fn ca_file(&self) -> PathBuf {
        self.folder.join("ca.pem")
    }

    /// The server's certificate (PEM), signed by the CA.
    pub fn server_cert_file(&self) -> PathBuf {
        self.folder.join("server.crt")
    }

    /// The server's private key (PKCS#8 PEM).
    pub fn server_key_file(&self) -> PathBuf {
        self.folder.join("server.key")
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
