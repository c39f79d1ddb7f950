//! The layering rules of docs/architecture.md, checked against `cargo metadata`:
//! dependencies point inward only.
//!
//! Each rule is about what a crate *reaches*: its normal (non-dev, non-build)
//! dependencies, and theirs, through our crates, following an optional
//! dependency only where a feature that the dependent enables switches it on.
//! So the client SDK, which uses the protocol without its `domain` feature,
//! does not reach the domain, while the server's crates, which enable it, do.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

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

/// Crates only a server needs; a client of the wire must reach none of them.
const SERVER_CRATES: &[&str] = &[
    "actix-web",
    "actix-ws",
    "actix-http",
    "axum",
    "warp",
    "sqlx",
    "rusqlite",
    "redis",
];

/// One normal dependency of a workspace package, as `cargo metadata` says.
struct Dependency {
    /// The name the dependent uses (its `rename`, else the package name).
    key: String,
    package: String,
    optional: bool,
    features: Vec<String>,
    default_features: bool,
}

/// A workspace package: its features and its normal dependencies.
struct Package {
    features: BTreeMap<String, Vec<String>>,
    dependencies: Vec<Dependency>,
}

fn workspace() -> BTreeMap<String, Package> {
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
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|package| {
            let features = package["features"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, enables)| (name.clone(), strings(enables)))
                .collect();
            let dependencies = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| dep["kind"].is_null())
                .map(|dep| {
                    let name = dep["name"].as_str().unwrap_or_default().to_owned();
                    Dependency {
                        key: dep["rename"].as_str().map_or(name.clone(), str::to_owned),
                        package: name,
                        optional: dep["optional"].as_bool().unwrap_or(false),
                        features: strings(&dep["features"]),
                        default_features: dep["uses_default_features"].as_bool().unwrap_or(true),
                    }
                })
                .collect();
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            (
                name,
                Package {
                    features,
                    dependencies,
                },
            )
        })
        .collect()
}

/// Every crate `root` reaches with `features` enabled (itself excluded).
fn reached(all: &BTreeMap<String, Package>, root: &str, features: &[&str]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let start: BTreeSet<String> = features.iter().map(|f| (*f).to_owned()).collect();
    let mut todo = vec![(root.to_owned(), start)];
    while let Some((name, requested)) = todo.pop() {
        if !seen.insert((name.clone(), requested.clone())) {
            continue;
        }
        let Some(package) = all.get(&name) else {
            continue; // not ours: its own dependencies are not our layering
        };
        let (optional_on, dep_features) = enabled(package, requested);
        for dep in &package.dependencies {
            if dep.optional && !optional_on.contains(&dep.key) {
                continue;
            }
            found.insert(dep.package.clone());
            let mut features: BTreeSet<String> = dep.features.iter().cloned().collect();
            if dep.default_features {
                features.insert("default".to_owned());
            }
            features.extend(dep_features.get(&dep.key).into_iter().flatten().cloned());
            todo.push((dep.package.clone(), features));
        }
    }
    found
}

/// With `requested` features of `package` (and what they enable in turn):
/// the optional dependencies switched on, and the features asked of each
/// dependency (`dep/feature`).
fn enabled(
    package: &Package,
    requested: BTreeSet<String>,
) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut optional_on = BTreeSet::new();
    let mut dep_features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = requested.into_iter().collect();
    while let Some(feature) = todo.pop() {
        if !seen.insert(feature.clone()) {
            continue;
        }
        for item in package.features.get(&feature).into_iter().flatten() {
            if let Some(dep) = item.strip_prefix("dep:") {
                optional_on.insert(dep.to_owned());
            } else if let Some((dep, dep_feature)) = item.split_once('/') {
                // `dep?/f` enables `f` only if `dep` is on anyway.
                let dep = match dep.strip_suffix('?') {
                    Some(weak) => weak,
                    None => {
                        optional_on.insert(dep.to_owned());
                        dep
                    }
                };
                dep_features
                    .entry(dep.to_owned())
                    .or_default()
                    .insert(dep_feature.to_owned());
            } else {
                todo.push(item.clone());
            }
        }
        // An optional dependency is also a feature of its own name.
        if package
            .dependencies
            .iter()
            .any(|d| d.optional && d.key == feature)
        {
            optional_on.insert(feature);
        }
    }
    (optional_on, dep_features)
}

fn ours(crates: &BTreeSet<String>) -> BTreeSet<&str> {
    crates
        .iter()
        .map(String::as_str)
        .filter(|d| d.starts_with("notification-"))
        .collect()
}

