//! The rating rule from a report's disclaimer: horizon, benchmark and bands.
//!
//! Brokers state bands one per line (`看好：…+10%以上；`), in table rows (`增持 | 相对…15%以上`)
//! or several on one line (`买入股价超越基准 20%以上 增持股价超越基准 5%-20% …`). A band
//! statement is a known rating word followed by rule wording (a percentage, 相对, 基准, 指数,
//! 大市 …); statements in a row form a rule, and a report with a stock rule and an industry
//! rule gets the one that holds the report's own rating word.
//!
//! Numbers are read after OCR noise is folded away (full-width `～ － ％`, TeX `$5\%$`, spaces
//! inside numbers, `-10-10%`). Falling words (跌幅, 下跌, 弱于, 落后) turn magnitudes
//! negative. Which band owns a boundary is never read from the words (brokers do not define
//! 以上/以下 consistently): a boundary belongs to the band farther from zero, as the seed's
//! rule has it (以上/以下 include the bound: 看好 ≥ +10, 看淡 ≤ −10). A band stated
//! only in words (明显强于) gets no number: it is marked qualitative, for a human.

use regex::Regex;

use super::text::{clean_line, fold_numbers};
use crate::catalog::Bound;

/// The rule as far as the text states it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DraftRule {
    /// Months from the report date; for a range (`6-12个月`) the upper end, with the range
    /// kept in `horizon_text`.
    pub horizon_months: Option<u32>,
    /// The horizon as stated, when it is a range or otherwise worth a second look.
    pub horizon_text: Option<String>,
    pub benchmark: Option<Benchmark>,
    /// From the top band down.
    pub bands: Vec<DraftBand>,
}

/// A benchmark index named in the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Benchmark {
    /// Its name in the report file: 沪深300, 恒生指数, 标普500, 纳斯达克综合指数 (恒指 becomes 恒生指数).
    pub name: String,
    /// The ratingwatch symbol, when the product can price it (`000300.SH`, `^HSI.HK`).
    pub symbol: Option<String>,
    /// The index's usual ticker, for a human when there is no symbol (`^NDX`, `MSCI China`).
    pub ticker: &'static str,
}

/// One band as stated.
#[derive(Clone, Debug, PartialEq)]
pub struct DraftBand {
    pub label: String,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    /// The statement as found in the text, for comments and for a human to check.
    pub text: String,
    /// Stated only in words (明显强于沪深300): no bound is invented.
    pub qualitative: bool,
}

/// Rating words, longest first so 强烈推荐 wins over 推荐 and 谨慎增持 over 增持.
const LABELS: [&str; 24] = [
    "强烈推荐",
    "谨慎增持",
    "谨慎推荐",
    "强于大市",
    "弱于大市",
    "同步大市",
    "跟随大市",
    "优于大势",
    "同步大势",
    "落后大势",
    "优于大市",
    "无评级",
    "看好",
    "看淡",
    "中性",
    "买入",
    "增持",
    "持有",
    "减持",
    "卖出",
    "强推",
    "推荐",
    "回避",
    "谨慎",
];

/// Words that make a band's text a rule statement rather than prose.
const RULE_WORDS: [&str; 12] = ["%", "相对", "基准", "指数", "大市", "大势", "持平", "超越", "强于", "弱于", "优于", "落后"];

/// Words that say the excess is negative (a fall, or worse than the benchmark).
const FALLING_WORDS: [&str; 8] = ["跌幅", "下跌", "弱于", "落后", "低于", "跑输", "不及", "逊于"];

/// Index names whose digits are not thresholds.
const INDEX_NAMES: [&str; 12] = [
    "沪深300",
    "中证500",
    "中证1000",
    "标准普尔500",
    "标普500",
    "S&P500",
    "纳斯达克100",
    "纳指100",
    "上证50",
    "北证50",
    "科创50",
    "上证180",
];

