//! The stream the quotes go into: created if absent, checked and left
//! alone if present.
//!
//! An existing stream is never changed. It is refused
//! ([`NatsError::StreamMismatch`]) when it would lose or mistreat our data:
//! - its subjects do not cover `<prefix>.>` (our publications would find
//!   no stream);
//! - its retention is not `limits` (work-queue or interest retention
//!   deletes messages once consumed);
//! - its maximum age, maximum bytes, duplicates window or replicas are
//!   smaller than configured (0 / unlimited counts as larger);
//! - it is in memory when file storage is configured.
//!
//! Anything else (larger limits, a description, message-count limits the
//! user set on purpose) is accepted as the operator's choice.

use super::{NatsConfig, NatsError, Storage};
use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, context::GetStreamErrorKind};

/// Creates the stream if absent, else checks it (see the module docs).
pub async fn ensure_stream(js: &jetstream::Context, config: &NatsConfig) -> Result<(), NatsError> {
    let wanted = wanted_config(config);
    match js.get_stream(&config.stream.name).await {
        Ok(stream) => {
            let mismatches = mismatches(&stream.cached_info().config, config);
            match mismatches.is_empty() {
                true => Ok(()),
                false => Err(NatsError::StreamMismatch {
                    stream: config.stream.name.clone(),
                    mismatches,
                }),
            }
        }
        Err(error) if is_not_found(&error) => match js.create_stream(wanted).await {
            Ok(_) => Ok(()),
            Err(error) => Err(NatsError::JetStream(format!(
                "cannot create stream {}: {error}",
                config.stream.name
            ))),
        },
        Err(error) => Err(NatsError::JetStream(format!(
            "cannot read stream {}: {error}",
            config.stream.name
        ))),
    }
}

/// JetStream's "stream not found" (API error code 10059).
fn is_not_found(error: &jetstream::context::GetStreamError) -> bool {
    match error.kind() {
        GetStreamErrorKind::JetStream(inner) => inner.error_code().0 == 10059,
        _ => false,
    }
}

/// The stream's configuration when we create it.
pub fn wanted_config(config: &NatsConfig) -> Config {
    let s = &config.stream;
    Config {
        name: s.name.clone(),
        subjects: vec![config.stream_subject()],
        retention: RetentionPolicy::Limits,
        max_age: s.max_age,
        max_bytes: s
            .max_bytes
            .map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)),
        duplicate_window: s.duplicate_window,
        storage: match s.storage {
            Storage::File => StorageType::File,
            Storage::Memory => StorageType::Memory,
        },
        num_replicas: s.replicas,
        ..Config::default()
    }
}

/// What in `existing` would lose or mistreat our data, in words.
pub fn mismatches(existing: &Config, config: &NatsConfig) -> Vec<String> {
    let s = &config.stream;
    // Our subjects: the prefix and exactly three tokens.
    let ours = format!("{}.*.*.*", config.prefix);
    let mut found = Vec::new();
    if !existing.subjects.iter().any(|p| covers(p, &ours)) {
        found.push(format!(
            "its subjects {:?} do not cover {ours}",
            existing.subjects
        ));
    }
    if existing.retention != RetentionPolicy::Limits {
        found.push(format!(
            "its retention is {:?}, not limits",
            existing.retention
        ));
    }
    let age_short =
        !existing.max_age.is_zero() && (s.max_age.is_zero() || existing.max_age < s.max_age);
    if age_short {
        found.push(format!("max age {:?} < {:?}", existing.max_age, s.max_age));
    }
    if existing.max_bytes >= 0 {
        let short = match s.max_bytes {
            None => true,
            Some(wanted) => u64::try_from(existing.max_bytes).unwrap_or(0) < wanted,
        };
        if short {
            found.push(format!(
                "max bytes {} < {}",
                existing.max_bytes,
                s.max_bytes
                    .map_or("unlimited".to_string(), |b| b.to_string())
            ));
        }
    }
    if existing.duplicate_window < s.duplicate_window {
        found.push(format!(
            "duplicates window {:?} < {:?}",
            existing.duplicate_window, s.duplicate_window
        ));
    }
    if s.storage == Storage::File && existing.storage == StorageType::Memory {
        found.push("memory storage, file asked".to_string());
    }
    if existing.num_replicas.max(1) < s.replicas {
        found.push(format!(
            "{} replicas < {}",
            existing.num_replicas, s.replicas
        ));
    }
    found
}

/// Whether the subject filter `pattern` matches every subject that
/// `ours` (literal tokens and `*`, no `>`) matches.
pub fn covers(pattern: &str, ours: &str) -> bool {
    let mut theirs = pattern.split('.');
    for token in ours.split('.') {
        match theirs.next() {
            Some(">") => return true,
            Some("*") => {}
            Some(t) if t == token && token != "*" => {}
            _ => return false,
        }
    }
    theirs.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> NatsConfig {
        NatsConfig::new(vec!["nats://127.0.0.1:4222".into()])
    }

    #[test]
    fn the_stream_we_create_passes_our_own_check() {
        let config = config();
        assert!(mismatches(&wanted_config(&config), &config).is_empty());
    }

    #[test]
    fn wider_subjects_and_larger_limits_are_the_operators_choice() {
        let config = config();
        let mut theirs = wanted_config(&config);
        theirs.subjects = vec!["other.>".into(), "mercury.*.>".into()];
        theirs.max_age = Duration::ZERO;
        theirs.max_bytes = -1;
        theirs.duplicate_window = Duration::from_secs(600);
        assert!(mismatches(&theirs, &config).is_empty());
        theirs.subjects = vec![">".into()];
        assert!(mismatches(&theirs, &config).is_empty());
    }

    #[test]
    fn what_would_lose_data_is_refused() {
        let config = config();
        let mut theirs = wanted_config(&config);
        theirs.subjects = vec!["mercury.bitmex.>".into()];
        theirs.retention = RetentionPolicy::WorkQueue;
        theirs.max_age = Duration::from_secs(60);
        theirs.max_bytes = 1024;
        theirs.duplicate_window = Duration::from_secs(1);
        theirs.storage = StorageType::Memory;
        let found = mismatches(&theirs, &config);
        assert_eq!(found.len(), 6, "{found:?}");
    }

    #[test]
    fn coverage_is_token_by_token() {
        let ours = "mercury.*.*.*";
        for pattern in ["mercury.>", ">", "*.>", "mercury.*.>", "mercury.*.*.*"] {
            assert!(covers(pattern, ours), "{pattern}");
        }
        for pattern in [
            "mercury.*",
            "mercury",
            "mercuryx.>",
            "mercury.bitmex.>",
            "mercury.*.*",
            "mercury.*.*.*.*",
        ] {
            assert!(!covers(pattern, ours), "{pattern}");
        }
    }
}
