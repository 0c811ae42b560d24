//! The ratings feed's domain: one broker rating on one company ([`RatingRecord`]), how it
//! changed ([`Change`]), and each broker's own rating rules ([`BrokerBook`], read from
//! `data/brokers.toml`, compiled in, with a user's file laid over it).
//!
//! Invariants: pure (text in, values out; the CLI reads the user's file); a broker rule exists
//! only where its source sentence was found (each entry carries it as `source`); a rule stated
//! only in words has no bands ([`Scale::Words`]) and its calls are never scored; bands are the
//! catalog's [`Band`]s, checked with [`check_bands`], so the band lookup is
//! [`RatingRule::implied`] and nothing else.
//!
//! Conventions, for every broker alike:
//! - Bounds: the sources never say whether 以上/以下 include the bound. As in a report file's
//!   three-tier rule, a bound at or above zero belongs to the band above it (`min_pp`, ≥) and a
//!   bound below zero to the band below it (`above_pp`, >): "15%以上" includes +15 pp, the
//!   neutral band −5…+5 excludes −5 (which is 减持).
//! - Horizon: a range (招商证券 "6-12 个月") is scored at its lower bound, and every scored call
//!   shows the range and the months used ([`Horizon::note`]).
//! - A bottom band stated with two ends (华创证券 回避 "跌幅在 10%－20%之间") is open below: the
//!   source defines nothing under −20 pp, and the lowest tier is the only reading of it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::{Band, Bound, Label, RatingRule, check_bands};
use crate::symbol::{Market, Symbol};

/// The built-in broker rules.
pub const BUILTIN_BROKERS: &str = include_str!("../data/brokers.toml");

/// How a rating differs from the same broker's previous one on the same company, derived from
/// Eastmoney's normalised values (`emRatingValue` against `lastEmRatingValue`), never from its
/// `ratingChange` code, whose meaning public clients disagree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[derive(strum::Display, strum::EnumString, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Change {
    /// No previous rating (`lastEmRatingName` empty).
    FirstCoverage,
    Up,
    Down,
    Maintained,
}

/// Eastmoney's normalised scale, from the top, for records whose values are missing.
const NORMALISED_SCALE: [&str; 5] = ["买入", "增持", "中性", "减持", "卖出"];

impl Change {
    /// First coverage when there is no previous rating; otherwise the values compared (a
    /// higher value is a better rating), or the words' places on the normalised scale when a
    /// value is missing; the same word with no values is maintained.
    pub fn derive(current: (Option<&str>, Option<i64>), previous: (Option<&str>, Option<i64>)) -> Change {
        let Some(previous_name) = previous.0.filter(|name| !name.trim().is_empty()) else {
            return Change::FirstCoverage;
        };
        let place = |name: Option<&str>| name.and_then(|n| NORMALISED_SCALE.iter().position(|s| *s == n.trim())).map(|p| -(p as i64));
        let (now, before) = match (current.1, previous.1) {
            (Some(now), Some(before)) => (Some(now), Some(before)),
            _ => (place(current.0), place(Some(previous_name))),
        };
        match (now, before) {
            (Some(now), Some(before)) if now > before => Change::Up,
            (Some(now), Some(before)) if now < before => Change::Down,
            _ => Change::Maintained,
        }
    }
}

/// One stock rating as listed by Eastmoney's report list, in domain terms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatingRecord {
    /// Eastmoney's stable id (`AP2023…`), the key: a re-sync updates, never duplicates.
    pub info_code: String,
    pub symbol: Symbol,
    /// The company's short name as listed (`stockName`).
    pub name: String,
    /// The broker's short name (`orgSName`) and full legal name (`orgName`).
    pub broker: String,
    pub broker_full: String,
    /// Comma-separated analyst names (`researcher`).
    pub analysts: String,
    /// The publish date (a date at midnight: no time of day is known).
    pub date: NaiveDate,
    /// The broker's own word (`sRatingName`); empty when the report states none.
    pub rating: String,
    /// Eastmoney's normalised word and value (`emRatingName`, `emRatingValue`).
    pub normalized: Option<String>,
    pub normalized_value: Option<i64>,
    /// The previous normalised rating (`lastEmRatingName`, `lastEmRatingValue`).
    pub previous: Option<String>,
    pub previous_value: Option<i64>,
    pub change: Change,
    /// `indvAimPriceT`; absent when the list has `""`.
    pub target_price: Option<f64>,
    pub title: String,
    pub pdf_url: String,
}

/// The PDF of a report in the list: `https://pdf.dfcfw.com/pdf/H3_{infoCode}_1.pdf`.
pub fn pdf_url(info_code: &str) -> String {
    format!("https://pdf.dfcfw.com/pdf/H3_{info_code}_1.pdf")
}

