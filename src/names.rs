//! Company names → symbols: the security master's types and the name resolver.
//!
//! Pure: the instrument list, the aliases and the listing preference come in as values; no
//! SQL, no HTTP, no files (the shipped alias file is compiled in). `store::Store::instruments`
//! loads the list, `cli::instruments::resolver` puts the three together from the config.
//!
//! # Resolution order
//!
//! Only instruments of kind `stock` ever match a company name: indices (沪深300, 腾讯济安),
//! funds, ETFs and boards are never a company. Steps are tried in this order and the first
//! step that matches anything decides:
//!
//! 1. **Alias** — `data/aliases.toml` (shipped) plus the user's file (`instruments.aliases`),
//!    compared after folding (step 3). An alias is a human decision, so it comes first:
//!    `谷歌 → GOOGL.US`, `运营商 → 中国移动, 中国电信, 中国联通` (several companies: [`Resolution::Many`]).
//! 2. **Exact name** as listed (`海光信息`).
//! 3. **Folded name**: NFKC (full-width letters, digits and punctuation become half-width),
//!    all whitespace removed, lower case (`万  科Ａ` = `万科a`).
//! 4. **Reduced name**: the folded name without a listing suffix (HK `-W` `-SW` `-S` `-B`,
//!    STAR `-U` `-UW` `-WD`) and without trailing legal-form words (股份有限公司, 有限公司,
//!    股份, 集团, 控股, 公司), on both sides: 腾讯 ↔ 腾讯控股, 阿里巴巴 ↔ 阿里巴巴-SW, 商汤 ↔ 商汤-W.
//! 5. **English name**, case-insensitively, without trailing `Inc`, `Corp`, `Ltd`, `Holdings`,
//!    `Group`, `Class A`… (`microsoft` = `Microsoft Corp`).
//! 6. **Ticker**: a name written as a ticker (one to five capital letters, full-width folded,
//!    optionally a class letter after `.` or `-`: `NVDA`, `AAPL`, `BRK.B`) is compared with the
//!    codes of stocks that are not delisted: the code itself, or (for a ticker without a class)
//!    the code with one class letter (`BRK` ↔ `BRK-A`, `BRK-B`). Only when no name matched.
//!
//! A step that matches listings of **one** company gives [`Resolution::Resolved`]; of several
//! companies, [`Resolution::Ambiguous`] with all of them (never a guess); nothing at all,
//! [`Resolution::NotFound`] with suggestions (names containing the query or contained in it).
//!
//! # Companies and listings
//!
//! Listings of one company are found two ways: stocks in *different* venues (A-share, HK, US)
//! with the same reduced name (中国移动 600941.SH and 0941.HK; 百度集团-SW 9888.HK and 百度
//! BIDU.US), unless a venue holds several stocks with that name; and `same_company` lists in
//! the alias files (for listings whose names differ). The listing preference (default
//! A-share > HK > US, config `instruments.prefer`) picks the `primary`; the others are
//! `alternates`, in preference order. A delisted listing is never preferred over a live one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::{IntoEnumIterator, VariantNames};
use unicode_normalization::UnicodeNormalization;

use crate::symbol::{Market, Symbol};
use crate::text::{one_of, quote};

/// What kind of security an instrument is. Only `Stock` matches a company name.
///
/// Text (`Display`, serde, the store): `stock`, `index`, `fund`, `etf`. Parsing is
/// hand-written because it trims and takes aliases (`share`, `equity`, `reit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    Stock,
    Index,
    Fund,
    Etf,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Stock, Kind::Index, Kind::Fund, Kind::Etf];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stock" | "share" | "equity" => Ok(Kind::Stock),
            "index" => Ok(Kind::Index),
            "fund" | "reit" => Ok(Kind::Fund),
            "etf" => Ok(Kind::Etf),
            _ => Err(format!("unknown kind `{}` (expected {})", s.trim(), one_of(Kind::VARIANTS))),
        }
    }
}

/// Whether an instrument still trades. Parsing trims and ignores case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    Listed,
    /// Listed, but not trading today (Eastmoney shows `-` prices).
    Suspended,
    /// No longer in the provider's list.
    Delisted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        Status::iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown listing status `{text}` (expected {})", one_of(Status::VARIANTS)))
    }
}

