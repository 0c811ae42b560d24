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

/// The three ratings a rule can imply, in the report's words via [`RatingRule::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Overweight,
    Neutral,
    Underweight,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

/// How the report defines its rating against a benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingRule {
    pub benchmark: Symbol,
    pub benchmark_name: String,
    pub horizon_months: u32,
    /// Excess at or above this many basis points implies overweight (1000 = +10 pp).
    pub upper_bp: i64,
    /// Excess at or below this many basis points implies underweight (−1000 = −10 pp).
    pub lower_bp: i64,
    pub overweight: Label,
    pub neutral: Label,
    pub underweight: Label,
}

impl RatingRule {
    /// T1: the report date plus the horizon in calendar months (clamped to the month's end).
    pub fn horizon_end(&self, report_date: NaiveDate) -> NaiveDate {
        report_date.checked_add_months(Months::new(self.horizon_months)).unwrap_or(NaiveDate::MAX)
    }

    /// The rating an excess return implies. The excess (a fraction, 0.1 = 10 pp) is first
    /// rounded to whole basis points so floating-point noise never flips a label; the bounds
    /// are inclusive (以上/以下).
    pub fn implied(&self, excess: f64) -> Rating {
        let bp = to_basis_points(excess);
        if bp >= self.upper_bp {
            Rating::Overweight
        } else if bp <= self.lower_bp {
            Rating::Underweight
        } else {
            Rating::Neutral
        }
    }

    pub fn label(&self, rating: Rating) -> &Label {
        match rating {
            Rating::Overweight => &self.overweight,
            Rating::Neutral => &self.neutral,
            Rating::Underweight => &self.underweight,
        }
    }

    /// Finds the rating a label (Chinese or English, any case) stands for.
    pub fn rating_for_label(&self, text: &str) -> Option<Rating> {
        [Rating::Overweight, Rating::Neutral, Rating::Underweight].into_iter().find(|&rating| {
            let label = self.label(rating);
            label.zh == text || label.en.eq_ignore_ascii_case(text)
        })
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    benchmark: Spanned<String>,
    benchmark_name: String,
    horizon_months: Spanned<u32>,
    upper_pp: Spanned<f64>,
    lower_pp: Spanned<f64>,
    labels: FileLabels,
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
    name_en: String,
    #[serde(default)]
    alternates: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSector {
    name: Spanned<String>,
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

    // NaN once became 0 pp through the cast below, and inf saturated; both are refused.
    for (key, threshold) in [("upper_pp", &raw.rule.upper_pp), ("lower_pp", &raw.rule.lower_pp)] {
        let value = *threshold.get_ref();
        if !(value.is_finite() && value.abs() <= MAX_THRESHOLD_PP) {
            return Err(fail(
                Some(threshold.span()),
                format!(
                    "{key} = {value} must be a finite number of percentage points between -{MAX_THRESHOLD_PP} and {MAX_THRESHOLD_PP} (example: {key} = 10.0)"
                ),
            ));
        }
    }
    let upper_bp = (raw.rule.upper_pp.get_ref() * 100.0).round() as i64;
    let lower_bp = (raw.rule.lower_pp.get_ref() * 100.0).round() as i64;
    if lower_bp >= upper_bp {
        return Err(fail(
            Some(raw.rule.lower_pp.span()),
            format!(
                "thresholds out of order: lower_pp {} must be below upper_pp {}",
                raw.rule.lower_pp.get_ref(),
                raw.rule.upper_pp.get_ref()
            ),
        ));
    }
    if *raw.rule.horizon_months.get_ref() == 0 || *raw.rule.horizon_months.get_ref() > 120 {
        return Err(fail(Some(raw.rule.horizon_months.span()), "horizon_months must be between 1 and 120".to_string()));
    }
    let label = |l: FileLabel| Label { zh: l.zh, en: l.en };
    let rule = RatingRule {
        benchmark: symbol(&raw.rule.benchmark)?,
        benchmark_name: raw.rule.benchmark_name,
        horizon_months: *raw.rule.horizon_months.get_ref(),
        upper_bp,
        lower_bp,
        overweight: label(raw.rule.labels.overweight),
        neutral: label(raw.rule.labels.neutral),
        underweight: label(raw.rule.labels.underweight),
    };
    let rating = rule.rating_for_label(raw.rating.get_ref()).ok_or_else(|| {
        fail(
            Some(raw.rating.span()),
            format!(
                "rating `{}` is not one of the rule's labels ({}, {}, {})",
                raw.rating.get_ref(),
                rule.overweight.zh,
                rule.neutral.zh,
                rule.underweight.zh
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
    fn seed_report_matches_the_spec_table() {
        let report = seed();
        assert_eq!(report.companies.len(), 45);
        assert_eq!(report.sectors.len(), 5);
        assert_eq!(report.report_date, NaiveDate::from_ymd_opt(2023, 2, 14).unwrap());
        assert_eq!(report.horizon_end(), NaiveDate::from_ymd_opt(2023, 8, 14).unwrap());
        assert_eq!(report.rating, Rating::Overweight);
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
        assert_eq!(rule.implied(0.10), Rating::Overweight);
        // 0.1 - 1e-12 is floating-point noise below 10.00 pp: still 看好.
        assert_eq!(rule.implied(0.1 - 1e-12), Rating::Overweight);
        assert_eq!(rule.implied(0.09994), Rating::Neutral); // 999.4 bp rounds to 999
        assert_eq!(rule.implied(-0.10), Rating::Underweight);
        assert_eq!(rule.implied(-0.0999), Rating::Neutral);
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