/// A rule's horizon in months, a single figure or a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Horizon {
    pub min_months: u32,
    pub max_months: u32,
}

impl Horizon {
    /// The months a call is scored over: the lower bound (see the module docs).
    pub fn scored_months(&self) -> u32 {
        self.min_months
    }

    /// `12 months`, or `6–12 months, scored at 6`.
    pub fn note(&self) -> String {
        if self.min_months == self.max_months {
            format!("{} months", self.min_months)
        } else {
            format!("{}–{} months, scored at {}", self.min_months, self.max_months, self.scored_months())
        }
    }
}

/// What a rule's labels mean.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    /// Numeric bands from the top down, covering every excess once.
    Bands(Vec<Band>),
    /// Labels stated only in words (明显强于…): tracked, never scored.
    Words(Vec<String>),
}

/// One of a broker's rules (stock or industry).
#[derive(Clone, Debug, PartialEq)]
pub struct TierRule {
    pub horizon: Horizon,
    /// The benchmark per market group (`cn`, `hk`, `us`): symbol and name.
    pub benchmarks: BTreeMap<String, (Symbol, String)>,
    pub scale: Scale,
    /// The source sentence(s), verbatim.
    pub source: String,
}

/// The market group a symbol's benchmark is chosen by.
pub fn market_group(market: Market) -> &'static str {
    match market {
        Market::Sh | Market::Sz => "cn",
        Market::Hk => "hk",
        Market::Us => "us",
        _ => "other",
    }
}

/// Why a rule cannot score a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleGap {
    /// The rule is stated in words only.
    Qualitative,
    /// The broker's word is not one of the rule's labels.
    WordNotInRule { word: String, labels: Vec<String> },
    /// The rule names no benchmark for the company's market.
    NoBenchmark { market: String },
}

impl TierRule {
    /// The rule as the catalog's [`RatingRule`] for a company in `market`, with the word's
    /// band: what a one-company report with this rule needs.
    pub fn rating_rule(&self, market: Market, word: &str) -> Result<(RatingRule, crate::catalog::Rating), RuleGap> {
        let bands = match &self.scale {
            Scale::Words(_) => return Err(RuleGap::Qualitative),
            Scale::Bands(bands) => bands,
        };
        let group = market_group(market);
        let (benchmark, name) = self.benchmarks.get(group).ok_or_else(|| RuleGap::NoBenchmark { market: group.to_string() })?;
        let rule = RatingRule {
            benchmark: benchmark.clone(),
            benchmark_name: name.clone(),
            horizon_months: self.horizon.scored_months(),
            bands: bands.clone(),
        };
        let rating = rule.rating_for_label(word.trim()).ok_or_else(|| RuleGap::WordNotInRule {
            word: word.to_string(),
            labels: bands.iter().map(|band| band.label.zh.clone()).collect(),
        })?;
        Ok((rule, rating))
    }

    pub fn labels(&self) -> Vec<String> {
        match &self.scale {
            Scale::Bands(bands) => bands.iter().map(|band| band.label.zh.clone()).collect(),
            Scale::Words(words) => words.clone(),
        }
    }
}

/// One broker: its short name, aliases (the full legal name) and rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Broker {
    pub name: String,
    pub aliases: Vec<String>,
    pub stock: Option<TierRule>,
    pub industry: Option<TierRule>,
}

/// Every known broker's rules, found by short name or alias.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokerBook {
    brokers: BTreeMap<String, Broker>,
    names: HashMap<String, String>,
}

/// A broker file that cannot be used, naming the file and the broker or key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct BrokersError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBroker {
    #[serde(default)]
    aliases: Vec<String>,
    stock: Option<FileRule>,
    industry: Option<FileRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    source: String,
    horizon_months: FileHorizon,
    benchmarks: BTreeMap<String, FileBenchmark>,
    bands: Option<Vec<FileBand>>,
    words: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileHorizon {
    One(u32),
    Range([u32; 2]),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBenchmark {
    symbol: String,
    name: String,
}

/// A band by its lower end: `min_pp` (≥) or `above_pp` (>); the bottom band has neither. Its
/// upper end is the band above's lower end.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBand {
    label: String,
    label_en: Option<String>,
    min_pp: Option<f64>,
    above_pp: Option<f64>,
}

