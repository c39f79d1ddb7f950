//! The `table` subcommand: the medians of several runs' JSON reports as one
//! markdown table, so the pinned-benchmark script stays a plain loop.
//!
//! A report's file name says where it belongs: `<scenario>.<server>.run<k>.json`
//! (e.g. `S1.sqlite-before.run2.json`); the runs of one scenario and server
//! make one row. Every column is the median of that column over the runs
//! (each percentile separately: a row is not one run).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

/// The figures one run contributes to its row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunFigures {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// `None` when the run did not sample the server (no `--server-pid`).
    pub cpu_us_per_create: Option<f64>,
    pub creates_per_sec: f64,
    pub accepted: f64,
    pub scheduled: f64,
    pub missing: f64,
}

impl RunFigures {
    /// Reads the figures out of a load report (the tool's own JSON).
    pub fn from_report(report: &Value) -> anyhow::Result<Self> {
        let number = |pointer: &str| {
            report
                .pointer(pointer)
                .and_then(Value::as_f64)
                .with_context(|| format!("no number at {pointer}: is this a load report?"))
        };
        Ok(Self {
            p50_ms: number("/load/latency/p50_ms")?,
            p99_ms: number("/load/latency/p99_ms")?,
            p999_ms: number("/load/latency/p999_ms")?,
            cpu_us_per_create: report
                .pointer("/server/cpu_us_per_create")
                .and_then(Value::as_f64),
            creates_per_sec: number("/load/creates_per_sec")?,
            accepted: number("/load/publish/accepted")?,
            scheduled: number("/load/publish/scheduled")?,
            missing: number("/load/missing")?,
        })
    }
}

/// One row: a scenario on one server, over its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub server: String,
    pub runs: Vec<RunFigures>,
}

/// `S1.sqlite-before.run2.json` → (`S1`, `sqlite-before`); `None` for a file
/// that is not a run report.
pub fn series_of(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".json")?;
    let (series, run) = stem.rsplit_once(".run")?;
    run.parse::<u32>().ok()?;
    let (scenario, server) = series.split_once('.')?;
    (!scenario.is_empty() && !server.is_empty()).then_some((scenario, server))
}

/// Every run report in `folder`, grouped into rows (by scenario, then server).
pub fn read_rows(folder: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rows: BTreeMap<(String, String), Vec<RunFigures>> = BTreeMap::new();
    let entries =
        std::fs::read_dir(folder).with_context(|| format!("reading {}", folder.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some((scenario, server)) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(series_of)
        else {
            continue;
        };
        let key = (scenario.to_owned(), server.to_owned());
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let report: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let figures =
            RunFigures::from_report(&report).with_context(|| format!("in {}", path.display()))?;
        rows.entry(key).or_default().push(figures);
    }
    if rows.is_empty() {
        bail!(
            "no run reports (<scenario>.<server>.run<k>.json) in {}",
            folder.display()
        );
    }
    Ok(rows
        .into_iter()
        .map(|((scenario, server), runs)| Row {
            scenario,
            server,
            runs,
        })
        .collect())
}

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when there are none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

/// The markdown table of `rows`.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | server | runs | p50 | p99 | p99.9 | server CPU µs/create | creates/s | accepted/sent | missing |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let column = |f: fn(&RunFigures) -> f64| median(row.runs.iter().map(f).collect());
        let cpu = median(
            row.runs
                .iter()
                .filter_map(|r| r.cpu_us_per_create)
                .collect(),
        );
        let dash = || "-".to_owned();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
            row.scenario,
            row.server,
            row.runs.len(),
            column(|r| r.p50_ms).map_or_else(dash, duration),
            column(|r| r.p99_ms).map_or_else(dash, duration),
            column(|r| r.p999_ms).map_or_else(dash, duration),
            cpu.map_or_else(dash, |v| format!("{v:.1}")),
            column(|r| r.creates_per_sec).map_or_else(dash, |v| format!("{v:.0}")),
            column(|r| r.accepted).map_or_else(dash, count),
            column(|r| r.scheduled).map_or_else(dash, count),
            column(|r| r.missing).map_or_else(dash, count),
        );
    }
    out
}

