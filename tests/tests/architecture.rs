//! The layering rules of docs/architecture.md, checked against `cargo metadata`:
//! dependencies point inward only.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates that mean the web, a database or an async runtime.
const INFRASTRUCTURE_CRATES: &[&str] = &[
    "actix-web",
    "actix-ws",
    "actix-http",
    "actix-rt",
    "axum",
    "hyper",
    "reqwest",
    "warp",
    "sqlx",
    "diesel",
    "rusqlite",
    "tokio-postgres",
    "redis",
    "tokio",
    "async-std",
    "smol",
    "jsonwebtoken",
    "tokio-tungstenite",
];

/// Normal (non-dev, non-build) dependencies of every workspace package.
fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            let deps = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| dep["kind"].is_null())
                .filter_map(|dep| dep["name"].as_str().map(str::to_owned))
                .collect();
            (name, deps)
        })
        .collect()
}

fn ours(deps: &BTreeSet<String>) -> BTreeSet<&str> {
    deps.iter()
        .map(String::as_str)
        .filter(|d| d.starts_with("notification-"))
        .collect()
}

fn assert_no_infrastructure_crates(package: &str, deps: &BTreeSet<String>) {
    let found: Vec<&str> = INFRASTRUCTURE_CRATES
        .iter()
        .copied()
        .filter(|c| deps.contains(*c))
        .collect();
    assert!(found.is_empty(), "{package} must not depend on {found:?}");
}

#[test]
fn the_domain_depends_on_nothing_of_ours_and_on_no_web_database_or_runtime_crate() {
    let all = workspace_dependencies();
    let domain = &all["notification-domain"];
    assert!(
        ours(domain).is_empty(),
        "domain depends on {:?}",
        ours(domain)
    );
    assert_no_infrastructure_crates("notification-domain", domain);
}

#[test]
fn the_protocol_depends_only_on_the_domain() {
    let all = workspace_dependencies();
    let protocol = &all["notification-protocol"];
    assert_eq!(ours(protocol), BTreeSet::from(["notification-domain"]));
    assert_no_infrastructure_crates("notification-protocol", protocol);
}

#[test]
fn the_application_depends_only_on_the_domain() {
    let all = workspace_dependencies();
    let application = &all["notification-application"];
    assert_eq!(ours(application), BTreeSet::from(["notification-domain"]));
    let web_or_db: Vec<&str> = ["actix-web", "actix-ws", "sqlx", "redis", "jsonwebtoken"]
        .into_iter()
        .filter(|c| application.contains(*c))
        .collect();
    assert!(
        web_or_db.is_empty(),
        "application must not depend on {web_or_db:?}"
    );
}

#[test]
fn presentation_does_not_depend_on_infrastructure() {
    let all = workspace_dependencies();
    let presentation = ours(&all["notification-presentation"]);
    assert!(!presentation.contains("notification-infrastructure"));
    assert!(!presentation.contains("notification-api"));
}

#[test]
fn infrastructure_does_not_depend_on_presentation_or_the_binary() {
    let all = workspace_dependencies();
    let infrastructure = ours(&all["notification-infrastructure"]);
    assert!(!infrastructure.contains("notification-presentation"));
    assert!(!infrastructure.contains("notification-api"));
}

#[test]
fn only_the_binary_wires_infrastructure_in() {
    let all = workspace_dependencies();
    let wiring: BTreeSet<&str> = all
        .iter()
        .filter(|(_, deps)| deps.contains("notification-infrastructure"))
        .map(|(name, _)| name.as_str())
        .collect();
    // The end-to-end test crate starts the binary's Application, so it may too.
    let allowed = BTreeSet::from(["notification-api", "notification-e2e"]);
    assert!(
        wiring.is_subset(&allowed),
        "{wiring:?} depend on infrastructure"
    );
    assert!(wiring.contains("notification-api"));
}

#[test]
fn the_client_sdk_depends_only_on_the_protocol() {
    let all = workspace_dependencies();
    let client = &all["notification-client"];
    // The wire types, and through them the domain's enums; nothing of the
    // server (its tests start the server as a dev-dependency only).
    assert_eq!(ours(client), BTreeSet::from(["notification-protocol"]));
    let server_side: Vec<&str> = [
        "actix-web",
        "actix-ws",
        "actix-http",
        "axum",
        "warp",
        "sqlx",
        "redis",
        "jsonwebtoken",
    ]
    .into_iter()
    .filter(|c| client.contains(*c))
    .collect();
    assert!(
        server_side.is_empty(),
        "the client SDK must not depend on {server_side:?}"
    );
}
