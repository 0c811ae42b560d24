//! Quoting input in messages: user files, config values and provider bodies can be huge
//! (a 10 MB CSV cell, a multi-megabyte HTML page), so an error shows an excerpt, never the
//! whole text.

/// How many characters of an offending input an error message shows.
pub const EXCERPT_CHARS: usize = 200;

/// At most `max_chars` characters of `text`, with `…` when cut. Cuts on characters, never
/// inside one, so any UTF-8 text is safe.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
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
}
