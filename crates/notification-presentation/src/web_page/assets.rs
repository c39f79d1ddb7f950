//! The files of the inbox page and the JavaScript client, embedded by
//! `build.rs`, looked up by URL path.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// (URL path, contents) of every embedded file: `/index.html`, `/inbox.js`,
/// …, `/client/notifications.js`, ….
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The page's Content-Security-Policy: only its own scripts, styles and
/// connections (`apps/web/content-security-policy.txt`, shared with the
/// development server).
pub const CONTENT_SECURITY_POLICY: &str =
    include_str!("../../../../apps/web/content-security-policy.txt");

/// One servable file.
#[derive(Debug)]
pub struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub content_type: &'static str,
    /// A strong validator: a quoted digest of the contents.
    pub etag: String,
}

/// The file served at `path` (`/` is `/index.html`), if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    all().iter().find(|asset| asset.path == path)
}

/// Every embedded file; digests are computed once, on first use.
pub fn all() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|&(path, body)| Asset {
                path,
                body,
                content_type: content_type(path),
                etag: etag(body),
            })
            .collect()
    })
}

/// The media type by extension. Modules must be a JavaScript type or
/// browsers refuse to run them; unknown kinds are sent as opaque bytes.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ts" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every file of both folders is embedded, byte for byte.
    #[test]
    fn every_file_of_the_page_and_the_client_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps/web");
        for (prefix, folder) in [("/", "public"), ("/client/", "client")] {
            for entry in std::fs::read_dir(root.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_str().unwrap();
                let asset = find(&format!("{prefix}{name}")).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(asset.body, std::fs::read(&path).unwrap(), "{name}");
            }
        }
    }

    #[test]
    fn the_root_is_the_page_and_modules_are_javascript() {
        assert_eq!(find("/").unwrap().path, "/index.html");
        assert_eq!(find("/").unwrap().content_type, "text/html; charset=utf-8");
        assert_eq!(
            find("/client/notifications.js").unwrap().content_type,
            "text/javascript; charset=utf-8"
        );
        assert!(find("/client/../index.html").is_none());
        assert!(find("/nothing.js").is_none());
    }

    #[test]
    fn etags_differ_with_the_contents() {
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert!(etag(b"a").starts_with('"') && etag(b"a").ends_with('"'));
    }
}
