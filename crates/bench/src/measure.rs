//! What the benchmark measures besides counts: a latency histogram, and
//! the process's CPU time and peak memory from `/proc` (Linux).

use std::time::Duration;

/// Microsecond buckets up to this; slower samples land in the last one.
const MAX_MICROS: usize = 100_000;

/// A fixed-size latency histogram with 1 µs buckets (memory does not grow
/// with the number of samples).
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            buckets: vec![0; MAX_MICROS + 1],
            count: 0,
        }
    }

    /// Records one sample.
    pub fn record(&mut self, latency: Duration) {
        let micros = usize::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
        self.buckets[micros.min(MAX_MICROS)] += 1;
        self.count += 1;
    }

    /// The sample count.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The latency below which `per_mille`/1000 of the samples fall, in µs.
    pub fn quantile_micros(&self, per_mille: u64) -> u64 {
        let rank = (self.count * per_mille).div_ceil(1000).max(1);
        let mut seen = 0;
        for (micros, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return micros as u64;
            }
        }
        MAX_MICROS as u64
    }
}

/// User plus system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    // Fields 14 and 15 of /proc/self/stat, in USER_HZ ticks (100 per second
    // on Linux, fixed by the ABI).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// Peak resident memory of this process, in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut h = Histogram::new();
        for micros in 1..=1000 {
            h.record(Duration::from_micros(micros));
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.quantile_micros(500), 500);
        assert_eq!(h.quantile_micros(990), 990);
        assert_eq!(h.quantile_micros(999), 999);
        h.record(Duration::from_secs(5));
        assert_eq!(h.quantile_micros(1000), MAX_MICROS as u64);
    }
}
