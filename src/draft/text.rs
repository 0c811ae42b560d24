//! Text clean-up shared by the draft parsers: OCR and PDF-conversion noise folded away.

/// A line without surrounding whitespace, markdown emphasis and list markers.
pub fn clean_line(line: &str) -> String {
    let line = line.trim().replace("**", "").replace("__", "");
    let line = line.trim_start_matches(['#', '>', '*', '•', '·', '▪']).trim();
    let line = line.strip_prefix("- ").unwrap_or(line).trim();
    line.to_string()
}

/// Text folded for reading numbers: full-width forms to ASCII (`～` → `~`, `－` → `-`,
/// `１０％` → `10%`), dashes to `-`, TeX math (`$5\%$`) to plain text, whitespace removed.
pub fn fold_numbers(text: &str) -> String {
    let text = text.replace("\\pm", "±").replace("\\sim", "~").replace("\\leq", "≤").replace("\\geq", "≥");
    let mut out = String::with_capacity(text.len());
    let chars = text.chars();
    for c in chars {
        let c = match c {
            // Full-width ASCII forms.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '〜' | '∼' => '~',
            '—' | '–' | '−' | '―' | '‐' | '‑' | '﹣' => '-',
            '﹪' => '%',
            // `\%` in TeX is a percent sign: the backslash goes, the `%` stays.
            '\\' => continue,
            '$' => continue,
            other => other,
        };
        if c.is_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// Splits a list of names on `、，,；;/` at the top level (not inside parentheses), keeping
/// each parenthesised group with the item it follows.
pub fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '（' | '(' => {
                depth += 1;
                current.push('（');
            }
            '）' | ')' => {
                depth = depth.saturating_sub(1);
                current.push('）');
            }
            '、' | '，' | ',' | '；' | ';' if depth == 0 => {
                items.push(std::mem::take(&mut current));
            }
            '、' | '，' | ',' | '；' | ';' => current.push('、'),
            _ => current.push(c),
        }
    }
    items.push(current);
    items.into_iter().map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_numbers_removes_ocr_noise() {
        assert_eq!(fold_numbers("表现 - 10% ~ + 10%以上"), "表现-10%~+10%以上");
        assert_eq!(fold_numbers("介于 $\\pm5\\%$ 之间"), "介于±5%之间");
        assert_eq!(fold_numbers("－１０％～＋１０％"), "-10%~+10%");
        assert_eq!(fold_numbers("5%—15%"), "5%-15%");
    }

    #[test]
    fn lists_split_at_the_top_level_only() {
        assert_eq!(
            split_list("算力调度（运营商）、算力供给（运营商、奥飞数据）、百度"),
            ["算力调度（运营商）", "算力供给（运营商、奥飞数据）", "百度"]
        );
        assert_eq!(split_list("A(B,C)，D"), ["A（B、C）", "D"]);
    }
}