/// One row of the security master.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instrument {
    pub symbol: Symbol,
    /// The name as listed (`商汤-W`, `阿里巴巴-SW`, `海光信息`).
    pub name: String,
    pub name_en: Option<String>,
    pub kind: Kind,
    pub status: Status,
}

impl Instrument {
    pub fn stock(symbol: Symbol, name: &str, name_en: Option<&str>) -> Instrument {
        Instrument { symbol, name: name.to_string(), name_en: name_en.map(str::to_string), kind: Kind::Stock, status: Status::Listed }
    }
}

/// The three listing venues a company can have, for the listing preference. Parsing is
/// hand-written because it trims and takes aliases (`CN`, `SH`, `SZ` for `A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(strum::IntoStaticStr, strum::VariantNames, strum::EnumIter)]
#[strum(serialize_all = "UPPERCASE")]
pub enum Venue {
    /// Shanghai or Shenzhen A-shares.
    #[serde(rename = "A")]
    A,
    #[serde(rename = "HK")]
    Hk,
    #[serde(rename = "US")]
    Us,
}

impl Venue {
    pub fn of(market: Market) -> Option<Venue> {
        match market {
            Market::Sh | Market::Sz => Some(Venue::A),
            Market::Hk => Some(Venue::Hk),
            Market::Us => Some(Venue::Us),
            Market::Fx => None,
        }
    }
}

impl FromStr for Venue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" | "CN" | "SH" | "SZ" => Ok(Venue::A),
            "HK" => Ok(Venue::Hk),
            "US" => Ok(Venue::Us),
            _ => Err(format!("unknown listing venue `{}` (expected {})", s.trim(), one_of(Venue::VARIANTS))),
        }
    }
}

/// Which listing of a multi-listed company is the primary one: venues in order of preference.
/// Config (`instruments.prefer`) holds one, parsed when the file is read; it is written back
/// as the full order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "Vec<Venue>")]
pub struct ListingPreference(Vec<Venue>);

impl From<ListingPreference> for Vec<Venue> {
    fn from(preference: ListingPreference) -> Vec<Venue> {
        preference.0
    }
}

impl Default for ListingPreference {
    /// A-share > HK > US.
    fn default() -> Self {
        ListingPreference(vec![Venue::A, Venue::Hk, Venue::Us])
    }
}

impl ListingPreference {
    /// From config values such as `["A", "HK", "US"]`; venues left out rank after the named
    /// ones, in the default order.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<ListingPreference, String> {
        let mut order = Vec::new();
        for item in items {
            let venue: Venue = item.as_ref().parse()?;
            if order.contains(&venue) {
                return Err(format!("venue `{}` is listed twice", item.as_ref().trim()));
            }
            order.push(venue);
        }
        for venue in ListingPreference::default().0 {
            if !order.contains(&venue) {
                order.push(venue);
            }
        }
        Ok(ListingPreference(order))
    }

    fn rank(&self, market: Market) -> usize {
        Venue::of(market).and_then(|v| self.0.iter().position(|x| *x == v)).unwrap_or(usize::MAX)
    }

    pub fn venues(&self) -> &[Venue] {
        &self.0
    }
}

/// A company: its preferred listing and its other listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Company {
    pub primary: Symbol,
    /// Other listings of the same company, in preference order.
    pub alternates: Vec<Symbol>,
    /// The primary listing's name as listed (`百度集团-SW`); for an alias to a symbol the
    /// instrument list lacks, the alias itself.
    pub name: String,
    /// The first English name among the listings, primary first.
    pub name_en: Option<String>,
}

/// A single listing offered to the user (suggestions, `instruments find`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub symbol: Symbol,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: Kind,
    pub status: Status,
}

impl From<&Instrument> for Candidate {
    fn from(i: &Instrument) -> Candidate {
        Candidate { symbol: i.symbol.clone(), name: i.name.clone(), name_en: i.name_en.clone(), kind: i.kind, status: i.status }
    }
}

/// The answer to "which security is this name?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Resolution {
    /// Exactly one company.
    Resolved(Company),
    /// An alias that stands for several companies (运营商 → the three carriers).
    Many { companies: Vec<Company> },
    /// Several companies match equally well: all of them, never a guess.
    Ambiguous { candidates: Vec<Company> },
    /// Nothing matches; listings whose names contain the query (or are contained in it).
    NotFound { suggestions: Vec<Candidate> },
}

