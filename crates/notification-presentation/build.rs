//! Embeds the inbox page (`apps/web/public`) and the JavaScript client
//! (`apps/web/client`) in the binary: writes `$OUT_DIR/web_assets.rs`, a table
//! of `include_bytes!` entries, one per file, so a file added there is served
//! without touching the code.

// A build script reports a broken checkout by panicking: cargo prints the
// message and stops the build, which is what should happen here.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// (URL prefix, folder under the repository root).
const FOLDERS: [(&str, &str); 2] = [("/", "apps/web/public"), ("/client/", "apps/web/client")];

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..");
    let mut table = String::from("&[\n");
    for (prefix, folder) in FOLDERS {
        let dir = root.join(folder);
        // A new or removed file changes the directory's listing.
        println!("cargo:rerun-if-changed={}", dir.display());
        for file in files(&dir) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("asset names are UTF-8");
            let path = fs::canonicalize(&file).expect("asset path resolves");
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(
                table,
                "    ({:?}, include_bytes!({:?})),",
                format!("{prefix}{name}"),
                path.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    table.push(']');
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("web_assets.rs"), table).expect("OUT_DIR is writable");
}

/// The regular files directly in `dir`, sorted (subfolders are not served).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}
