//! Quoting untrusted text in messages: [`excerpt`].
//!
//! Whatever an exchange sends (an error's text, an unknown frame, a serde
//! error about it) may end up in a log line or on a terminal. Every exchange
//! quotes it through this one function, so none can flood a log or send
//! escape sequences to a terminal.

/// The most characters of quoted text kept by [`excerpt`].
pub const EXCERPT_CHARS: usize = 200;

/// `text` in at most [`EXCERPT_CHARS`] characters (escapes included),
/// control characters escaped (`\n`, `\u{1b}`), `…` appended when
/// something was cut.
///
/// ```
/// use mercury_core::excerpt;
/// assert_eq!(excerpt("Rate limit\nexceeded"), "Rate limit\\nexceeded");
/// assert_eq!(excerpt("\u{1b}[31mred"), "\\u{1b}[31mred");
/// assert_eq!(excerpt(&"x".repeat(500)).chars().count(), 201);
/// ```
pub fn excerpt(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(EXCERPT_CHARS + 8));
    let mut written = 0;
    for c in text.chars() {
        let escaped = c.is_control().then(|| c.escape_debug());
        let width = escaped.clone().map_or(1, Iterator::count);
        if written + width > EXCERPT_CHARS {
            out.push('…');
            break;
        }
        written += width;
        match escaped {
            Some(escaped) => out.extend(escaped),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_plain_text_is_unchanged() {
        assert_eq!(
            excerpt("code 2: Invalid request"),
            "code 2: Invalid request"
        );
        assert_eq!(excerpt(""), "");
        assert_eq!(
            excerpt(&"é".repeat(EXCERPT_CHARS)),
            "é".repeat(EXCERPT_CHARS)
        );
    }

    #[test]
    fn long_text_is_cut_and_marked() {
        let cut = excerpt(&"ab".repeat(EXCERPT_CHARS));
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn control_characters_are_escaped() {
        let quoted = excerpt("a\u{0}b\rc\u{7f}\u{9b}d");
        assert!(!quoted.chars().any(char::is_control), "{quoted:?}");
        assert_eq!(quoted, "a\\0b\\rc\\u{7f}\\u{9b}d");
    }
}