impl BrokerBook {
    /// The built-in rules, then `user` (file name and text) laid over them: a broker named in
    /// both takes the user's entry whole.
    pub fn load(user: Option<(&str, &str)>) -> Result<BrokerBook, BrokersError> {
        let mut book = BrokerBook::default();
        book.extend("data/brokers.toml", BUILTIN_BROKERS)?;
        if let Some((file, text)) = user {
            book.extend(file, text)?;
        }
        Ok(book)
    }

    /// Lays the brokers of one file over the book.
    pub fn extend(&mut self, file: &str, text: &str) -> Result<(), BrokersError> {
        let error = |message: String| BrokersError { file: file.to_string(), message };
        let parsed: BTreeMap<String, FileBroker> =
            toml::from_str(text).map_err(|e| error(crate::text::excerpt(&e.to_string().replace('\n', " "), 300)))?;
        for (name, entry) in parsed {
            let rule = |which: &str, rule: Option<FileRule>| -> Result<Option<TierRule>, BrokersError> {
                rule.map(|rule| convert_rule(rule).map_err(|message| error(format!("broker `{name}`, {which} rule: {message}"))))
                    .transpose()
            };
            let broker = Broker {
                name: name.clone(),
                aliases: entry.aliases,
                stock: rule("stock", entry.stock)?,
                industry: rule("industry", entry.industry)?,
            };
            if let Some(old) = self.brokers.remove(&name) {
                self.names.retain(|_, target| *target != old.name);
            }
            for alias in std::iter::once(&broker.name).chain(&broker.aliases) {
                self.names.insert(alias.trim().to_string(), name.clone());
            }
            self.brokers.insert(name, broker);
        }
        Ok(())
    }

    /// The broker a record names, by its short name, else its full name.
    pub fn find(&self, short: &str, full: &str) -> Option<&Broker> {
        [short, full].iter().find_map(|name| self.names.get(name.trim())).and_then(|name| self.brokers.get(name))
    }

    pub fn brokers(&self) -> impl Iterator<Item = &Broker> {
        self.brokers.values()
    }
}

fn convert_rule(rule: FileRule) -> Result<TierRule, String> {
    if rule.source.trim().is_empty() {
        return Err("`source` is empty: a rule needs its source sentence".to_string());
    }
    let horizon = match rule.horizon_months {
        FileHorizon::One(months) => Horizon { min_months: months, max_months: months },
        FileHorizon::Range([min, max]) => Horizon { min_months: min, max_months: max },
    };
    if horizon.min_months == 0 || horizon.min_months > horizon.max_months || horizon.max_months > 120 {
        return Err(format!("horizon_months {}–{} must be 1 to 120 months, low to high", horizon.min_months, horizon.max_months));
    }
    let mut benchmarks = BTreeMap::new();
    for (group, benchmark) in rule.benchmarks {
        if !["cn", "hk", "us"].contains(&group.as_str()) {
            return Err(format!("benchmarks.{group}: unknown market group (expected cn, hk or us)"));
        }
        let symbol = Symbol::parse(&benchmark.symbol).map_err(|e| format!("benchmarks.{group}.symbol: {e}"))?;
        benchmarks.insert(group, (symbol, benchmark.name));
    }
    let scale = match (rule.bands, rule.words) {
        (Some(bands), None) => Scale::Bands(convert_bands(&bands)?),
        (None, Some(words)) if words.len() >= 2 => Scale::Words(words),
        (None, Some(_)) => return Err("`words` needs at least two labels".to_string()),
        _ => return Err("give either `bands` (numeric) or `words` (a rule stated in words only), not both".to_string()),
    };
    if matches!(scale, Scale::Bands(_)) && benchmarks.is_empty() {
        return Err("a rule with bands needs at least one benchmark".to_string());
    }
    Ok(TierRule { horizon, benchmarks, scale, source: rule.source })
}