/// Benchmarks: how reports write them (matched on the text with spaces removed and ASCII
/// upper-cased, so 标普 500 and S&P 500 match), the name the report file gets, the product's
/// symbol when it can price the index, and the usual ticker for a human when it cannot.
/// 恒生综合指数, 恒生科技指数 and 纳斯达克100 are other indices: the first two match nothing,
/// the last is named for a human. Abbreviations that hide in ordinary words (纳指 in 采纳指导,
/// 道指 in 报道指出) are left out.
const BENCHMARKS: [(&str, &str, Option<&str>, &str); 14] = [
    ("沪深300", "沪深300", Some("000300.SH"), "000300.SH"),
    ("恒生指数", "恒生指数", Some("^HSI.HK"), "^HSI"),
    ("恒指", "恒生指数", Some("^HSI.HK"), "^HSI"),
    ("标普500", "标普500", Some("^GSPC.US"), "^GSPC"),
    ("标准普尔500", "标普500", Some("^GSPC.US"), "^GSPC"),
    ("S&P500", "标普500", Some("^GSPC.US"), "^GSPC"),
    ("纳斯达克100", "纳斯达克100指数", None, "^NDX (NASDAQ-100)"),
    ("纳指100", "纳斯达克100指数", None, "^NDX (NASDAQ-100)"),
    ("纳斯达克综合", "纳斯达克综合指数", Some("^IXIC.US"), "^IXIC"),
    ("纳斯达克指数", "纳斯达克综合指数", Some("^IXIC.US"), "^IXIC"),
    ("道琼斯工业", "道琼斯工业平均指数", Some("^DJI.US"), "^DJI"),
    ("道琼斯指数", "道琼斯工业平均指数", Some("^DJI.US"), "^DJI"),
    ("摩根士丹利中国指数", "摩根士丹利中国指数", None, "MSCI China"),
    ("MSCI中国", "摩根士丹利中国指数", None, "MSCI China"),
];

/// Finds the rule in a report's text; `rating` (the report's own rating word) picks the
/// industry rule when the text also rates stocks.
pub fn parse(text: &str, rating: Option<&str>) -> DraftRule {
    let lines: Vec<String> = text.lines().map(clean_line).collect();
    let statements: Vec<(usize, Vec<(String, String)>)> =
        lines.iter().enumerate().map(|(index, line)| (index, statements_in(line))).filter(|(_, found)| !found.is_empty()).collect();
    let blocks = blocks(&statements, &lines);
    let Some(block) = choose(&blocks, &lines, rating) else {
        return DraftRule { horizon_months: None, horizon_text: None, benchmark: benchmark(text), bands: Vec::new() };
    };
    // The rule's own sentences (horizon, benchmark) come just before its bands.
    let context_start = block.first_line.saturating_sub(8);
    let context = lines[context_start..=block.last_line].join("\n");
    let (horizon_months, horizon_text) = horizon(&context).or_else(|| horizon(text)).map_or((None, None), |(m, t)| (Some(m), t));
    let benchmark = benchmark(&context).or_else(|| benchmark(text));
    DraftRule { horizon_months, horizon_text, benchmark, bands: bands(&block.statements) }
}

struct Block {
    first_line: usize,
    last_line: usize,
    statements: Vec<(String, String)>,
}

/// Rating words on a line, each with the text up to the next rating word, kept when that
/// text reads like a rule statement.
fn statements_in(line: &str) -> Vec<(String, String)> {
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    let mut position = 0;
    while position < line.len() {
        let rest = &line[position..];
        if let Some(label) = LABELS.iter().find(|label| rest.starts_with(**label)) {
            found.push((position, position + label.len(), label));
            position += label.len();
        } else {
            position += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    let mut statements = Vec::new();
    for (index, &(_, end, label)) in found.iter().enumerate() {
        let until = found.get(index + 1).map_or(line.len(), |next| next.0);
        let body = line[end..until].trim_matches(|c: char| c.is_whitespace() || "：:|｜\"“”「」'、。；;".contains(c));
        let is_rule = RULE_WORDS.iter().any(|word| body.contains(word)) && body.chars().count() <= 90;
        // The head's `行业评级：看好` names the rating, it does not define it.
        let is_head = line[..found[index].0].trim_end().ends_with(['：', ':']);
        if is_rule && !is_head {
            statements.push((label.to_string(), body.to_string()));
        }
    }
    statements
}

/// Statements on neighbouring lines form one rule; a repeated rating word or a gap of more
/// than three lines starts another.
fn blocks(statements: &[(usize, Vec<(String, String)>)], lines: &[String]) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for (line, found) in statements {
        for statement in found {
            let continues = blocks.last().is_some_and(|block| {
                let near = *line <= block.last_line + 4;
                let heading_between = (block.last_line + 1..*line).any(|between| lines[between].contains("评级"));
                let repeated = block.statements.iter().any(|(label, _)| *label == statement.0);
                near && !heading_between && !repeated
            });
            if continues {
                let block = blocks.last_mut().expect("checked above");
                block.last_line = *line;
                block.statements.push(statement.clone());
            } else {
                blocks.push(Block { first_line: *line, last_line: *line, statements: vec![statement.clone()] });
            }
        }
    }
    blocks.retain(|block| block.statements.len() >= 2);
    blocks
}

/// The rule that holds the report's rating word; among several (or without a rating), the
/// one introduced as the industry's (行业), else the first.
fn choose<'a>(blocks: &'a [Block], lines: &[String], rating: Option<&str>) -> Option<&'a Block> {
    let holds_exactly = |block: &&Block| rating.is_none_or(|rating| block.statements.iter().any(|(label, _)| label == rating));
    // `推荐（维持）` or a rating word the label list lacks: a label it contains.
    let holds_loosely =
        |block: &&Block| rating.is_none_or(|rating| block.statements.iter().any(|(label, _)| rating.contains(label.as_str())));
    let about_industry = |block: &&Block| {
        let start = block.first_line.saturating_sub(4);
        (start..=block.first_line).any(|line| lines[line].contains("行业"))
    };
    let mut candidates: Vec<&Block> = blocks.iter().filter(holds_exactly).collect();
    if candidates.is_empty() {
        candidates = blocks.iter().filter(holds_loosely).collect();
    }
    if candidates.is_empty() {
        candidates = blocks.iter().collect();
    }
    candidates.iter().copied().find(about_industry).or_else(|| candidates.first().copied())
}

