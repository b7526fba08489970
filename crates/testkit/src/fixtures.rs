//! The real BitMEX frames kept beside the codec's tests.

use std::path::PathBuf;

/// `crates/exchange-bitmex/tests/fixtures` (origin and licences in `SOURCES.md` there).
pub fn bitmex_fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../exchange-bitmex/tests/fixtures")
}

/// The text of one fixture file. Panics if it is missing: a test without its
/// fixture cannot mean anything.
pub fn bitmex_fixture(file: &str) -> String {
    let path = bitmex_fixture_dir().join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => panic!("fixture {}: {error}", path.display()),
    }
}

/// The frames of one `.jsonl` fixture, one per line.
pub fn bitmex_frames(file: &str) -> Vec<String> {
    bitmex_fixture(file)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// An oracle independent of any codec: the text of every JSON *number*
/// that follows the key `"field":` in `frame`, in order. Metadata such as
/// `"types":{"fairPrice":"float"}` holds strings, so it is not counted.
pub fn number_texts(frame: &str, field: &str) -> Vec<String> {
    let key = format!("\"{field}\":");
    let mut found = Vec::new();
    let mut rest = frame;
    while let Some(at) = rest.find(&key) {
        rest = &rest[at + key.len()..];
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
            .collect();
        if !token.is_empty() {
            found.push(token);
        }
    }
    found
}
