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
    excerpt_chars(text, EXCERPT_CHARS)
}

/// [`excerpt`] with another length: `text` in at most `max` characters,
/// control characters escaped — for a whole message of ours that quotes a
/// server (an error's `Display`), longer than one quotation.
pub fn excerpt_chars(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    let mut written = 0;
    for c in text.chars() {
        let escaped = c.is_control().then(|| c.escape_debug());
        let width = escaped.clone().map_or(1, Iterator::count);
        if written + width > max {
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

/// `text` replaced by its [`excerpt`] if it needs one (too long, or a
/// control character); untouched, without allocating, otherwise.
pub(crate) fn quote_in_place(text: &mut String) {
    if text.len() > EXCERPT_CHARS || text.chars().any(char::is_control) {
        *text = excerpt(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_that_needs_it_is_quoted_in_place() {
        let mut plain = "instrument:XBTUSD".to_string();
        quote_in_place(&mut plain);
        assert_eq!(plain, "instrument:XBTUSD");
        let mut hostile = format!("\u{1b}[31m{}", "A".repeat(1 << 20));
        quote_in_place(&mut hostile);
        assert_eq!(hostile, excerpt(&format!("\u{1b}[31m{}", "A".repeat(300))));
    }

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