/// Bounds from each statement, ordered from the top down, each boundary owned by the band
/// farther from zero.
fn bands(statements: &[(String, String)]) -> Vec<DraftBand> {
    let mut bands: Vec<DraftBand> = statements
        .iter()
        .map(|(label, body)| {
            let (lower, upper) = bounds(body);
            let qualitative = lower.is_none() && upper.is_none();
            DraftBand {
                label: label.clone(),
                lower: lower.map(|bp| Bound { bp, inclusive: bp >= 0 }),
                upper: upper.map(|bp| Bound { bp, inclusive: bp < 0 }),
                text: format!("{label}：{body}"),
                qualitative,
            }
        })
        .collect();
    // Numeric bands sorted by where they sit; a rule in words keeps the text's order.
    if bands.iter().all(|band| !band.qualitative) {
        let key = |band: &DraftBand| (band.upper.map_or(i64::MAX, |b| b.bp), band.lower.map_or(i64::MIN, |b| b.bp));
        bands.sort_by_key(|band| std::cmp::Reverse(key(band)));
    }
    bands
}

/// The lower and upper bound (basis points) a statement gives, if any.
pub fn bounds(body: &str) -> (Option<i64>, Option<i64>) {
    let mut folded = fold_numbers(body);
    for name in INDEX_NAMES {
        folded = folded.replace(name, "指数");
    }
    let falling = FALLING_WORDS.iter().any(|word| folded.contains(word));
    let number = r"([+-]?\d{1,4}(?:\.\d{1,2})?)";
    let range = Regex::new(&format!(r"{number}%?(?:~|-|至|到){number}%")).expect("a valid pattern");
    let plus_minus = Regex::new(r"±(\d{1,4}(?:\.\d{1,2})?)%").expect("a valid pattern");
    let single = Regex::new(&format!(r"{number}%")).expect("a valid pattern");
    let bp = |text: &str| text.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| (v * 100.0).round() as i64);

    if let Some(found) = range.captures(&folded)
        && let (Some(a), Some(b)) = (bp(&found[1]), bp(&found[2]))
    {
        // 跌幅5%-15%: both magnitudes of a fall.
        let (a, b) = if falling && a >= 0 && b >= 0 { (-a, -b) } else { (a, b) };
        return (Some(a.min(b)), Some(a.max(b)));
    }
    if let Some(found) = plus_minus.captures(&folded)
        && let Some(a) = bp(&found[1])
    {
        return (Some(-a), Some(a));
    }
    if let Some(found) = single.captures(&folded)
        && let Some(value) = bp(&found[1])
    {
        if falling {
            return (None, Some(-value.abs()));
        }
        let below = ["以下", "小于", "低于", "不足", "不到"].iter().any(|word| folded.contains(word));
        return if below { (None, Some(value)) } else { (Some(value), None) };
    }
    (None, None)
}

/// `以报告日后的6个月内` → 6; `6-12 个月` → 12 with the range kept for a human.
fn horizon(text: &str) -> Option<(u32, Option<String>)> {
    let folded = fold_numbers(text);
    let pattern = Regex::new(r"(\d{1,2})(?:-(\d{1,2}))?个月").expect("a valid pattern");
    let found = pattern.captures(&folded)?;
    let first: u32 = found[1].parse().ok()?;
    match found.get(2).and_then(|m| m.as_str().parse::<u32>().ok()) {
        Some(second) => Some((first.max(second), Some(found[0].to_string()))),
        None => Some((first, None)),
    }
}

/// The first benchmark named, A-share first when the text names one per market.
fn benchmark(text: &str) -> Option<Benchmark> {
    let folded = fold_numbers(text).to_ascii_uppercase();
    BENCHMARKS
        .iter()
        .filter_map(|(spelling, name, symbol, ticker)| folded.find(spelling).map(|at| (at, *name, *symbol, *ticker)))
        .min_by_key(|(at, name, ..)| (*name != "沪深300", *at))
        .map(|(_, name, symbol, ticker)| Benchmark { name: name.to_string(), symbol: symbol.map(str::to_string), ticker })
}