/// Which step of the resolution order matched (see the module documentation).
/// Serialized (JSON) as the variant's name; [`Step::as_str`] is the phrase messages show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[strum(serialize = "alias")]
    Alias,
    #[strum(serialize = "exact name")]
    Exact,
    #[strum(serialize = "folded name")]
    Folded,
    #[strum(serialize = "name without suffix or legal form")]
    Reduced,
    #[strum(serialize = "English name")]
    English,
    #[strum(serialize = "ticker")]
    Ticker,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why an alias file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("alias file {origin}: {message}")]
pub struct AliasError {
    pub origin: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasFile {
    #[serde(default)]
    same_company: Vec<Vec<Symbol>>,
    #[serde(default)]
    aliases: BTreeMap<String, OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Symbol),
    Many(Vec<Symbol>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Alias {
    name: String,
    targets: Vec<Symbol>,
    /// `true` when the alias names several companies (a list in the file).
    many: bool,
}

/// Names no list carries, and listings of one company whose names differ.
///
/// File format (TOML; see `data/aliases.toml`):
///
/// ```toml
/// same_company = [["688385.SH", "1385.HK"]]
/// [aliases]
/// 谷歌 = "GOOGL.US"                                   # one company
/// 运营商 = ["600941.SH", "601728.SH", "600050.SH"]      # several companies
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Aliases {
    by_key: BTreeMap<String, Alias>,
    same_company: Vec<Vec<Symbol>>,
}

/// The shipped alias file, compiled in.
pub const SHIPPED_ALIASES: &str = include_str!("../data/aliases.toml");

impl Aliases {
    /// Parses an alias file's text; `origin` names it in errors (its path).
    pub fn parse(text: &str, origin: &str) -> Result<Aliases, AliasError> {
        let file: AliasFile = toml::from_str(text).map_err(|e| AliasError { origin: origin.to_string(), message: e.to_string() })?;
        let mut aliases = Aliases { by_key: BTreeMap::new(), same_company: Vec::new() };
        for (name, target) in file.aliases {
            let key = fold(&name);
            if key.is_empty() {
                return Err(AliasError { origin: origin.to_string(), message: format!("alias `{}` is empty once folded", quote(&name)) });
            }
            let (targets, many) = match target {
                OneOrMany::One(symbol) => (vec![symbol], false),
                OneOrMany::Many(symbols) => (symbols, true),
            };
            if targets.is_empty() {
                return Err(AliasError { origin: origin.to_string(), message: format!("alias `{}` names no symbol", quote(&name)) });
            }
            if let Some(previous) = aliases.by_key.get(&key) {
                return Err(AliasError {
                    origin: origin.to_string(),
                    message: format!("aliases `{}` and `{}` are the same name once folded", quote(&previous.name), quote(&name)),
                });
            }
            aliases.by_key.insert(key, Alias { name, targets, many });
        }
        for group in file.same_company {
            if group.len() < 2 {
                return Err(AliasError {
                    origin: origin.to_string(),
                    message: "a same_company list needs two or more symbols".to_string(),
                });
            }
            aliases.same_company.push(group);
        }
        Ok(aliases)
    }

    /// The shipped `data/aliases.toml`.
    pub fn shipped() -> Result<Aliases, AliasError> {
        Aliases::parse(SHIPPED_ALIASES, "data/aliases.toml (shipped)")
    }

    /// Adds `other`'s entries; where both name the same alias, `other` wins (the user's file
    /// overrides the shipped one).
    pub fn extend(&mut self, other: Aliases) {
        self.by_key.extend(other.by_key);
        self.same_company.extend(other.same_company);
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Step 3's folding: NFKC, whitespace removed, lower case, dash variants as `-`.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => '-',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

const LISTING_SUFFIXES: [&str; 9] = ["-swr", "-uwd", "-sw", "-uw", "-wd", "-w", "-s", "-b", "-u"];
const LEGAL_FORMS: [&str; 7] = ["股份有限公司", "有限责任公司", "有限公司", "股份", "集团", "控股", "公司"];

/// Step 4's reduction: the folded name without listing suffixes and trailing legal-form words.
/// Never reduces a name to nothing: `集团` stays `集团`.
pub fn reduce(text: &str) -> String {
    let folded = fold(text);
    let mut key = folded.as_str();
    loop {
        let before = key;
        for suffix in LISTING_SUFFIXES {
            if let Some(rest) = key.strip_suffix(suffix).filter(|r| !r.is_empty()) {
                key = rest;
                break;
            }
        }
        for form in LEGAL_FORMS {
            if let Some(rest) = key.strip_suffix(form).filter(|r| !r.is_empty()) {
                key = rest;
                break;
            }
        }
        if let Some(rest) = key.strip_suffix("(集团)").filter(|r| !r.is_empty()) {
            key = rest;
        }
        if key == before {
            break;
        }
    }
    key.to_string()
}

const ENGLISH_FORMS: [&str; 16] = [
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "holdings",
    "holding",
    "group",
    "plc",
    "adr",
    "sa",
    "ag",
    "nv",
];

/// Step 5's key: lower-case ASCII words without trailing legal forms and share classes.
/// Empty when the text has no ASCII letters.
pub fn english_key(text: &str) -> String {
    let normal: String = text.nfkc().flat_map(char::to_lowercase).collect();
    let mut words: Vec<&str> = normal.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    loop {
        let n = words.len();
        if n >= 2 && words[n - 2] == "class" && words[n - 1].len() == 1 {
            words.truncate(n - 2);
        } else if n >= 2 && ENGLISH_FORMS.contains(&words[n - 1]) {
            words.truncate(n - 1);
        } else {
            break;
        }
    }
    if words.first() == Some(&"the") && words.len() > 1 {
        words.remove(0);
    }
    if !words.iter().any(|w| w.bytes().any(|b| b.is_ascii_alphabetic())) {
        return String::new();
    }
    words.join(" ")
}

/// Step 6's query: the name as a ticker (`NVDA`, `BRK-B`), when it is written as one: one to
/// five capital ASCII letters after NFKC, optionally `.` or `-` and one capital letter (the
/// share class, written `-` as symbols are). `None` for anything else (`Apple`, `nvda`, `中芯`).
pub fn ticker_word(text: &str) -> Option<String> {
    let normal: String = text.trim().nfkc().collect();
    let (base, class) = match normal.split_once(['.', '-']) {
        Some((base, class)) => (base, Some(class)),
        None => (normal.as_str(), None),
    };
    let capitals = |s: &str| s.bytes().all(|b| b.is_ascii_uppercase());
    if !(1..=5).contains(&base.len()) || !capitals(base) {
        return None;
    }
    match class {
        None => Some(base.to_string()),
        Some(class) if class.len() == 1 && capitals(class) => Some(format!("{base}-{class}")),
        Some(_) => None,
    }
}

/// Whether a stock's symbol has the ticker as its code, or (for a ticker without a class) as
/// its code less one class letter.
fn ticker_matches(ticker: &str, symbol: &Symbol) -> bool {
    let code = symbol.code();
    code == ticker
        || (!ticker.contains('-')
            && code.strip_prefix(ticker).and_then(|rest| rest.strip_prefix('-')).is_some_and(|class| class.len() == 1))
}

struct Keys {
    folded: String,
    reduced: String,
    english: Vec<String>,
}

/// Resolves company names against a security master. Build once, ask many times.
pub struct Resolver {
    instruments: Vec<Instrument>,
    keys: Vec<Keys>,
    by_symbol: HashMap<Symbol, usize>,
    /// The company of each stock instrument (index into `companies`); `None` for non-stocks.
    company_of: Vec<Option<usize>>,
    /// Each company's listings (instrument indices), primary first.
    companies: Vec<Vec<usize>>,
    aliases: Aliases,
}

impl Resolver {
    /// Builds the resolver. Instruments are taken in symbol order; a symbol given twice keeps
    /// its first row.
    pub fn new(mut instruments: Vec<Instrument>, aliases: Aliases, preference: &ListingPreference) -> Resolver {
        instruments.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        instruments.dedup_by(|later, first| later.symbol == first.symbol);
        let keys: Vec<Keys> = instruments
            .iter()
            .map(|i| Keys {
                folded: fold(&i.name),
                reduced: reduce(&i.name),
                english: [Some(i.name.as_str()), i.name_en.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(english_key)
                    .filter(|k| !k.is_empty())
                    .collect(),
            })
            .collect();
        let by_symbol: HashMap<Symbol, usize> = instruments.iter().enumerate().map(|(i, inst)| (inst.symbol.clone(), i)).collect();

        // Union-find over stocks: same reduced name in different venues, and same_company lists.
        let mut parent: Vec<usize> = (0..instruments.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        fn union(parent: &mut [usize], a: usize, b: usize) {
            let (ra, rb) = (root(parent, a), root(parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        let is_stock = |i: usize| instruments[i].kind == Kind::Stock;
        let mut by_reduced: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            if is_stock(i) && Venue::of(instruments[i].symbol.market()).is_some() {
                by_reduced.entry(k.reduced.as_str()).or_default().push(i);
            }
        }
        for members in by_reduced.values() {
            let venues: Vec<Option<Venue>> = members.iter().map(|&i| Venue::of(instruments[i].symbol.market())).collect();
            let distinct: BTreeSet<_> = venues.iter().collect();
            if members.len() > 1 && distinct.len() == members.len() {
                for &m in &members[1..] {
                    union(&mut parent, members[0], m);
                }
            }
        }
        for group in &aliases.same_company {
            let present: Vec<usize> = group.iter().filter_map(|s| by_symbol.get(s).copied()).filter(|&i| is_stock(i)).collect();
            for &m in present.iter().skip(1) {
                union(&mut parent, present[0], m);
            }
        }
        let mut company_of = vec![None; instruments.len()];
        let mut companies: Vec<Vec<usize>> = Vec::new();
        let mut company_by_root: HashMap<usize, usize> = HashMap::new();
        for (i, slot) in company_of.iter_mut().enumerate() {
            if !is_stock(i) {
                continue;
            }
            let r = root(&mut parent, i);
            let c = *company_by_root.entry(r).or_insert_with(|| {
                companies.push(Vec::new());
                companies.len() - 1
            });
            companies[c].push(i);
            *slot = Some(c);
        }
        for members in &mut companies {
            members.sort_by_key(|&i| {
                let inst = &instruments[i];
                (inst.status == Status::Delisted, preference.rank(inst.symbol.market()), inst.symbol.clone())
            });
        }
        Resolver { instruments, keys, by_symbol, company_of, companies, aliases }
    }

    /// How many instruments the resolver knows.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// Resolves a company name (see the module documentation for the order).
    pub fn resolve(&self, name: &str) -> Resolution {
        self.resolve_with_step(name).0
    }

    /// [`Resolver::resolve`], also saying which step matched (`None` for not found).
    pub fn resolve_with_step(&self, name: &str) -> (Resolution, Option<Step>) {
        let query = name.trim();
        let folded = fold(query);
        if folded.is_empty() {
            return (Resolution::NotFound { suggestions: Vec::new() }, None);
        }
        if let Some(alias) = self.aliases.by_key.get(&folded) {
            let mut seen = BTreeSet::new();
            let mut companies = Vec::new();
            for target in &alias.targets {
                let company = self.company_of_symbol(target, &alias.name);
                if seen.insert(company.primary.clone()) {
                    companies.push(company);
                }
            }
            let resolution = if alias.many { Resolution::Many { companies } } else { Resolution::Resolved(companies.remove(0)) };
            return (resolution, Some(Step::Alias));
        }
        let reduced = reduce(query);
        let english = english_key(query);
        let ticker = ticker_word(query);
        let steps: [(Step, &dyn Fn(usize) -> bool); 5] = [
            (Step::Exact, &|i| self.instruments[i].name.trim() == query),
            (Step::Folded, &|i| self.keys[i].folded == folded),
            (Step::Reduced, &|i| self.keys[i].reduced == reduced),
            (Step::English, &|i| !english.is_empty() && self.keys[i].english.contains(&english)),
            (Step::Ticker, &|i| {
                let instrument = &self.instruments[i];
                ticker.as_deref().is_some_and(|t| instrument.status != Status::Delisted && ticker_matches(t, &instrument.symbol))
            }),
        ];
        for (step, matches) in steps {
            let hits: BTreeSet<usize> = (0..self.instruments.len()).filter(|&i| matches(i)).filter_map(|i| self.company_of[i]).collect();
            match hits.len() {
                0 => continue,
                1 => return (Resolution::Resolved(self.company(hits.into_iter().next().unwrap_or_default())), Some(step)),
                _ => return (Resolution::Ambiguous { candidates: hits.into_iter().map(|c| self.company(c)).collect() }, Some(step)),
            }
        }
        (Resolution::NotFound { suggestions: self.suggest(&reduced, &english, 10) }, None)
    }

    /// The company a listing belongs to (with its other listings), if the list has it as a stock.
    pub fn company_of(&self, symbol: &Symbol) -> Option<Company> {
        let i = *self.by_symbol.get(symbol)?;
        self.company_of[i].map(|c| self.company(c))
    }

    /// An alias target: its company when the list has it as a stock (the alias names the
    /// company, the listing preference still picks the primary), else the bare listing.
    fn company_of_symbol(&self, symbol: &Symbol, alias_name: &str) -> Company {
        if let Some(company) = self.company_of(symbol) {
            return company;
        }
        match self.by_symbol.get(symbol) {
            Some(&i) => {
                let inst = &self.instruments[i];
                Company { primary: symbol.clone(), alternates: Vec::new(), name: inst.name.clone(), name_en: inst.name_en.clone() }
            }
            None => Company { primary: symbol.clone(), alternates: Vec::new(), name: alias_name.to_string(), name_en: None },
        }
    }

    fn company(&self, c: usize) -> Company {
        let members = &self.companies[c];
        let primary = &self.instruments[members[0]];
        Company {
            primary: primary.symbol.clone(),
            alternates: members[1..].iter().map(|&i| self.instruments[i].symbol.clone()).collect(),
            name: primary.name.clone(),
            name_en: members.iter().find_map(|&i| self.instruments[i].name_en.clone()),
        }
    }

    fn suggest(&self, reduced: &str, english: &str, limit: usize) -> Vec<Candidate> {
        let mut scored: Vec<(bool, usize, &Symbol, usize)> = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            let name_hit = reduced.chars().count() >= 2
                && k.reduced.chars().count() >= 2
                && (k.reduced.contains(reduced) || reduced.contains(k.reduced.as_str()));
            let english_hit =
                english.len() >= 3 && k.english.iter().any(|e| e.contains(english) || (e.len() >= 3 && english.contains(e.as_str())));
            if name_hit || english_hit {
                let distance = k.reduced.chars().count().abs_diff(reduced.chars().count());
                scored.push((self.instruments[i].kind != Kind::Stock, distance, &self.instruments[i].symbol, i));
            }
        }
        scored.sort();
        scored.into_iter().take(limit).map(|(_, _, _, i)| Candidate::from(&self.instruments[i])).collect()
    }

    /// Listings of any kind matching a query, for `instruments find`: the symbol itself, names
    /// or English names containing the query (folded). Best first: the resolved company's
    /// listings, then stocks, then closer names.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Candidate> {
        let folded = fold(query);
        if folded.is_empty() {
            return Vec::new();
        }
        let symbol = Symbol::parse(query).ok();
        let english = english_key(query);
        let resolved: Vec<Symbol> = match self.resolve(query) {
            Resolution::Resolved(c) => std::iter::once(c.primary).chain(c.alternates).collect(),
            Resolution::Many { companies } | Resolution::Ambiguous { candidates: companies } => {
                companies.into_iter().flat_map(|c| std::iter::once(c.primary).chain(c.alternates)).collect()
            }
            Resolution::NotFound { .. } => Vec::new(),
        };
        let mut scored: Vec<(usize, bool, usize, &Symbol, usize)> = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            let inst = &self.instruments[i];
            let rank = resolved.iter().position(|s| *s == inst.symbol);
            let hit = rank.is_some()
                || symbol.as_ref() == Some(&inst.symbol)
                || k.folded.contains(&folded)
                || (!english.is_empty() && k.english.iter().any(|e| e.contains(&english)));
            if hit {
                let distance = k.folded.chars().count().abs_diff(folded.chars().count());
                scored.push((rank.unwrap_or(usize::MAX), inst.kind != Kind::Stock, distance, &inst.symbol, i));
            }
        }
        scored.sort();
        scored.into_iter().take(limit).map(|(_, _, _, _, i)| Candidate::from(&self.instruments[i])).collect()
    }
}

pub mod import;

#[cfg(test)]
mod tests;