fn assert_reaches_none_of(package: &str, crates: &BTreeSet<String>, forbidden: &[&str]) {
    let found: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|c| crates.contains(*c))
        .collect();
    assert!(found.is_empty(), "{package} must not reach {found:?}");
}

#[test]
fn the_domain_reaches_nothing_of_ours_and_no_web_database_runtime_or_serde_crate() {
    let all = workspace();
    let domain = reached(&all, "notification-domain", &["default"]);
    assert!(
        ours(&domain).is_empty(),
        "domain reaches {:?}",
        ours(&domain)
    );
    assert_reaches_none_of("notification-domain", &domain, INFRASTRUCTURE_CRATES);
    // The wire's spelling is the protocol's business, not the domain's.
    assert_reaches_none_of("notification-domain", &domain, &["serde"]);
}

#[test]
fn the_protocol_is_a_leaf_that_reaches_the_domain_only_with_its_domain_feature() {
    let all = workspace();
    let plain = reached(&all, "notification-protocol", &["default"]);
    assert!(
        ours(&plain).is_empty(),
        "protocol reaches {:?}",
        ours(&plain)
    );
    assert_reaches_none_of("notification-protocol", &plain, INFRASTRUCTURE_CRATES);

    let server_side = reached(&all, "notification-protocol", &["default", "domain"]);
    assert_eq!(ours(&server_side), BTreeSet::from(["notification-domain"]));
}

#[test]
fn the_application_reaches_only_the_domain() {
    let all = workspace();
    let application = reached(&all, "notification-application", &["default"]);
    assert_eq!(ours(&application), BTreeSet::from(["notification-domain"]));
    assert_reaches_none_of(
        "notification-application",
        &application,
        &["actix-web", "actix-ws", "sqlx", "redis", "jsonwebtoken"],
    );
}

#[test]
fn presentation_does_not_reach_infrastructure() {
    let all = workspace();
    let presentation = reached(&all, "notification-presentation", &["default"]);
    assert!(!presentation.contains("notification-infrastructure"));
    assert!(!presentation.contains("notification-api"));
}

#[test]
fn infrastructure_does_not_reach_presentation_or_the_binary() {
    let all = workspace();
    let infrastructure = reached(&all, "notification-infrastructure", &["default"]);
    assert!(!infrastructure.contains("notification-presentation"));
    assert!(!infrastructure.contains("notification-api"));
}

#[test]
fn only_the_binary_wires_infrastructure_in() {
    let all = workspace();
    let wiring: BTreeSet<&str> = all
        .iter()
        .filter(|(_, package)| {
            package
                .dependencies
                .iter()
                .any(|dep| dep.package == "notification-infrastructure")
        })
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
fn the_client_sdk_reaches_only_the_protocol_and_nothing_of_the_server() {
    let all = workspace();
    let client = reached(&all, "notification-client", &["default"]);
    // The wire types only; its tests start the server as a dev-dependency.
    assert_eq!(ours(&client), BTreeSet::from(["notification-protocol"]));
    assert_reaches_none_of("notification-client", &client, SERVER_CRATES);
    assert_reaches_none_of("notification-client", &client, &["jsonwebtoken"]);
}

#[test]
fn the_load_tool_reaches_only_the_wire_and_nothing_of_the_server() {
    let all = workspace();
    let bench = reached(&all, "notification-bench", &["default"]);
    let server: BTreeSet<&str> = ours(&bench)
        .into_iter()
        .filter(|c| !["notification-protocol", "notification-client"].contains(c))
        .collect();
    assert!(server.is_empty(), "the load tool reaches {server:?}");
    assert_reaches_none_of("notification-bench", &bench, SERVER_CRATES);
}

/// The rules above see through features: a crate reached only through a
/// feature nobody enables is not reached, one that is enabled is.
#[test]
fn reaching_follows_optional_dependencies_only_when_a_feature_enables_them() {
    let all = workspace();
    let protocol = |features: &[&str]| reached(&all, "notification-protocol", features);
    assert!(!protocol(&["default"]).contains("utoipa"));
    assert!(protocol(&["openapi"]).contains("utoipa"));
    // Through a dependent: infrastructure enables the protocol's `domain`,
    // not its `openapi`.
    let infrastructure = reached(&all, "notification-infrastructure", &["default"]);
    assert!(infrastructure.contains("notification-protocol"));
    assert!(!infrastructure.contains("utoipa"));
}