fn convert_bands(bands: &[FileBand]) -> Result<Vec<Band>, String> {
    let mut out: Vec<Band> = Vec::new();
    for (index, band) in bands.iter().enumerate() {
        let lower = match (band.min_pp, band.above_pp) {
            (Some(_), Some(_)) => return Err(format!("band `{}`: give min_pp or above_pp, not both", band.label)),
            (Some(pp), None) => Some(Bound { bp: (pp * 100.0).round() as i64, inclusive: true }),
            (None, Some(pp)) => Some(Bound { bp: (pp * 100.0).round() as i64, inclusive: false }),
            (None, None) => None,
        };
        let upper = out.last().and_then(|above: &Band| above.lower).map(|b| Bound { bp: b.bp, inclusive: !b.inclusive });
        if index > 0 && upper.is_none() {
            return Err(format!("band `{}` follows a band without a lower end (only the bottom band has none)", band.label));
        }
        let label_en = band.label_en.clone().unwrap_or_else(|| band.label.clone());
        out.push(Band { label: Label::new(&band.label, &label_en), lower, upper });
    }
    check_bands(&out).map_err(|(index, message)| format!("band {}: {message}", index + 1))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_derived_from_the_values() {
        assert_eq!(Change::derive((Some("买入"), Some(3)), (None, None)), Change::FirstCoverage);
        assert_eq!(Change::derive((Some("买入"), Some(3)), (Some(""), None)), Change::FirstCoverage);
        assert_eq!(Change::derive((Some("买入"), Some(3)), (Some("增持"), Some(2))), Change::Up);
        assert_eq!(Change::derive((Some("增持"), Some(2)), (Some("买入"), Some(3))), Change::Down);
        assert_eq!(Change::derive((Some("买入"), Some(3)), (Some("买入"), Some(3))), Change::Maintained);
        // Values missing: the words' places on 买入/增持/中性/减持/卖出.
        assert_eq!(Change::derive((Some("中性"), None), (Some("增持"), None)), Change::Down);
    }

    #[test]
    fn the_built_in_book_has_the_eight_brokers_and_zheshang() {
        let book = BrokerBook::load(None).unwrap();
        for name in ["国泰君安", "华泰证券", "中信建投", "兴业证券", "招商证券", "东北证券", "华创证券", "宏信证券", "浙商证券"]
        {
            assert!(book.find(name, "").is_some(), "{name}");
        }
        // Found by the full legal name too.
        assert_eq!(book.find("", "国泰君安证券股份有限公司").unwrap().name, "国泰君安");
        // 国泰君安's top stock tier is 增持, at +15 pp and above (inclusive); 谨慎增持 from +5.
        let gtja = book.find("国泰君安", "").unwrap().stock.as_ref().unwrap();
        let (rule, rating) = gtja.rating_rule(Market::Sh, "增持").unwrap();
        assert_eq!(rating.0, 0);
        assert_eq!(rule.horizon_months, 12);
        assert_eq!(rule.label(rule.implied(0.15)).zh, "增持");
        assert_eq!(rule.label(rule.implied(0.1499)).zh, "谨慎增持");
        // −5 pp belongs to the band below the neutral one (see the bound convention).
        assert_eq!(rule.label(rule.implied(-0.05)).zh, "减持");
        assert_eq!(rule.label(rule.implied(-0.0499)).zh, "中性");
        // Its industry rule is in words only.
        let industry = book.find("国泰君安", "").unwrap().industry.as_ref().unwrap();
        assert_eq!(industry.rating_rule(Market::Sh, "增持").unwrap_err(), RuleGap::Qualitative);
        // 招商证券's 6–12 months are scored at 6.
        let cms = book.find("招商证券", "").unwrap().stock.as_ref().unwrap();
        assert_eq!(cms.horizon.note(), "6–12 months, scored at 6");
        // 浙商证券: the seed's industry rule, ±10 pp over 6 months.
        let zs = book.find("浙商证券", "").unwrap().industry.as_ref().unwrap();
        let (rule, rating) = zs.rating_rule(Market::Sz, "看好").unwrap();
        assert_eq!((rating.0, rule.horizon_months, rule.label(rule.implied(0.10)).zh.as_str()), (0, 6, "看好"));
        assert!(matches!(cms.rating_rule(Market::Sh, "买入"), Err(RuleGap::WordNotInRule { .. })));
    }

    #[test]
    fn a_user_file_overrides_and_bad_files_are_named() {
        let mut book = BrokerBook::load(None).unwrap();
        let mine = r#"
["国泰君安"]
aliases = ["GTJA"]
["国泰君安".stock]
source = "test"
horizon_months = 6
benchmarks = { cn = { symbol = "000300.SH", name = "沪深300" } }
bands = [{ label = "好", min_pp = 10 }, { label = "差" }]
"#;
        book.extend("mine.toml", mine).unwrap();
        let broker = book.find("GTJA", "").unwrap();
        assert_eq!(broker.stock.as_ref().unwrap().labels(), ["好", "差"]);
        assert!(broker.industry.is_none(), "the user's entry replaces the built-in one whole");
        let bad = mine.replace("source = \"test\"", "source = \"\"");
        let error = book.extend("mine.toml", &bad).unwrap_err();
        assert_eq!(error.to_string(), "mine.toml: broker `国泰君安`, stock rule: `source` is empty: a rule needs its source sentence");
        let gap = mine.replace("{ label = \"差\" }", "{ label = \"差\", min_pp = 12 }");
        assert!(book.extend("mine.toml", &gap).unwrap_err().to_string().contains("band 2"));
    }
}
