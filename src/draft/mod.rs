//! Drafting a report file from a report's text (`ratingwatch reports draft`).
//!
//! Pure: text in, a [`Draft`] out, then [`render::render`] turns a draft plus resolved
//! companies into a report file in the `data/reports/` format. Nothing here reads files, the
//! database or the network; the CLI resolves names with [`crate::names::Resolver`] in between.
//!
//! What is read from the text:
//! - the head: title, broker, report date and the industry rating (`行业评级：看好`);
//! - the rule, from the rating disclaimer ([`rule`]): horizon, benchmark and bands, OCR noise
//!   tolerated; a band stated only in words ("明显强于") gets no invented number;
//! - sectors and members ([`members`]): `相关标的：` / `重点推荐` / `建议关注` lines under a
//!   `【sector】` heading and tables of (板块, 公司) rows, with parenthesised sub-groups kept
//!   as tags (算力调度（运营商） → tag 算力调度 on 运营商).

pub mod members;
pub mod pdf;
pub mod render;
pub mod rule;
mod text;

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::names::{Company, Resolution, Resolver};
use crate::symbol::Symbol;
use render::{MemberAnswer, ResolvedCompany};

pub use members::{DraftMember, DraftSector};
pub use rule::{DraftBand, DraftRule};

/// Everything a report's text says that a report file needs, before names are resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub title: Option<String>,
    pub broker: Option<String>,
    pub report_date: Option<NaiveDate>,
    /// The report's own rating word (看好, 推荐, 增持 …).
    pub rating: Option<String>,
    pub rule: DraftRule,
    pub sectors: Vec<DraftSector>,
}

/// Reads a report's text (UTF-8: plain text or markdown, or what [`pdf::text_of`] extracts).
pub fn parse(text: &str) -> Draft {
    let lines: Vec<&str> = text.lines().collect();
    let rating = head::rating(&lines);
    Draft {
        title: head::title(&lines),
        broker: head::broker(text),
        report_date: head::date(&lines),
        rule: rule::parse(text, rating.as_deref()),
        rating,
        sectors: members::parse(&lines),
    }
}

/// Resolves every member name of a draft, once per name: a code given next to the name wins
/// over the name; a group name (运营商) stands for each of its companies under its listed
/// name; ambiguity is never guessed.
pub fn resolve_members(draft: &Draft, resolver: &Resolver) -> HashMap<String, MemberAnswer> {
    let mut answers = HashMap::new();
    for member in draft.sectors.iter().flat_map(|sector| &sector.members) {
        if !answers.contains_key(&member.name) {
            answers.insert(member.name.clone(), answer(resolver, &member.name, member.code.as_deref()));
        }
    }
    answers
}

fn answer(resolver: &Resolver, name: &str, code: Option<&str>) -> MemberAnswer {
    let single = |company: Company, name: &str| ResolvedCompany {
        symbol: company.primary,
        alternates: company.alternates,
        name: name.to_string(),
        name_en: company.name_en.unwrap_or_default(),
    };
    if let Some(company) = code.and_then(|code| Symbol::parse(code).ok()).and_then(|symbol| resolver.company_of(&symbol)) {
        return MemberAnswer::Companies(vec![single(company, name)]);
    }
    let listing = |company: &Company| format!("{} {}", company.primary, company.name);
    match resolver.resolve(name) {
        Resolution::Resolved(company) => MemberAnswer::Companies(vec![single(company, name)]),
        Resolution::Many { companies } => MemberAnswer::Companies(
            companies
                .into_iter()
                .map(|company| {
                    let listed = company.name.clone();
                    single(company, &listed)
                })
                .collect(),
        ),
        Resolution::Ambiguous { candidates } => MemberAnswer::Unresolved {
            note: format!("ambiguous, candidates: {}", candidates.iter().map(listing).collect::<Vec<_>>().join(", ")),
        },
        Resolution::NotFound { suggestions } if suggestions.is_empty() => {
            MemberAnswer::Unresolved { note: "not found in the security master".to_string() }
        }
        Resolution::NotFound { suggestions } => MemberAnswer::Unresolved {
            note: format!(
                "not found; similar: {}",
                suggestions.iter().take(5).map(|c| format!("{} {}", c.symbol, c.name)).collect::<Vec<_>>().join(", ")
            ),
        },
    }
}

mod head {
    use std::collections::HashMap;

    use chrono::NaiveDate;
    use regex::Regex;

    use super::text::clean_line;

    /// How far into the text the head (title, date, rating) is looked for.
    const HEAD_LINES: usize = 60;