/// Milliseconds as `147 µs` below one millisecond, `2.14 ms` above.
fn duration(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms < 100.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A count with thousands separators (`20,000`); a median of two may end in .5.
fn count(value: f64) -> String {
    let whole = value.trunc() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value.fract() != 0.0 {
        grouped.push_str(".5");
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(p50_ms: f64, cpu: Option<f64>, accepted: u64, missing: u64) -> Value {
        json!({
            "scenario": "load",
            "server": cpu.map(|cpu| json!({"cpu_us_per_create": cpu})),
            "load": {
                "latency": {"p50_ms": p50_ms, "p99_ms": p50_ms * 10.0, "p999_ms": p50_ms * 20.0},
                "creates_per_sec": accepted as f64 / 10.0,
                "publish": {"accepted": accepted, "scheduled": 20000},
                "missing": missing
            }
        })
    }

    #[test]
    fn file_names_name_the_scenario_and_the_server() {
        assert_eq!(
            series_of("S1.sqlite-before.run2.json"),
            Some(("S1", "sqlite-before"))
        );
        assert_eq!(series_of("S2.nchan.run10.json"), Some(("S2", "nchan")));
        assert_eq!(series_of("S1.sqlite.json"), None);
        assert_eq!(series_of("S1.sqlite.runx.json"), None);
        assert_eq!(series_of("machine.txt"), None);
        assert_eq!(series_of("sqlite.run1.json"), None);
    }

    #[test]
    fn the_median_takes_the_middle_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn a_row_holds_each_columns_median_over_the_runs() {
        let runs = [
            report(0.147, Some(55.0), 20000, 0),
            report(0.9, Some(60.0), 19990, 3),
            report(0.2, Some(50.0), 20000, 1),
        ]
        .iter()
        .map(|r| RunFigures::from_report(r).unwrap())
        .collect();
        let table = render(&[Row {
            scenario: "S1".into(),
            server: "nchan".into(),
            runs,
        }]);
        let last = table.lines().last().unwrap();
        assert_eq!(
            last,
            "| S1 | nchan | 3 | 200 µs | 2.00 ms | 4.00 ms | 55.0 | 2000 | 20,000 / 20,000 | 1 |"
        );
    }

    #[test]
    fn a_run_without_server_samples_shows_a_dash_for_cpu() {
        let runs = vec![RunFigures::from_report(&report(1.5, None, 1234, 0)).unwrap()];
        let table = render(&[Row {
            scenario: "S2".into(),
            server: "sqlite".into(),
            runs,
        }]);
        assert!(table.ends_with(
            "| S2 | sqlite | 1 | 1.50 ms | 15.00 ms | 30.00 ms | - | 123 | 1,234 / 20,000 | 0 |\n"
        ));
    }

    #[test]
    fn an_idle_report_is_not_a_load_run() {
        assert!(RunFigures::from_report(&json!({"scenario": "idle", "load": null})).is_err());
    }

    #[test]
    fn reports_in_a_folder_are_grouped_by_file_name() {
        let folder = std::env::temp_dir().join(format!("bench-table-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&folder).unwrap();
        for (name, p50) in [
            ("S1.sqlite.run1.json", 1.0),
            ("S1.sqlite.run2.json", 3.0),
            ("S2.sqlite.run1.json", 5.0),
        ] {
            std::fs::write(folder.join(name), report(p50, Some(1.0), 10, 0).to_string()).unwrap();
        }
        std::fs::write(folder.join("machine.txt"), "not a report").unwrap();
        let rows = read_rows(&folder).unwrap();
        std::fs::remove_dir_all(&folder).unwrap();
        let shape: Vec<(&str, &str, usize)> = rows
            .iter()
            .map(|r| (r.scenario.as_str(), r.server.as_str(), r.runs.len()))
            .collect();
        assert_eq!(shape, [("S1", "sqlite", 2), ("S2", "sqlite", 1)]);
        assert_eq!(
            median(rows[0].runs.iter().map(|r| r.p50_ms).collect()),
            Some(2.0)
        );
    }
}
