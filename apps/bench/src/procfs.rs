//! Samples of a process's resident memory and CPU time, from `/proc`.

use std::io;

use serde::{Deserialize, Serialize};

/// What a process holds and has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSample {
    /// `VmRSS` of `/proc/<pid>/status`.
    pub rss_bytes: u64,
    /// User plus system CPU time (`utime + stime` of `/proc/<pid>/stat`).
    pub cpu_seconds: f64,
    pub threads: u64,
}

impl ProcessSample {
    /// Several processes (server nodes, workers) as one.
    pub fn sum<'a>(samples: impl IntoIterator<Item = &'a ProcessSample>) -> Self {
        samples.into_iter().fold(Self::default(), |total, s| Self {
            rss_bytes: total.rss_bytes + s.rss_bytes,
            cpu_seconds: total.cpu_seconds + s.cpu_seconds,
            threads: total.threads + s.threads,
        })
    }
}

/// Samples process `pid`.
pub fn sample(pid: u32) -> io::Result<ProcessSample> {
    read(&format!("/proc/{pid}"))
}

/// Samples this process.
pub fn sample_self() -> io::Result<ProcessSample> {
    read("/proc/self")
}

fn read(dir: &str) -> io::Result<ProcessSample> {
    let status = std::fs::read_to_string(format!("{dir}/status"))?;
    let stat = std::fs::read_to_string(format!("{dir}/stat"))?;
    let (cpu_ticks, threads) = parse_stat(&stat).ok_or_else(|| invalid(dir, "stat"))?;
    Ok(ProcessSample {
        rss_bytes: parse_rss_kib(&status).ok_or_else(|| invalid(dir, "status"))? * 1024,
        cpu_seconds: cpu_ticks as f64 / clock_ticks_per_second(),
        threads,
    })
}

fn invalid(dir: &str, file: &str) -> io::Error {
    // A process that has exited but not been reaped has no VmRSS line.
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{dir}/{file} has no memory or CPU figures: has the process exited?"),
    )
}

/// `VmRSS:     1234 kB` → 1234.
fn parse_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `(utime + stime, num_threads)`. Fields are counted after the command name,
/// which is in parentheses and may itself contain spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(u64, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 3 of proc(5) (state) is fields[0]: utime is 14, stime 15, threads 20.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(20)?))
}

fn clock_ticks_per_second() -> f64 {
    // The kernel passes it in the auxiliary vector; rustix reads it safely.
    match rustix::param::clock_ticks_per_second() {
        0 => 100.0,
        ticks => ticks as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 9 0 1000 123456789 3000 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((300, 9)));
    }

    #[test]
    fn rss_comes_from_the_vmrss_line() {
        let status =
            "Name:\tnotification-api\nVmPeak:\t  999 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        assert_eq!(parse_rss_kib(status), Some(20480));
    }

    #[test]
    fn this_process_can_be_sampled() {
        let sample = sample_self().unwrap();
        assert!(sample.rss_bytes > 0);
        assert!(sample.threads >= 1);
    }
}
