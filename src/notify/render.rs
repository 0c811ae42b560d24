//! Fitting a message to a platform's size limit. Pure: text in, parts out.
//!
//! Platforms limit bytes, not characters (WeCom markdown ≤ 4096 bytes of UTF-8; DingTalk and
//! Feishu bodies ≤ 20 000 bytes), and CJK characters take three bytes each. [`fit`] splits a
//! markdown text at block, then line, then character boundaries into at most `max_parts`
//! parts of at most `limit` bytes each. When the text does not fit it is shortened, and the
//! last part ends with "… full report: <pointer>"; the method line is always kept, at the
//! end of the last part. A UTF-8 character is never cut.

/// What a message must end with when it is shortened, and the line that must survive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fit<'a> {
    /// Maximum bytes per part.
    pub limit: usize,
    /// Maximum number of parts (messages) the text may be split into.
    pub max_parts: usize,
    /// Where the whole report is: a URL, or the command that prints it.
    pub pointer: &'a str,
}

/// The line of a rendered report that states its method (it starts with `Method:`, with or
/// without markdown emphasis).
pub fn method_line(text: &str) -> Option<&str> {
    text.lines().find(|line| line.trim_start_matches(['*', '_', ' ', '>']).starts_with("Method:"))
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a char boundary.
pub fn truncate_bytes(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Splits `text` into pieces of at most `limit` bytes, preferring to cut after a blank line,
/// then after a line, then between characters.
fn split_pieces(text: &str, limit: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() <= limit {
            pieces.push(rest);
            break;
        }
        let window = truncate_bytes(rest, limit);
        let cut = window
            .rfind("\n\n")
            .map(|i| i + 2)
            .filter(|&i| i > limit / 4)
            .or_else(|| window.rfind('\n').map(|i| i + 1).filter(|&i| i > 0))
            .unwrap_or(window.len());
        // `window` is never empty for limit >= 4, since a char is at most 4 bytes.
        let cut = if cut == 0 { rest.chars().next().map_or(rest.len(), char::len_utf8) } else { cut };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Splits or shortens `text` to fit `fit`. Every part is at most `fit.limit` bytes (a limit
/// below 16 bytes is raised to 16); at most `fit.max_parts` parts (at least 1) come back.
pub fn fit(text: &str, fit: &Fit<'_>) -> Vec<String> {
    let limit = fit.limit.max(16);
    let max_parts = fit.max_parts.max(1);
    let text = text.trim_end();
    if text.len() <= limit {
        return vec![text.to_string()];
    }
    let method = method_line(text).unwrap_or("");
    let pieces = split_pieces(text, limit);
    if pieces.len() <= max_parts {
        return pieces.into_iter().map(|piece| piece.trim_end().to_string()).filter(|p| !p.is_empty()).collect();
    }
    // Too long even split: keep the first parts whole, shorten the last one and end it with
    // the pointer and the method line (each cut to the limit if absurdly long).
    let mut tail = format!("\n\n… full report: {}", fit.pointer);
    if !method.is_empty() {
        tail.push_str("\n\n");
        tail.push_str(method);
    }
    let tail = truncate_bytes(&tail, limit / 2).to_string();
    let mut parts: Vec<String> = pieces[..max_parts - 1].iter().map(|piece| piece.trim_end().to_string()).collect();
    let consumed: usize = pieces[..max_parts - 1].iter().map(|piece| piece.len()).sum();
    let remaining = &text[consumed..];
    let room = limit - tail.len();
    let head = truncate_bytes(remaining, room);
    // Prefer to end the shortened part at a line end.
    let head = match head.rfind('\n') {
        Some(i) if i > room / 2 => &head[..i],
        _ => head,
    };
    parts.push(format!("{}{tail}", head.trim_end()));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POINTER: &str = "ratingwatch report --report r --week 2023-W20";

    #[test]
    fn short_text_is_one_part_unchanged() {
        let parts = fit("# 周报\nMethod: equal weight", &Fit { limit: 4096, max_parts: 3, pointer: POINTER });
        assert_eq!(parts, vec!["# 周报\nMethod: equal weight".to_string()]);
    }

    #[test]
    fn long_text_is_split_at_blank_lines_then_shortened_keeping_the_method_line() {
        // 40 blocks of "## 芯片算力 n\n| a | b |\n\n": each CJK char is 3 bytes.
        let mut text: String = (0..40).map(|n| format!("## 芯片算力 {n}\n| +1.00 % | +2.00 pp |\n\n")).collect();
        text.push_str("Method: Equal-weight buy-and-hold baskets.\n");
        let parts = fit(&text, &Fit { limit: 300, max_parts: 2, pointer: POINTER });
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|part| part.len() <= 300), "{parts:?}");
        assert!(parts[0].starts_with("## 芯片算力 0\n"));
        // The first part ends at a block boundary, not inside a table row.
        assert!(parts[0].ends_with("| +1.00 % | +2.00 pp |"), "{}", parts[0]);
        assert!(parts[1].contains(&format!("… full report: {POINTER}")), "{}", parts[1]);
        assert!(parts[1].ends_with("Method: Equal-weight buy-and-hold baskets."), "{}", parts[1]);
    }

    #[test]
    fn text_that_fits_in_the_allowed_parts_is_split_without_loss() {
        let text: String = (0..10).map(|n| format!("第{n}行：深度学习大模型\n")).collect();
        let parts = fit(&text, &Fit { limit: 100, max_parts: 10, pointer: POINTER });
        assert!(parts.len() > 1);
        assert_eq!(parts.join("\n"), text.trim_end());
    }

    #[test]
    fn truncation_never_cuts_a_character() {
        // "芯" is 3 bytes: 4 bytes hold one character and a third of the next.
        assert_eq!(truncate_bytes("芯片", 4), "芯");
        assert_eq!(truncate_bytes("芯片", 6), "芯片");
        assert_eq!(truncate_bytes("a芯", 3), "a");
    }

    proptest! {
        #[test]
        fn parts_never_exceed_the_limit_nor_cut_a_character(
            text in "(\\PC{0,40}\n{0,2}){0,60}",
            limit in 16usize..600,
            max_parts in 1usize..5,
        ) {
            let parts = fit(&text, &Fit { limit, max_parts, pointer: POINTER });
            prop_assert!(!parts.is_empty() && parts.len() <= max_parts);
            for part in &parts {
                prop_assert!(part.len() <= limit, "{} bytes > {limit}", part.len());
                // A String is valid UTF-8 by construction; a cut character would have shown
                // up as a panic in the slicing above. Check the content is the input's own:
                // every line of a part, apart from the added tail, is a piece of the input.
                // (On tiny limits the tail itself is cut, so split at its start.)
                let body = part.split("\n\n…").next().unwrap();
                for line in body.lines() {
                    prop_assert!(text.contains(line), "{line:?} is not from the input");
                }
            }
            if parts.len() == 1 && text.trim_end().len() <= limit {
                prop_assert_eq!(&parts[0], text.trim_end());
            }
        }
    }
}
