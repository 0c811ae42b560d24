//! Report definitions: `data/reports/<id>.toml` files, parsed and validated.
//!
//! A report (date, broker, rating, rating rule, sectors and companies) is data. This module
//! turns a file into a [`ReportDef`] or an error that names the file and line; it does no
//! database work (the store loads a validated `ReportDef`), so an invalid file writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use crate::ids::ReportId;
use crate::symbol::Symbol;

/// A validated report definition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportDef {
    pub id: String,
    pub title: String,
    pub broker: String,
    pub report_date: NaiveDate,
    /// The report's own label for its rating, one of the rule's three labels.
    pub rating: Rating,
    pub rule: RatingRule,
    pub companies: Vec<Company>,
    pub sectors: Vec<Sector>,
    /// FX pairs needed to convert members into the benchmark's currency.
    pub fx: Vec<Symbol>,
}

/// The rating a rule implies: the index of a band in [`RatingRule::bands`], 0 being the top
/// band (the highest excess). Its words are the band's [`Label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rating(pub usize);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    pub fn new(zh: &str, en: &str) -> Label {
        Label { zh: zh.to_string(), en: en.to_string() }
    }
}

/// One end of a band, in basis points of excess (1000 = +10 pp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    pub bp: i64,
    /// Whether an excess exactly at `bp` belongs to the band.
    pub inclusive: bool,
}

/// One rating of a rule and the excess range that implies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub label: Label,
    /// `None`: no lower end (the bottom band).
    pub lower: Option<Bound>,
    /// `None`: no upper end (the top band).
    pub upper: Option<Bound>,
}

impl Band {
    /// Whether an excess of `bp` basis points falls in this band.
    pub fn contains(&self, bp: i64) -> bool {
        let above_lower = self.lower.is_none_or(|b| bp > b.bp || (b.inclusive && bp == b.bp));
        let below_upper = self.upper.is_none_or(|b| bp < b.bp || (b.inclusive && bp == b.bp));
        above_lower && below_upper
    }
}

/// Where two adjacent bands meet: one dashed line on the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boundary {
    pub bp: i64,
    /// The band above the boundary and the one below it.
    pub above: Label,
    pub below: Label,
    /// Whether an excess exactly at `bp` belongs to the band above (else to the one below).
    pub belongs_above: bool,
}

/// How the report defines its rating against a benchmark: an ordered list of bands that
/// together cover every excess exactly once (no gap, no overlap).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatingRule {
    pub benchmark: Symbol,
    pub benchmark_name: String,
    pub horizon_months: u32,
    /// From the top band (the highest excess) down; at least two.
    pub bands: Vec<Band>,
}

impl RatingRule {
    /// The classic three-tier rule: at or above `upper_bp` the first label, at or below
    /// `lower_bp` the last, strictly between them the middle one (以上/以下 include the bound).
    pub fn three_tier(
        benchmark: Symbol,
        benchmark_name: &str,
        horizon_months: u32,
        upper_bp: i64,
        lower_bp: i64,
        [top, middle, bottom]: [Label; 3],
    ) -> RatingRule {
        RatingRule {
            benchmark,
            benchmark_name: benchmark_name.to_string(),
            horizon_months,
            bands: three_tier_bands(upper_bp, lower_bp, [top, middle, bottom]),
        }
    }

    /// T1: the report date plus the horizon in calendar months (clamped to the month's end).
    pub fn horizon_end(&self, report_date: NaiveDate) -> NaiveDate {
        report_date.checked_add_months(Months::new(self.horizon_months)).unwrap_or(NaiveDate::MAX)
    }

    /// The rating an excess return implies. The excess (a fraction, 0.1 = 10 pp) is first
    /// rounded to whole basis points so floating-point noise never flips a label; each band's
    /// bounds are inclusive or not as the rule says (以上/以下 include the bound).
    pub fn implied(&self, excess: f64) -> Rating {
        let bp = to_basis_points(excess);
        match self.bands.iter().position(|band| band.contains(bp)) {
            Some(index) => Rating(index),
            // Validated bands tile the line; a stored rule that somehow does not falls back
            // to the nearest end rather than failing.
            None if bp >= 0 => Rating(0),
            None => Rating(self.bands.len().saturating_sub(1)),
        }
    }

    /// The words of a rating. Every rule has at least one band (validated on parse and on
    /// load), so an index past the end names the bottom band rather than failing.
    pub fn label(&self, rating: Rating) -> &Label {
        static NONE: std::sync::OnceLock<Label> = std::sync::OnceLock::new();
        self.bands.get(rating.0).or(self.bands.last()).map(|band| &band.label).unwrap_or_else(|| NONE.get_or_init(|| Label::new("—", "—")))
    }

    /// Finds the rating a label (Chinese or English, any case) stands for.
    pub fn rating_for_label(&self, text: &str) -> Option<Rating> {
        self.bands.iter().position(|band| band.label.zh == text || band.label.en.eq_ignore_ascii_case(text)).map(Rating)
    }

    /// The top and bottom ratings, for callers that speak of "the best" and "the worst".
    pub fn top(&self) -> Rating {
        Rating(0)
    }

    pub fn bottom(&self) -> Rating {
        Rating(self.bands.len().saturating_sub(1))
    }

    /// Where adjacent bands meet, from the top down.
    pub fn boundaries(&self) -> Vec<Boundary> {
        boundaries(&self.bands)
    }
}

/// Where adjacent bands (listed from the top down) meet, from the top down.
pub fn boundaries(bands: &[Band]) -> Vec<Boundary> {
    bands
        .windows(2)
        .filter_map(|pair| {
            let lower = pair[0].lower?;
            Some(Boundary { bp: lower.bp, above: pair[0].label.clone(), below: pair[1].label.clone(), belongs_above: lower.inclusive })
        })
        .collect()
}

