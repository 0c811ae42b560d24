//! A draft plus resolved names → a report file in the `data/reports/` format.
//!
//! Pure: the caller resolves every member name first and passes the answers in. Whatever the
//! text did not settle becomes a `# TODO` line that quotes the text, and is listed in
//! [`Rendered::gaps`] so the command can say what still needs a human.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::rule::{Benchmark, DraftBand};
use super::{Draft, DraftMember};
use crate::catalog::Bound;
use crate::ids::ReportId;
use crate::symbol::{Currency, Symbol};

/// One company a member name stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedCompany {
    pub symbol: Symbol,
    pub alternates: Vec<Symbol>,
    /// The name the file gives the company: the report's own word for a name that means one
    /// company (百度), the listed name for each company of a group name (运营商 → 中国移动 …).
    pub name: String,
    pub name_en: String,
}

/// What a member name resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberAnswer {
    /// One company, or several for a group name.
    Companies(Vec<ResolvedCompany>),
    /// No company, or several equally good ones: `note` lists the candidates.
    Unresolved { note: String },
}

/// What the command line adds to the text.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub id: Option<ReportId>,
    pub report_date: Option<NaiveDate>,
    pub broker: Option<String>,
    /// Where the text came from, for the file's first comment.
    pub source: String,
}

/// The report file and what in it still needs a human.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub id: String,
    pub text: String,
    /// One line each; empty when the file is complete.
    pub gaps: Vec<String>,
}

/// The default report id: the broker's romanised short name (`report` for a broker not in
/// the list), the date and the title's first ASCII word: `zheshang-2023-02-14-chatgpt`.
pub fn default_id(draft: &Draft, report_date: Option<NaiveDate>) -> String {
    let title_words: String = draft
        .title
        .as_deref()
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(1)
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-");
    let broker = draft.broker.as_deref().and_then(broker_slug).unwrap_or("report");
    let mut id = broker.to_string();
    if let Some(date) = report_date {
        id.push_str(&format!("-{date}"));
    }
    if !title_words.is_empty() {
        id.push('-');
        id.push_str(&title_words);
    }
    id
}

/// Romanised short names of common brokers, for report ids.
fn broker_slug(broker: &str) -> Option<&'static str> {
    const SLUGS: [(&str, &str); 16] = [
        ("浙商证券", "zheshang"),
        ("国泰君安", "gtja"),
        ("华泰证券", "huatai"),
        ("中信建投", "csc"),
        ("兴业证券", "xingye"),
        ("招商证券", "cmschina"),
        ("东北证券", "dongbei"),
        ("华创证券", "huachuang"),
        ("宏信证券", "hongxin"),
        ("中信证券", "citics"),
        ("中金公司", "cicc"),
        ("海通证券", "haitong"),
        ("广发证券", "gf"),
        ("国信证券", "guosen"),
        ("申万宏源", "swhy"),
        ("天风证券", "tianfeng"),
    ];
    SLUGS.iter().find(|(name, _)| broker.contains(name)).map(|(_, slug)| *slug)
}

/// English words for the usual rating labels.
fn label_en(label: &str) -> &str {
    match label {
        "看好" | "增持" => "overweight",
        "看淡" | "减持" => "underweight",
        "中性" => "neutral",
        "买入" => "buy",
        "卖出" => "sell",
        "持有" => "hold",
        "强烈推荐" | "强推" => "strong buy",
        "推荐" => "recommend",
        "谨慎推荐" => "cautious recommend",
        "谨慎增持" => "cautious overweight",
        "回避" => "avoid",
        "强于大市" | "优于大市" | "优于大势" => "outperform",
        "跟随大市" | "同步大市" | "同步大势" => "market perform",
        "弱于大市" | "落后大势" => "underperform",
        other => other,
    }
}