    /// The first heading or line of text, with a subtitle line that follows it in
    /// parentheses: `ChatGPT研究框架` + `——【AIGC算力时代系列报告】` →
    /// `ChatGPT研究框架（AIGC算力时代系列报告）`.
    pub fn title(lines: &[&str]) -> Option<String> {
        let mut content = lines.iter().take(HEAD_LINES).map(|line| clean_line(line)).filter(|line| !line.is_empty());
        let title = content.next()?;
        let title = title.trim_start_matches('#').trim().to_string();
        let is_head_field = ["评级", "分析师", "日期"].iter().any(|word| title.starts_with(word));
        if title.is_empty() || is_head_field {
            return None;
        }
        let subtitle = content.next().and_then(|line| {
            let stripped = line.trim_start_matches(['—', '-', '－', '–', ' ']);
            let inner = stripped.strip_prefix('【').and_then(|s| s.strip_suffix('】'))?;
            (stripped.len() < line.len() || !inner.is_empty()).then(|| inner.trim().to_string())
        });
        Some(match subtitle {
            Some(subtitle) if !subtitle.is_empty() => format!("{title}（{subtitle}）"),
            _ => title,
        })
    }

    /// The broker: the research institute the head names (`浙商证券研究所` → 浙商证券), else the
    /// known broker name mentioned most often, else the `…证券股份有限公司` that issued the
    /// report. A known broker is given by its short name (`国泰君安证券研究所` → 国泰君安).
    pub fn broker(text: &str) -> Option<String> {
        if let Some(institute) = institute(text) {
            let known = KNOWN_BROKERS.iter().filter(|name| institute.starts_with(*name)).max_by_key(|name| name.len());
            return Some(known.map_or(institute, |name| name.to_string()));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for name in KNOWN_BROKERS {
            let count = text.matches(name).count();
            if count > 0 {
                counts.insert(name.to_string(), count);
            }
        }
        if counts.is_empty() {
            // `本报告由XX证券股份有限公司制作`: the name before the legal form, after 由.
            let legal = Regex::new(r"([\p{Han}]{2,8}?证券)股份有限公司").expect("a valid pattern");
            for found in legal.captures_iter(text) {
                let name = found[1].rsplit('由').next().unwrap_or(&found[1]).trim_start_matches("本报告");
                if name.chars().count() >= 4 {
                    *counts.entry(name.to_string()).or_default() += 1;
                }
            }
        }
        counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0))).map(|(name, _)| name)
    }

    /// `XX证券` from the first `XX证券研究所` in the head: the run of Han characters before
    /// 证券研究所, less one lead-in it starts with (本报告来自, 发布机构, …), when two to six
    /// characters are left; a longer run is prose, not a name. `None` when the head names no
    /// such institute.
    fn institute(text: &str) -> Option<String> {
        const LEAD_INS: [&str; 8] = ["本报告来自", "本报告由", "发布机构", "研究机构", "本报告", "来自", "作者", "由"];
        let pattern = Regex::new(r"(\p{Han}+)证券研究所").expect("a valid pattern");
        text.lines().take(HEAD_LINES).find_map(|line| {
            pattern.captures_iter(&clean_line(line)).find_map(|found| {
                let run = &found[1];
                let name = LEAD_INS.iter().find_map(|lead| run.strip_prefix(lead)).unwrap_or(run);
                (2..=6).contains(&name.chars().count()).then(|| format!("{name}证券"))
            })
        })
    }

    const KNOWN_BROKERS: [&str; 24] = [
        "浙商证券",
        "国泰君安",
        "华泰证券",
        "中信建投",
        "兴业证券",
        "招商证券",
        "东北证券",
        "华创证券",
        "宏信证券",
        "中信证券",
        "中金公司",
        "海通证券",
        "广发证券",
        "国信证券",
        "申万宏源",
        "天风证券",
        "安信证券",
        "光大证券",
        "东吴证券",
        "民生证券",
        "开源证券",
        "国金证券",
        "方正证券",
        "长江证券",
    ];

    /// The first date in the head: `2023年2月14日`, `2023-02-14`, `2023/02/14`, `2023.02.14`.
    pub fn date(lines: &[&str]) -> Option<NaiveDate> {
        let pattern =
            Regex::new(r"(20\d\d|19\d\d)\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*日?").expect("a valid pattern");
        lines.iter().take(HEAD_LINES).find_map(|line| {
            pattern
                .captures_iter(&clean_line(line))
                .find_map(|found| NaiveDate::from_ymd_opt(found[1].parse().ok()?, found[2].parse().ok()?, found[3].parse().ok()?))
        })
    }

    /// The industry rating stated in the head: `行业评级：看好`, `投资评级：推荐（维持）`.
    pub fn rating(lines: &[&str]) -> Option<String> {
        let pattern = Regex::new(r"(?:行业评级|投资评级|行业投资评级|评级)\s*[:：]\s*([\p{Han}]{2,4})").expect("a valid pattern");
        lines.iter().take(HEAD_LINES).find_map(|line| pattern.captures(&clean_line(line)).map(|found| found[1].to_string()))
    }
}

#[cfg(test)]
mod tests;