/// The bands of a three-tier rule (see [`RatingRule::three_tier`]).
pub fn three_tier_bands(upper_bp: i64, lower_bp: i64, [top, middle, bottom]: [Label; 3]) -> Vec<Band> {
    vec![
        Band { label: top, lower: Some(Bound { bp: upper_bp, inclusive: true }), upper: None },
        Band {
            label: middle,
            lower: Some(Bound { bp: lower_bp, inclusive: false }),
            upper: Some(Bound { bp: upper_bp, inclusive: false }),
        },
        Band { label: bottom, lower: None, upper: Some(Bound { bp: lower_bp, inclusive: true }) },
    ]
}

/// Checks that bands, listed from the top down, cover every excess exactly once. On failure
/// the error names the band (its index) where the fault shows.
pub fn check_bands(bands: &[Band]) -> Result<(), (usize, String)> {
    if bands.len() < 2 {
        return Err((0, "a rule needs at least two bands".to_string()));
    }
    let mut labels: HashMap<&str, usize> = HashMap::new();
    for (index, band) in bands.iter().enumerate() {
        if let Some(first) = labels.insert(band.label.zh.as_str(), index) {
            return Err((index, format!("band `{}` is listed twice (bands {} and {})", band.label.zh, first + 1, index + 1)));
        }
        if let (Some(lower), Some(upper)) = (band.lower, band.upper)
            && (lower.bp > upper.bp || (lower.bp == upper.bp && !(lower.inclusive && upper.inclusive)))
        {
            return Err((
                index,
                format!(
                    "band `{}` is empty: its lower bound {} is not below its upper bound {}",
                    band.label.zh,
                    pp(lower.bp),
                    pp(upper.bp)
                ),
            ));
        }
    }
    let first = &bands[0];
    if let Some(upper) = first.upper {
        return Err((
            0,
            format!(
                "gap: nothing covers an excess above {} (the top band `{}` needs no upper bound; bands go from the top down)",
                pp(upper.bp),
                first.label.zh
            ),
        ));
    }
    let last = &bands[bands.len() - 1];
    if let Some(lower) = last.lower {
        return Err((
            bands.len() - 1,
            format!("gap: nothing covers an excess below {} (the bottom band `{}` needs no lower bound)", pp(lower.bp), last.label.zh),
        ));
    }
    for (index, pair) in bands.windows(2).enumerate() {
        let (above, below) = (&pair[0], &pair[1]);
        let (Some(lower), Some(upper)) = (above.lower, below.upper) else {
            return Err((
                index + 1,
                format!(
                    "bands `{}` and `{}` overlap: only the top band may lack an upper bound and only the bottom one a lower bound",
                    above.label.zh, below.label.zh
                ),
            ));
        };
        let names = format!("`{}` and `{}`", above.label.zh, below.label.zh);
        if lower.bp > upper.bp {
            return Err((index + 1, format!("gap between bands {names}: nothing covers {} to {}", pp(upper.bp), pp(lower.bp))));
        }
        if lower.bp < upper.bp {
            return Err((index + 1, format!("bands {names} overlap from {} to {}", pp(lower.bp), pp(upper.bp))));
        }
        match (lower.inclusive, upper.inclusive) {
            (true, true) => {
                return Err((index + 1, format!("bands {names} overlap at {}: both include it (use min/above, max/below)", pp(lower.bp))));
            }
            (false, false) => {
                return Err((
                    index + 1,
                    format!("gap between bands {names}: neither includes {} (use min/above, max/below)", pp(lower.bp)),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Basis points as `+10 pp` / `-7.5 pp`, for messages.
fn pp(bp: i64) -> String {
    let value = bp as f64 / 100.0;
    format!("{value:+} pp")
}

/// The stored form of a rule (JSON in the database): the bands, or the three-threshold form
/// databases written before bands existed still hold.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredRule {
    Bands {
        benchmark: Symbol,
        benchmark_name: String,
        horizon_months: u32,
        bands: Vec<Band>,
    },
    Thresholds {
        benchmark: Symbol,
        benchmark_name: String,
        horizon_months: u32,
        upper_bp: i64,
        lower_bp: i64,
        overweight: Label,
        neutral: Label,
        underweight: Label,
    },
}

impl<'de> Deserialize<'de> for RatingRule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rule = match StoredRule::deserialize(deserializer)? {
            StoredRule::Bands { benchmark, benchmark_name, horizon_months, bands } => {
                RatingRule { benchmark, benchmark_name, horizon_months, bands }
            }
            StoredRule::Thresholds { benchmark, benchmark_name, horizon_months, upper_bp, lower_bp, overweight, neutral, underweight } => {
                RatingRule::three_tier(benchmark, &benchmark_name, horizon_months, upper_bp, lower_bp, [overweight, neutral, underweight])
            }
        };
        check_bands(&rule.bands).map_err(|(_, message)| serde::de::Error::custom(message))?;
        Ok(rule)
    }
}

/// A fraction (0.1234) in whole basis points (1234), rounded half away from zero.
pub fn to_basis_points(fraction: f64) -> i64 {
    (fraction * 10_000.0).round() as i64
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Company {
    /// The primary listing, whose prices the analysis uses.
    pub symbol: Symbol,
    pub name: String,
    pub name_en: String,
    pub alternates: Vec<Symbol>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sector {
    pub name: String,
    pub name_en: String,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Member {
    pub symbol: Symbol,
    /// Sub-group tags inside the sector, e.g. 算力调度.
    pub tags: Vec<String>,
}

/// What loading `new` over `old` (the same id) changes, one line each, in the file's order:
/// the head, the rule, sectors added or removed, a sector's English name, members joining or
/// leaving a sector, a company's names. Empty when the two are equal. Pure.
pub fn differences(old: &ReportDef, new: &ReportDef) -> Vec<String> {
    let mut changes = Vec::new();
    let mut field = |what: &str, before: &str, after: &str| {
        if before != after {
            changes.push(format!("{what}: `{before}` → `{after}`"));
        }
    };
    field("title", &old.title, &new.title);
    field("broker", &old.broker, &new.broker);
    field("report date", &old.report_date.to_string(), &new.report_date.to_string());
    field("rating", &old.rating_label().zh, &new.rating_label().zh);
    if old.rule != new.rule {
        changes.push(format!(
            "rating rule: benchmark {} over {} months with {} bands → benchmark {} over {} months with {} bands{}",
            old.rule.benchmark,
            old.rule.horizon_months,
            old.rule.bands.len(),
            new.rule.benchmark,
            new.rule.horizon_months,
            new.rule.bands.len(),
            if old.rule.benchmark == new.rule.benchmark
                && old.rule.horizon_months == new.rule.horizon_months
                && old.rule.bands.len() == new.rule.bands.len()
            {
                " (the bands' lines or labels differ)"
            } else {
                ""
            }
        ));
    }
    for sector in &old.sectors {
        match new.sectors.iter().find(|s| s.name == sector.name) {
            None => changes.push(format!("sector {} removed ({} members)", sector.name, sector.members.len())),
            Some(after) => {
                if sector.name_en != after.name_en {
                    changes.push(format!("sector {}: English name `{}` → `{}`", sector.name, sector.name_en, after.name_en));
                }
                let joined: Vec<String> = after
                    .members
                    .iter()
                    .filter(|m| !sector.members.iter().any(|o| o.symbol == m.symbol))
                    .map(|m| m.symbol.to_string())
                    .collect();
                let left: Vec<String> = sector
                    .members
                    .iter()
                    .filter(|m| !after.members.iter().any(|n| n.symbol == m.symbol))
                    .map(|m| m.symbol.to_string())
                    .collect();
                if !joined.is_empty() {
                    changes.push(format!("sector {}: {} join", sector.name, joined.join(", ")));
                }
                if !left.is_empty() {
                    changes.push(format!("sector {}: {} leave", sector.name, left.join(", ")));
                }
            }
        }
    }
    for sector in new.sectors.iter().filter(|s| !old.sectors.iter().any(|o| o.name == s.name)) {
        changes.push(format!("sector {} added ({} members)", sector.name, sector.members.len()));
    }
    for company in &new.companies {
        if let Some(before) = old.companies.iter().find(|c| c.symbol == company.symbol)
            && (before.name != company.name || before.name_en != company.name_en)
        {
            changes.push(format!(
                "{}: name `{}` → `{}`",
                company.symbol,
                crate::text::excerpt(format!("{} {}", before.name, before.name_en).trim_end(), 80),
                crate::text::excerpt(format!("{} {}", company.name, company.name_en).trim_end(), 80)
            ));
        }
    }
    changes
}

impl ReportDef {
    pub fn horizon_end(&self) -> NaiveDate {
        self.rule.horizon_end(self.report_date)
    }

    pub fn company(&self, symbol: &Symbol) -> Option<&Company> {
        self.companies.iter().find(|c| &c.symbol == symbol)
    }

    pub fn rating_label(&self) -> &Label {
        self.rule.label(self.rating)
    }

    /// The sectors that hold `symbol` (by its main listing), in the report's order.
    pub fn sectors_of(&self, symbol: &Symbol) -> Vec<&Sector> {
        self.sectors.iter().filter(|sector| sector.members.iter().any(|member| &member.symbol == symbol)).collect()
    }

    /// This report narrowed to one of its companies: same rule, dates, benchmark and FX, the
    /// company alone as its basket (no sectors). Its verdict is that company's own against the
    /// report's benchmark and bands; `None` when the report does not hold it.
    pub fn narrowed_to(&self, symbol: &Symbol) -> Option<ReportDef> {
        let company = self.company(symbol)?.clone();
        Some(ReportDef { companies: vec![company], sectors: Vec::new(), ..self.clone() })
    }
}

/// A report file that cannot be used. `line` is 1-based where the fault has a place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct CatalogError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

// ---- The file format (wire types; converted to the domain types above). ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReport {
    id: Spanned<String>,
    title: String,
    broker: String,
    report_date: Spanned<toml::Value>,
    rating: Spanned<String>,
    #[serde(default)]
    fx: Vec<Spanned<String>>,
    rule: FileRule,
    companies: Vec<FileCompany>,
    sectors: Vec<FileSector>,
}

/// The rule in a file: either `bands` (any number, from the top down) or the three-tier
/// shorthand `upper_pp`/`lower_pp` with `labels`, which means exactly the bands
/// "≥ upper", "between, exclusive", "≤ lower".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    benchmark: Spanned<String>,
    benchmark_name: String,
    horizon_months: Spanned<u32>,
    upper_pp: Option<Spanned<f64>>,
    lower_pp: Option<Spanned<f64>>,
    labels: Option<Spanned<FileLabels>>,
    bands: Option<Spanned<Vec<FileBand>>>,
}

/// One band: `label` (and `label_en`), a lower end `min_pp` (inclusive, ≥) or `above_pp`
/// (exclusive, >), an upper end `max_pp` (inclusive, ≤) or `below_pp` (exclusive, <).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBand {
    label: Spanned<String>,
    label_en: Option<String>,
    min_pp: Option<Spanned<f64>>,
    above_pp: Option<Spanned<f64>>,
    max_pp: Option<Spanned<f64>>,
    below_pp: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLabels {
    overweight: FileLabel,
    neutral: FileLabel,
    underweight: FileLabel,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLabel {
    zh: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCompany {
    symbol: Spanned<String>,
    name: String,
    /// Optional: without it, tables show the Chinese name alone.
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    alternates: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSector {
    name: Spanned<String>,
    /// Optional, like a company's.
    #[serde(default)]
    name_en: String,
    members: Vec<Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, Vec<Spanned<String>>>,
}

/// The largest threshold a rule may name, in percentage points of excess return.
pub const MAX_THRESHOLD_PP: f64 = 1000.0;

/// Parses and validates one report file's text. `file` is only used in messages.
pub fn parse_report(file: &Path, text: &str) -> Result<ReportDef, CatalogError> {
    let fail = |span: Option<Range<usize>>, message: String| CatalogError {
        file: file.to_path_buf(),
        line: span.map(|s| line_of(text, s.start)),
        message,
    };
    let raw: FileReport = toml::from_str(text).map_err(|e| fail(e.span(), e.message().to_string()))?;

    let id = ReportId::parse(raw.id.get_ref()).map_err(|error| fail(Some(raw.id.span()), error.to_string()))?.to_string();

    let report_date = match raw.report_date.get_ref() {
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            dt.date.and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)))
        }
        toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        _ => None,
    }
    .ok_or_else(|| fail(Some(raw.report_date.span()), "report_date must be a date like 2023-02-14".to_string()))?;

    let symbol = |s: &Spanned<String>| Symbol::parse(s.get_ref()).map_err(|e| fail(Some(s.span()), e.to_string()));

    if *raw.rule.horizon_months.get_ref() == 0 || *raw.rule.horizon_months.get_ref() > 120 {
        return Err(fail(Some(raw.rule.horizon_months.span()), "horizon_months must be between 1 and 120".to_string()));
    }
    let bands = file_bands(raw.rule.upper_pp, raw.rule.lower_pp, raw.rule.labels, raw.rule.bands, &fail)?;
    let rule = RatingRule {
        benchmark: symbol(&raw.rule.benchmark)?,
        benchmark_name: raw.rule.benchmark_name,
        horizon_months: *raw.rule.horizon_months.get_ref(),
        bands,
    };
    let rating = rule.rating_for_label(raw.rating.get_ref()).ok_or_else(|| {
        fail(
            Some(raw.rating.span()),
            format!(
                "rating `{}` is not one of the rule's labels ({})",
                raw.rating.get_ref(),
                rule.bands.iter().map(|band| band.label.zh.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;

    // Every symbol in the file belongs to one company; remember where each was first seen.
    let mut seen: HashMap<Symbol, usize> = HashMap::new();
    let mut companies = Vec::with_capacity(raw.companies.len());
    for company in raw.companies {
        let primary = symbol(&company.symbol)?;
        let mut alternates = Vec::new();
        for (spanned, parsed) in std::iter::once((&company.symbol, primary.clone()))
            .chain(company.alternates.iter().map(|a| (a, Symbol::parse(a.get_ref()))).filter_map(|(a, r)| r.ok().map(|s| (a, s))))
        {
            if let Some(first) = seen.get(&parsed) {
                return Err(fail(Some(spanned.span()), format!("duplicate company {parsed} (first defined at line {first})")));
            }
            seen.insert(parsed.clone(), line_of(text, spanned.span().start));
            if parsed != primary {
                alternates.push(parsed);
            }
        }
        for alternate in &company.alternates {
            symbol(alternate)?;
        }
        companies.push(Company { symbol: primary, name: company.name, name_en: company.name_en, alternates });
    }
    if companies.is_empty() {
        return Err(fail(None, "a report needs at least one [[companies]] entry".to_string()));
    }

    let mut sectors = Vec::with_capacity(raw.sectors.len());
    let mut sector_names: HashMap<String, usize> = HashMap::new();
    for sector in raw.sectors {
        let name = sector.name.get_ref().clone();
        if let Some(first) = sector_names.insert(name.clone(), line_of(text, sector.name.span().start)) {
            return Err(fail(Some(sector.name.span()), format!("duplicate sector `{name}` (first defined at line {first})")));
        }
        let mut members: Vec<Member> = Vec::with_capacity(sector.members.len());
        for spanned in &sector.members {
            let parsed = symbol(spanned)?;
            if !companies.iter().any(|c| c.symbol == parsed) {
                return Err(fail(
                    Some(spanned.span()),
                    format!("sector `{name}` lists {parsed}, which is not a primary listing in [[companies]]"),
                ));
            }
            if members.iter().any(|m| m.symbol == parsed) {
                return Err(fail(Some(spanned.span()), format!("sector `{name}` lists {parsed} twice")));
            }
            members.push(Member { symbol: parsed, tags: Vec::new() });
        }
        if members.is_empty() {
            return Err(fail(Some(sector.name.span()), format!("sector `{name}` has no members")));
        }
        for (tag, tagged) in &sector.tags {
            for spanned in tagged {
                let parsed = symbol(spanned)?;
                let member = members.iter_mut().find(|m| m.symbol == parsed).ok_or_else(|| {
                    fail(
                        Some(spanned.span()),
                        format!("tag `{tag}` of sector `{name}` lists {parsed}, which is not a member of the sector"),
                    )
                })?;
                member.tags.push(tag.clone());
            }
        }
        sectors.push(Sector { name, name_en: sector.name_en, members });
    }
    if sectors.is_empty() {
        return Err(fail(None, "a report needs at least one [[sectors]] entry".to_string()));
    }

    let mut fx = Vec::new();
    for spanned in &raw.fx {
        let parsed = symbol(spanned)?;
        if !parsed.is_fx() {
            return Err(fail(Some(spanned.span()), format!("fx lists {parsed}, which is not a currency pair like USDCNY.FX")));
        }
        fx.push(parsed);
    }
    // Members quoted in another currency than the benchmark need its pair.
    let benchmark_currency = rule.benchmark.currency();
    for company in &companies {
        let currency = company.symbol.currency();
        if currency != benchmark_currency
            && let Some(pair) = currency.cny_pair()
            && !fx.contains(&pair)
        {
            return Err(fail(None, format!("{} is quoted in {currency}; add \"{pair}\" to `fx`", company.symbol)));
        }
    }

    Ok(ReportDef { id, title: raw.title, broker: raw.broker, report_date, rating, rule, companies, sectors, fx })
}

/// Percentage points from the file in basis points; non-finite and absurd values are refused.
fn file_bp(value: &Spanned<f64>, key: &str, fail: &dyn Fn(Option<Range<usize>>, String) -> CatalogError) -> Result<i64, CatalogError> {
    let pp = *value.get_ref();
    if !(pp.is_finite() && pp.abs() <= MAX_THRESHOLD_PP) {
        return Err(fail(
            Some(value.span()),
            format!(
                "{key} = {pp} must be a finite number of percentage points between -{MAX_THRESHOLD_PP} and {MAX_THRESHOLD_PP} (example: {key} = 10.0)"
            ),
        ));
    }
    Ok((pp * 100.0).round() as i64)
}

/// The rule's bands from either form in the file, checked to cover every excess once.
fn file_bands(
    upper_pp: Option<Spanned<f64>>,
    lower_pp: Option<Spanned<f64>>,
    labels: Option<Spanned<FileLabels>>,
    bands: Option<Spanned<Vec<FileBand>>>,
    fail: &dyn Fn(Option<Range<usize>>, String) -> CatalogError,
) -> Result<Vec<Band>, CatalogError> {
    let Some(file_bands) = bands else {
        let (Some(upper), Some(lower), Some(labels)) = (upper_pp, lower_pp, labels) else {
            return Err(fail(None, "[rule] needs either [[rule.bands]] or all of upper_pp, lower_pp and [rule.labels]".to_string()));
        };
        let upper_bp = file_bp(&upper, "upper_pp", fail)?;
        let lower_bp = file_bp(&lower, "lower_pp", fail)?;
        if lower_bp >= upper_bp {
            return Err(fail(
                Some(lower.span()),
                format!("thresholds out of order: lower_pp {} must be below upper_pp {}", lower.get_ref(), upper.get_ref()),
            ));
        }
        let labels = labels.into_inner();
        let label = |l: FileLabel| Label { zh: l.zh, en: l.en };
        return Ok(three_tier_bands(upper_bp, lower_bp, [label(labels.overweight), label(labels.neutral), label(labels.underweight)]));
    };
    if let Some(mixed) = upper_pp.as_ref().or(lower_pp.as_ref()) {
        return Err(fail(Some(mixed.span()), "[rule] has [[rule.bands]]: drop upper_pp, lower_pp and [rule.labels]".to_string()));
    }
    if let Some(labels) = &labels {
        return Err(fail(Some(labels.span()), "[rule] has [[rule.bands]]: drop upper_pp, lower_pp and [rule.labels]".to_string()));
    }
    let span = file_bands.span();
    let mut bands = Vec::new();
    let mut spans = Vec::new();
    for band in file_bands.into_inner() {
        let name = band.label.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(fail(Some(band.label.span()), "a band's label must not be empty".to_string()));
        }
        let end = |inclusive: &Option<Spanned<f64>>, exclusive: &Option<Spanned<f64>>, keys: (&str, &str)| match (inclusive, exclusive) {
            (Some(a), Some(_)) => Err(fail(Some(a.span()), format!("band `{name}` has both {} and {}: keep one", keys.0, keys.1))),
            (Some(value), None) => Ok(Some(Bound { bp: file_bp(value, keys.0, fail)?, inclusive: true })),
            (None, Some(value)) => Ok(Some(Bound { bp: file_bp(value, keys.1, fail)?, inclusive: false })),
            (None, None) => Ok(None),
        };
        let lower = end(&band.min_pp, &band.above_pp, ("min_pp", "above_pp"))?;
        let upper = end(&band.max_pp, &band.below_pp, ("max_pp", "below_pp"))?;
        // The band's first bound key points at its line better than the label would for
        // gap and overlap errors, which are about bounds.
        let bound_span = [&band.max_pp, &band.below_pp, &band.min_pp, &band.above_pp]
            .into_iter()
            .flatten()
            .map(|value| value.span())
            .next()
            .unwrap_or_else(|| band.label.span());
        spans.push(bound_span);
        let label_en = band.label_en.filter(|en| !en.trim().is_empty()).unwrap_or_else(|| name.clone());
        bands.push(Band { label: Label { zh: name, en: label_en }, lower, upper });
    }
    check_bands(&bands).map_err(|(index, message)| fail(Some(spans.get(index).cloned().unwrap_or(span.clone())), message))?;
    Ok(bands)
}

/// The seed report, compiled into the binary so `ratingwatch serve` works on a fresh machine
/// even outside a checkout (used when the reports folder does not exist).
pub const EMBEDDED_SEED: (&str, &str) =
    ("zheshang-2023-02-14-chatgpt.toml", include_str!("../data/reports/zheshang-2023-02-14-chatgpt.toml"));

/// The embedded seed report, parsed.
pub fn embedded_reports() -> Result<Vec<ReportDef>, CatalogError> {
    let (name, text) = EMBEDDED_SEED;
    Ok(vec![parse_report(Path::new(&format!("(embedded) {name}")), text)?])
}

/// Reads and validates one report file.
pub fn load_report(path: &Path) -> Result<ReportDef, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
        file: path.to_path_buf(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse_report(path, &text)
}

/// Reads every `*.toml` in `dir`, sorted by file name. Fails on the first invalid file and
/// on two files with the same id, so a caller can load all or nothing.
pub fn load_dir(dir: &Path) -> Result<Vec<ReportDef>, CatalogError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CatalogError {
        file: dir.to_path_buf(),
        line: None,
        message: format!("cannot read the reports folder: {e} (set [reports] dir in the config)"),
    })?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    paths.sort();
    let mut reports: Vec<ReportDef> = Vec::with_capacity(paths.len());
    let mut ids: HashMap<String, PathBuf> = HashMap::new();
    for path in paths {
        let report = load_report(&path)?;
        if let Some(other) = ids.insert(report.id.clone(), path.clone()) {
            return Err(CatalogError {
                file: path,
                line: None,
                message: format!("report id `{}` is already used by {}", report.id, other.display()),
            });
        }
        reports.push(report);
    }
    Ok(reports)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../data/reports/zheshang-2023-02-14-chatgpt.toml");

    fn seed() -> ReportDef {
        parse_report(Path::new("seed.toml"), SEED).unwrap()
    }

    #[test]
    fn differences_name_each_change_and_nothing_else() {
        let old = seed();
        assert_eq!(differences(&old, &old), Vec::<String>::new());
        let mut new = old.clone();
        new.title = "修订版".to_string();
        // 通信 loses its first member, 应用 gains 600941.SH (it is in 通信 already), and a
        // sector is added; the rule's top label is renamed.
        let communications = new.sectors.iter().position(|s| s.name == "通信").unwrap();
        let gone = new.sectors[communications].members.remove(0).symbol;
        let applications = new.sectors.iter().position(|s| s.name == "应用").unwrap();
        let mobile: Symbol = "600941.SH".parse().unwrap();
        new.sectors[applications].members.push(Member { symbol: mobile.clone(), tags: Vec::new() });
        new.sectors.push(Sector { name: "新板块".to_string(), name_en: String::new(), members: Vec::new() });
        new.rule.bands[0].label.zh = "强烈看好".to_string();
        let changes = differences(&old, &new);
        assert_eq!(
            changes,
            [
                format!("title: `{}` → `修订版`", old.title),
                // The report's rating is the top band, so its word changes with the label.
                "rating: `看好` → `强烈看好`".to_string(),
                "rating rule: benchmark 000300.SH over 6 months with 3 bands → benchmark 000300.SH over 6 months with 3 bands (the bands' lines or labels differ)".to_string(),
                // In the file's sector order: 应用 comes before 通信.
                "sector 应用: 600941.SH join".to_string(),
                format!("sector 通信: {gone} leave"),
                "sector 新板块 added (0 members)".to_string(),
            ]
        );
    }

    #[test]
    fn seed_report_matches_the_spec_table() {
        let report = seed();
        assert_eq!(report.companies.len(), 45);
        assert_eq!(report.sectors.len(), 5);
        assert_eq!(report.report_date, NaiveDate::from_ymd_opt(2023, 2, 14).unwrap());
        assert_eq!(report.horizon_end(), NaiveDate::from_ymd_opt(2023, 8, 14).unwrap());
        assert_eq!(report.rating, Rating(0));
        assert_eq!(report.rule.benchmark.to_string(), "000300.SH");
        // The seed lists 百度 under 深度学习框架, 深度学习大模型 and 应用 (its 建议关注的公司 table).
        let baidu = Symbol::parse("9888.HK").unwrap();
        let in_sectors: Vec<&str> =
            report.sectors.iter().filter(|s| s.members.iter().any(|m| m.symbol == baidu)).map(|s| s.name.as_str()).collect();
        assert_eq!(in_sectors, ["深度学习框架", "深度学习大模型", "应用"]);
        for both in ["300308.SZ", "300394.SZ"] {
            let symbol = Symbol::parse(both).unwrap();
            let names: Vec<&str> =
                report.sectors.iter().filter(|s| s.members.iter().any(|m| m.symbol == symbol)).map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["芯片算力", "通信"], "{both}");
        }
        let telecom = report.sectors.iter().find(|s| s.name == "通信").unwrap();
        let mobile = telecom.members.iter().find(|m| m.symbol.to_string() == "600941.SH").unwrap();
        assert_eq!(mobile.tags, vec!["算力供给".to_string(), "算力调度".to_string()]);
    }

    #[test]
    fn implied_rating_bounds_are_inclusive_after_rounding() {
        let rule = seed().rule;
        let (overweight, neutral, underweight) = (Rating(0), Rating(1), Rating(2));
        assert_eq!(rule.implied(0.10), overweight);
        // 0.1 - 1e-12 is floating-point noise below 10.00 pp: still 看好.
        assert_eq!(rule.implied(0.1 - 1e-12), overweight);
        assert_eq!(rule.implied(0.09994), neutral); // 999.4 bp rounds to 999
        assert_eq!(rule.implied(-0.10), underweight);
        assert_eq!(rule.implied(-0.0999), neutral);
    }

    fn check_error(edit: impl Fn(&str) -> String, line: Option<usize>, needle: &str) {
        let text = edit(SEED);
        let err = parse_report(Path::new("bad.toml"), &text).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().starts_with("bad.toml"), "{err}");
        if let Some(line) = line {
            let found = text.lines().nth(line - 1).unwrap_or("");
            assert_eq!(err.line, Some(line), "{err}; line {line} is {found:?}");
        }
    }

    fn line_containing(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn bad_symbol_is_named_with_its_line() {
        let line = line_containing(SEED, "symbol = \"688041.SH\"");
        check_error(|t| t.replacen("symbol = \"688041.SH\"", "symbol = \"688041.XX\"", 1), Some(line), "688041.XX");
    }

    #[test]
    fn duplicate_company_is_named() {
        let line = line_containing(SEED, "symbol = \"300474.SZ\"");
        check_error(|t| t.replacen("symbol = \"300474.SZ\"", "symbol = \"688041.SH\"", 1), Some(line), "duplicate company 688041.SH");
    }

    #[test]
    fn unknown_sector_member_is_named() {
        check_error(|t| t.replacen("\"688041.SH\",", "\"600000.SH\",", 1), None, "600000.SH, which is not a primary listing");
    }

    #[test]
    fn thresholds_out_of_order() {
        check_error(|t| t.replacen("lower_pp = -10.0", "lower_pp = 12.0", 1), Some(line_containing(SEED, "lower_pp")), "out of order");
    }

    #[test]
    fn missing_rating() {
        check_error(|t| t.replacen("rating = \"看好\"\n", "", 1), None, "missing field `rating`");
    }

    #[test]
    fn bad_date() {
        check_error(
            |t| t.replacen("report_date = 2023-02-14", "report_date = \"2023-02-30\"", 1),
            Some(line_containing(SEED, "report_date")),
            "2023-02-14",
        );
    }

    #[test]
    fn rating_outside_labels() {
        check_error(|t| t.replacen("rating = \"看好\"", "rating = \"买入\"", 1), Some(line_containing(SEED, "rating = ")), "买入");
    }

    /// The seed with its three-threshold rule replaced by `bands` (TOML for `[[rule.bands]]`).
    fn with_bands(bands: &str, rating: &str) -> String {
        let start = SEED.find("upper_pp = 10.0").unwrap();
        let end = SEED.find("[[companies]]").unwrap();
        let text = format!("{}{}\n{}", &SEED[..start], bands, &SEED[end..]);
        text.replacen("rating = \"看好\"", &format!("rating = \"{rating}\""), 1)
    }

    const FIVE_TIERS: &str = r#"
[[rule.bands]]
label = "买入"
label_en = "buy"
min_pp = 15.0

[[rule.bands]]
label = "增持"
label_en = "outperform"
min_pp = 5.0
below_pp = 15.0

[[rule.bands]]
label = "中性"
above_pp = -5.0
below_pp = 5.0

[[rule.bands]]
label = "减持"
label_en = "underperform"
above_pp = -15.0
max_pp = -5.0

[[rule.bands]]
label = "卖出"
label_en = "sell"
max_pp = -15.0
"#;

    #[test]
    fn five_tier_rule_is_read_and_evaluated_at_and_around_each_boundary() {
        let report = parse_report(Path::new("five.toml"), &with_bands(FIVE_TIERS, "增持")).unwrap();
        let rule = &report.rule;
        assert_eq!(rule.bands.len(), 5);
        assert_eq!(report.rating, Rating(1));
        assert_eq!(report.rating_label(), &Label::new("增持", "outperform"));
        // 中性 has no label_en: the Chinese label stands in.
        assert_eq!(rule.bands[2].label, Label::new("中性", "中性"));
        let label = |excess: f64| rule.label(rule.implied(excess)).zh.as_str();
        // Each case: the excess as a fraction, rounded to whole bp (0.01 pp) first.
        for (excess, expected) in [
            (0.15, "买入"),     // 1500 bp: 买入 includes +15 (以上)
            (0.149951, "买入"), // 1499.51 bp rounds to 1500
            (0.14994, "增持"),  // 1499.4 bp rounds to 1499: below +15
            (0.05, "增持"),     // 500 bp: 增持 includes +5
            (0.049951, "增持"), // 499.51 → 500
            (0.0499, "中性"),   // 499 bp
            (0.0, "中性"),
            (-0.0499, "中性"),   // -499 bp
            (-0.05, "减持"),     // -500 bp: 减持 includes -5 (下跌5%以上)
            (-0.049951, "减持"), // -499.51 rounds half away from zero to -500
            (-0.1499, "减持"),   // -1499 bp
            (-0.15, "卖出"),     // -1500 bp: 卖出 includes -15
            (-0.30, "卖出"),
            (0.80, "买入"),
        ] {
            assert_eq!(label(excess), expected, "excess {excess}");
        }
        let boundaries: Vec<(i64, bool)> = rule.boundaries().iter().map(|b| (b.bp, b.belongs_above)).collect();
        assert_eq!(boundaries, [(1500, true), (500, true), (-500, false), (-1500, false)]);
    }

    #[test]
    fn the_seed_threshold_form_means_the_three_bands() {
        let rule = seed().rule;
        let labels = [Label::new("看好", "overweight"), Label::new("中性", "neutral"), Label::new("看淡", "underweight")];
        assert_eq!(rule.bands, three_tier_bands(1000, -1000, labels));
        // Written out as bands, the seed is the same report.
        let bands = r#"
[[rule.bands]]
label = "看好"
label_en = "overweight"
min_pp = 10.0

[[rule.bands]]
label = "中性"
label_en = "neutral"
above_pp = -10.0
below_pp = 10.0

[[rule.bands]]
label = "看淡"
label_en = "underweight"
max_pp = -10.0
"#;
        assert_eq!(parse_report(Path::new("seed.toml"), &with_bands(bands, "看好")).unwrap(), seed());
    }

    #[test]
    fn stored_rules_of_both_forms_read_back() {
        let rule = seed().rule;
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(serde_json::from_str::<RatingRule>(&json).unwrap(), rule);
        // A database written before bands existed holds the thresholds.
        let legacy = r#"{"benchmark":"000300.SH","benchmark_name":"沪深300","horizon_months":6,"upper_bp":1000,"lower_bp":-1000,
            "overweight":{"zh":"看好","en":"overweight"},"neutral":{"zh":"中性","en":"neutral"},"underweight":{"zh":"看淡","en":"underweight"}}"#;
        assert_eq!(serde_json::from_str::<RatingRule>(legacy).unwrap(), rule);
    }

    fn check_bands_error(bands: &str, line_of_needle: &str, needle: &str) {
        let text = with_bands(bands, "看好");
        let err = parse_report(Path::new("bad.toml"), &text).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().starts_with("bad.toml:"), "{err}");
        assert_eq!(err.line, Some(line_containing(&text, line_of_needle)), "{err}");
    }

    const TOP: &str = "[[rule.bands]]\nlabel = \"看好\"\nmin_pp = 10.0\n";
    const BOTTOM: &str = "[[rule.bands]]\nlabel = \"看淡\"\nmax_pp = -10.0\n";

    #[test]
    fn bands_that_overlap_or_leave_a_gap_are_refused_with_the_line() {
        // 中性 up to +12 overlaps 看好 from +10.
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nbelow_pp = 12.0\n";
        check_bands_error(&format!("{TOP}{middle}{BOTTOM}"), "below_pp = 12.0", "overlap from +10 pp to +12 pp");
        // 中性 only up to +8: nothing covers +8 to +10.
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nbelow_pp = 8.0\n";
        check_bands_error(
            &format!("{TOP}{middle}{BOTTOM}"),
            "below_pp = 8.0",
            "gap between bands `看好` and `中性`: nothing covers +8 pp to +10 pp",
        );
        // Both include +10.
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nmax_pp = 10.0\n";
        check_bands_error(&format!("{TOP}{middle}{BOTTOM}"), "max_pp = 10.0", "overlap at +10 pp");
        // Neither includes -10.
        let bottom = "[[rule.bands]]\nlabel = \"看淡\"\nbelow_pp = -10.0\n";
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nbelow_pp = 10.0\n";
        check_bands_error(&format!("{TOP}{middle}{bottom}"), "below_pp = -10.0", "neither includes -10 pp");
        // Listed bottom-up: the top band has an upper bound.
        check_bands_error(&format!("{BOTTOM}{middle}{TOP}"), "max_pp = -10.0", "gap: nothing covers an excess above -10 pp");
        // The bottom band with a lower bound leaves everything under it uncovered.
        let bottom = "[[rule.bands]]\nlabel = \"看淡\"\nmin_pp = -30.0\nmax_pp = -10.0\n";
        check_bands_error(&format!("{TOP}{middle}{bottom}"), "max_pp = -10.0", "nothing covers an excess below -30 pp");
        // One band cannot make a rule; a label twice is refused.
        check_bands_error("[[rule.bands]]\nlabel = \"看好\"\n", "label = \"看好\"", "at least two bands");
        let twice = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nbelow_pp = 10.0\n";
        check_bands_error(&format!("{TOP}{twice}[[rule.bands]]\nlabel = \"看好\"\nmax_pp = -10.0\n"), "max_pp = -10.0", "listed twice");
    }

    #[test]
    fn non_finite_and_conflicting_bounds_are_refused() {
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nabove_pp = -10.0\nbelow_pp = nan\n";
        check_bands_error(&format!("{TOP}{middle}{BOTTOM}"), "below_pp = nan", "below_pp = NaN must be a finite number");
        let top = "[[rule.bands]]\nlabel = \"看好\"\nmin_pp = inf\n";
        check_bands_error(&format!("{top}{BOTTOM}"), "min_pp = inf", "min_pp = inf must be a finite number");
        let middle = "[[rule.bands]]\nlabel = \"中性\"\nmin_pp = -10.0\nabove_pp = -10.0\nbelow_pp = 10.0\n";
        check_bands_error(&format!("{TOP}{middle}{BOTTOM}"), "min_pp = -10.0", "both min_pp and above_pp");
        // The threshold form refuses them too (NaN used to round to 0 bp).
        check_error(|t| t.replacen("upper_pp = 10.0", "upper_pp = nan", 1), Some(line_containing(SEED, "upper_pp")), "finite");
        // Both forms at once, or neither, is an error naming what to do.
        let both = with_bands(FIVE_TIERS, "买入").replacen("[[rule.bands]]", "upper_pp = 10.0\n\n[[rule.bands]]", 1);
        let err = parse_report(Path::new("both.toml"), &both).unwrap_err();
        assert!(err.to_string().contains("drop upper_pp"), "{err}");
        check_error(|t| t.replacen("upper_pp = 10.0\n", "", 1), None, "needs either [[rule.bands]] or all of upper_pp");
    }

    #[rstest::rstest]
    #[case("upper_pp = 10.0", "upper_pp = nan")]
    #[case("upper_pp = 10.0", "upper_pp = inf")]
    #[case("lower_pp = -10.0", "lower_pp = -inf")]
    #[case("lower_pp = -10.0", "lower_pp = -1e300")]
    fn thresholds_must_be_finite(#[case] from: &str, #[case] to: &str) {
        // `nan` used to be stored as 0 pp and `inf` accepted.
        let key = &to[..8];
        check_error(|t| t.replacen(from, to, 1), Some(line_containing(SEED, from)), &format!("{key} = "));
        check_error(|t| t.replacen(from, to, 1), None, "must be a finite number");
    }

    mod never_panic {
        use super::*;
        use proptest::prelude::*;

        /// Places in the seed where a user's edit lands: a symbol, a member, a date, a number.
        const TARGETS: [&str; 6] =
            ["\"688041.SH\"", "report_date = 2023-02-14", "upper_pp = 10.0", "horizon_months = 6", "rating = \"看好\"", "[[sectors]]"];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            /// Any text put in place of a piece of the seed parses or fails with an error that
            /// names the file; never a panic.
            #[test]
            fn edited_report_files_parse_or_fail_cleanly(target in 0..TARGETS.len(), insert in "\\PC{0,16}|[\"=.\\[\\]0-9a-zé数\n-]{0,16}") {
                let text = SEED.replacen(TARGETS[target], &insert, 1);
                if let Err(error) = parse_report(Path::new("edited.toml"), &text) {
                    prop_assert!(error.to_string().starts_with("edited.toml"), "{}", error);
                }
            }

            /// Arbitrary bytes cut from any point of the seed (a truncated file).
            #[test]
            fn truncated_report_files_fail_cleanly(cut in 0..SEED.len()) {
                let end = (0..=cut).rev().find(|&i| SEED.is_char_boundary(i)).unwrap_or(0);
                let _ = parse_report(Path::new("cut.toml"), &SEED[..end]);
            }
        }
    }
}