/// Writes the report file. `answers` holds one answer per member name of the draft.
pub fn render(draft: &Draft, answers: &HashMap<String, MemberAnswer>, overrides: &Overrides) -> Rendered {
    let mut out = String::new();
    let mut gaps = Vec::new();
    let report_date = overrides.report_date.or(draft.report_date);
    let id = overrides.id.as_ref().map_or_else(|| default_id(draft, report_date), ToString::to_string);
    let line = |out: &mut String, text: &str| {
        out.push_str(text);
        out.push('\n');
    };

    line(&mut out, &format!("# Drafted by `ratingwatch reports draft` from {}.", overrides.source));
    line(&mut out, "# Check it against the report, settle every `# TODO`, then `ratingwatch reports add` this file.");
    line(&mut out, "");
    line(&mut out, &format!("id = {}", quote(&id)));
    match &draft.title {
        Some(title) => line(&mut out, &format!("title = {}", quote(title))),
        None => {
            gaps.push("title: not found in the text".to_string());
            line(&mut out, "# TODO: the report's title (not found in the text)");
            line(&mut out, "title = \"\"");
        }
    }
    match overrides.broker.as_ref().or(draft.broker.as_ref()) {
        Some(broker) => line(&mut out, &format!("broker = {}", quote(broker))),
        None => {
            gaps.push("broker: not found in the text; pass --broker NAME".to_string());
            line(&mut out, "# TODO: the broker (not found in the text); pass --broker NAME");
        }
    }
    match report_date {
        Some(date) => line(&mut out, &format!("report_date = {date}")),
        None => {
            gaps.push("report date: not found in the text; pass --date YYYY-MM-DD".to_string());
            line(&mut out, "# TODO: the report date (not found in the text); pass --date YYYY-MM-DD");
        }
    }
    match &draft.rating {
        Some(rating) => line(&mut out, &format!("rating = {}", quote(rating))),
        None => {
            gaps.push("rating: the industry rating (行业评级：…) was not found".to_string());
            line(&mut out, "# TODO: the report's rating, one of the band labels below (行业评级 not found)");
        }
    }

    // The companies, each once, in first-seen order, with the sectors' members and tags.
    let mut companies: Vec<ResolvedCompany> = Vec::new();
    let mut sectors: Vec<SectorOut> = Vec::new();
    for sector in &draft.sectors {
        let mut members: Vec<Symbol> = Vec::new();
        let mut tags: Vec<(String, Vec<Symbol>)> = Vec::new();
        let mut unresolved: Vec<String> = Vec::new();
        for member in &sector.members {
            match answers.get(&member.name) {
                Some(MemberAnswer::Companies(found)) => {
                    for company in found {
                        if !companies.iter().any(|c| c.symbol == company.symbol) {
                            companies.push(company.clone());
                        }
                        if !members.contains(&company.symbol) {
                            members.push(company.symbol.clone());
                        }
                        for tag in &member.tags {
                            add_tag(&mut tags, tag, &company.symbol);
                        }
                    }
                }
                Some(MemberAnswer::Unresolved { note }) => {
                    gaps.push(format!("{} ({}): {note}", member.name, sector.name));
                    unresolved.push(format!("{}{}: {note}", member.name, tag_note(member)));
                }
                None => {
                    gaps.push(format!("{} ({}): not resolved", member.name, sector.name));
                    unresolved.push(format!("{}{}: not resolved", member.name, tag_note(member)));
                }
            }
        }
        sectors.push((sector.name.clone(), members, tags, unresolved));
    }
    if draft.sectors.is_empty() {
        gaps.push("sectors: no 相关标的/重点推荐/建议关注 line under a 【sector】 heading and no (板块, 公司) table".to_string());
    }

    // Members are converted into the benchmark's currency through CNY rates: a member quoted in
    // another currency needs its own pair and the benchmark currency's (none for CNY).
    let target = draft
        .rule
        .benchmark
        .as_ref()
        .and_then(|b| b.symbol.as_deref())
        .and_then(|s| Symbol::parse(s).ok())
        .map_or(Currency::Cny, |s| s.currency());
    let foreign = |currency: Currency| companies.iter().any(|c| c.symbol.currency() == currency && currency != target);
    let needed = |currency: Currency| foreign(currency) || (currency == target && Currency::ALL.into_iter().any(foreign));
    let fx: Vec<Symbol> = [Currency::Usd, Currency::Hkd].into_iter().filter(|&c| needed(c)).filter_map(Currency::cny_pair).collect();
    if !fx.is_empty() {
        line(&mut out, &format!("# FX pairs that convert members into the benchmark's currency ({target})."));
        line(&mut out, &format!("fx = [{}]", fx.iter().map(|pair| quote(&pair.to_string())).collect::<Vec<_>>().join(", ")));
    }
    line(&mut out, "");
    render_rule(&mut out, &mut gaps, draft);

    for company in &companies {
        line(&mut out, "");
        line(&mut out, "[[companies]]");
        line(&mut out, &format!("symbol = {}", quote(&company.symbol.to_string())));
        line(&mut out, &format!("name = {}", quote(&company.name)));
        line(&mut out, &format!("name_en = {}", quote(&company.name_en)));
        if !company.alternates.is_empty() {
            let alternates: Vec<String> = company.alternates.iter().map(|s| quote(&s.to_string())).collect();
            line(&mut out, &format!("alternates = [{}]", alternates.join(", ")));
        }
    }

    for (name, members, tags, unresolved) in &sectors {
        line(&mut out, "");
        line(&mut out, "[[sectors]]");
        line(&mut out, &format!("name = {}", quote(name)));
        line(&mut out, "name_en = \"\"");
        line(&mut out, "members = [");
        for symbol in members {
            let company = companies.iter().find(|c| &c.symbol == symbol).map_or("", |c| c.name.as_str());
            line(&mut out, &format!("    {},  # {company}", quote(&symbol.to_string())));
        }
        for note in unresolved {
            line(&mut out, &format!("    # TODO: {note}"));
        }
        line(&mut out, "]");
        if !tags.is_empty() {
            line(&mut out, "");
            line(&mut out, "[sectors.tags]");
            for (tag, symbols) in tags {
                let list: Vec<String> = symbols.iter().map(|s| quote(&s.to_string())).collect();
                line(&mut out, &format!("{} = [{}]", quote(tag), list.join(", ")));
            }
        }
    }
    Rendered { id, text: out, gaps }
}

