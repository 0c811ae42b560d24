//! Quoting input in messages: user files, config values and provider bodies can be huge
//! (a 10 MB CSV cell, a multi-megabyte HTML page), so an error shows an excerpt, never the
//! whole text, and control characters in it (ESC, C0 and C1 codes) are shown as visible
//! escapes, never written raw, so a crafted file cannot drive the terminal that prints it.

/// How many characters of an offending input an error message shows.
pub const EXCERPT_CHARS: usize = 200;

/// At most `max_chars` characters of `text`, with `…` when cut, control characters escaped
/// (see [`escape_controls`]). Cuts on characters, never inside one, so any UTF-8 text is safe.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", escape_controls(&text[..cut])),
        None => escape_controls(text),
    }
}

/// `text` with every control character (C0, DEL, C1: ESC becomes `\u{1b}`, a newline `\n`)
/// written as a visible escape; other text unchanged.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`excerpt`] at the size error messages use.
pub fn quote(text: &str) -> String {
    excerpt(text, EXCERPT_CHARS)
}

/// `a, b or c`: accepted values listed in an error message (from an enum's
/// `strum::VariantNames`, so the list cannot drift from what parses).
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_lists_values_with_a_final_or() {
        assert_eq!(one_of(&["stock", "index", "fund", "etf"]), "stock, index, fund or etf");
        assert_eq!(one_of(&["A", "HK"]), "A or HK");
        assert_eq!(one_of(&["json"]), "json");
        assert_eq!(one_of(&[]), "");
    }

    #[test]
    fn excerpt_cuts_on_characters() {
        assert_eq!(excerpt("沪深300指数", 4), "沪深30…");
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("", 3), "");
        // 10 MB of one character becomes EXCERPT_CHARS characters (3 bytes each) and the mark.
        let huge = "数".repeat(10 * 1024 * 1024 / 3);
        assert_eq!(quote(&huge).len(), EXCERPT_CHARS * 3 + "…".len());
    }

    #[test]
    fn control_characters_are_escaped_never_raw() {
        // An OSC title sequence and a colour code: ESC (U+1B) and BEL (U+07) become visible.
        assert_eq!(quote("\u{1b}]0;pwned\u{7}名\u{1b}[31m"), "\\u{1b}]0;pwned\\u{7}名\\u{1b}[31m");
        // C1 (CSI is U+9B), DEL, and the common C0 escapes.
        assert_eq!(quote("a\u{9b}b\u{7f}c\td\ne\r"), "a\\u{9b}b\\u{7f}c\\td\\ne\\r");
        // Cutting happens on the input's characters, before escaping.
        assert_eq!(excerpt("\u{1b}\u{1b}\u{1b}", 2), "\\u{1b}\\u{1b}…");
        assert_eq!(escape_controls("沪深300 (CSI)"), "沪深300 (CSI)");
        assert!(!quote("x\u{1b}[2J").contains('\u{1b}'));
    }
}