/// A sector as written: name, member symbols, tags with their symbols, unresolved notes.
type SectorOut = (String, Vec<Symbol>, Vec<(String, Vec<Symbol>)>, Vec<String>);

fn tag_note(member: &DraftMember) -> String {
    if member.tags.is_empty() { String::new() } else { format!(" (tags {})", member.tags.join(", ")) }
}

fn add_tag(tags: &mut Vec<(String, Vec<Symbol>)>, tag: &str, symbol: &Symbol) {
    match tags.iter_mut().find(|(name, _)| name == tag) {
        Some((_, symbols)) => {
            if !symbols.contains(symbol) {
                symbols.push(symbol.clone());
            }
        }
        None => tags.push((tag.to_string(), vec![symbol.clone()])),
    }
}

fn render_rule(out: &mut String, gaps: &mut Vec<String>, draft: &Draft) {
    let rule = &draft.rule;
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line("[rule]");
    match &rule.benchmark {
        Some(Benchmark { name, symbol: Some(symbol), .. }) => {
            line(&format!("benchmark = {}", quote(symbol)));
            line(&format!("benchmark_name = {}", quote(name)));
        }
        Some(Benchmark { name, symbol: None, ticker }) => {
            gaps.push(format!("benchmark: {name} ({ticker}) is not an index ratingwatch can price yet"));
            line(&format!("# TODO: benchmark {name} ({ticker}) is not an index ratingwatch can price yet"));
            line(&format!("benchmark_name = {}", quote(name)));
        }
        None => {
            gaps.push("benchmark: not named in the rating rule".to_string());
            line("# TODO: benchmark (not named in the rating rule), e.g. \"000300.SH\" for 沪深300");
        }
    }
    match (rule.horizon_months, &rule.horizon_text) {
        (Some(months), None) => line(&format!("horizon_months = {months}")),
        (Some(months), Some(text)) => {
            gaps.push(format!("horizon: the report says {text}; {months} months written"));
            line(&format!("# TODO: the report says \"{text}\"; check the horizon"));
            line(&format!("horizon_months = {months}"));
        }
        (None, _) => {
            gaps.push("horizon: no \"N个月\" in the rating rule".to_string());
            line("# TODO: horizon_months (no \"N个月\" in the rating rule)");
        }
    }
    if rule.bands.is_empty() {
        gaps.push("rule: no rating bands found (评级说明)".to_string());
        line("# TODO: the rating bands (no 评级说明 found), see README \"Reports are data\"");
        return;
    }
    line("# Bands from the top down, as the report states them:");
    for band in &rule.bands {
        line(&format!("#   {}", band.text));
    }
    for band in &rule.bands {
        line("");
        line("[[rule.bands]]");
        line(&format!("label = {}", quote(&band.label)));
        line(&format!("label_en = {}", quote(label_en(&band.label))));
        if band.qualitative {
            gaps.push(format!("rule: band {} is stated in words only: \"{}\"", band.label, band.text));
            line(&format!("# TODO: stated in words only, no number to use: \"{}\"", band.text));
            line("# set min_pp/above_pp and max_pp/below_pp");
            continue;
        }
        write_bound(&mut line, band, band.lower, "min_pp", "above_pp");
        write_bound(&mut line, band, band.upper, "max_pp", "below_pp");
    }
}

fn write_bound(line: &mut impl FnMut(&str), _band: &DraftBand, bound: Option<Bound>, inclusive_key: &str, exclusive_key: &str) {
    if let Some(bound) = bound {
        let key = if bound.inclusive { inclusive_key } else { exclusive_key };
        line(&format!("{key} = {}", pp(bound.bp)));
    }
}

/// Basis points as a TOML float of percentage points: 1000 → `10.0`, -750 → `-7.5`.
fn pp(bp: i64) -> String {
    let value = bp as f64 / 100.0;
    if value.fract() == 0.0 { format!("{value:.1}") } else { format!("{value}") }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
