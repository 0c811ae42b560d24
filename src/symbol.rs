//! The canonical security identifier, `CODE.MARKET`, and forgiving parsing of user input.
//!
//! Invariants: a [`Symbol`] is always canonical (`600941.SH`, `0700.HK`, `MSFT.US`,
//! `USDCNY.FX`, `^HSI.HK`); every other module trusts that and never re-validates. Providers
//! map a `Symbol` to their own spelling; users may type any of the forms listed in
//! [`Symbol::parse`].
//!
//! Indices: Shanghai and Shenzhen indices are ordinary six-digit codes (`000300.SH`,
//! `399006.SZ`). Hong Kong and US indices carry a caret, as Yahoo writes them, so they can
//! never be read as a share: `^HSI.HK` (Hang Seng), `^GSPC.US` (S&P 500), `^IXIC.US` (NASDAQ
//! Composite), `^DJI.US` (Dow Jones Industrial Average). Only the indices in
//! [`GLOBAL_INDICES`] exist; each is quoted in its market's currency (HKD, USD).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A market a security trades on. `Fx` holds currency pairs such as `USDCNY`.
///
/// Printed as the canonical suffix (`SH`); parsed in any case, also from the suffixes other
/// sites use (`SS`, `SSE`, `O`, `NASDAQ`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[strum(ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_market)]
pub enum Market {
    #[strum(to_string = "SH", serialize = "SS", serialize = "SSE")]
    Sh,
    #[strum(to_string = "SZ", serialize = "SZSE")]
    Sz,
    #[strum(to_string = "HK", serialize = "HKEX")]
    Hk,
    #[strum(
        to_string = "US",
        serialize = "O",
        serialize = "OQ",
        serialize = "N",
        serialize = "AM",
        serialize = "NASDAQ",
        serialize = "NYSE"
    )]
    Us,
    #[strum(to_string = "FX")]
    Fx,
}

fn unknown_market(text: &str) -> String {
    format!("unknown market `{text}` (expected {})", crate::text::one_of(<Market as strum::VariantNames>::VARIANTS))
}

impl Market {
    pub const ALL: [Market; 5] = [Market::Sh, Market::Sz, Market::Hk, Market::Us, Market::Fx];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The currency prices on this market are quoted in. For FX pairs it is the quote
    /// currency (CNY for `USDCNY.FX`): all seed pairs convert into CNY.
    pub fn currency(self) -> Currency {
        match self {
            Market::Sh | Market::Sz | Market::Fx => Currency::Cny,
            Market::Hk => Currency::Hkd,
            Market::Us => Currency::Usd,
        }
    }

    /// The exchange's own time zone; a bar's date is a trading date in this zone.
    pub fn timezone(self) -> chrono_tz::Tz {
        match self {
            Market::Sh | Market::Sz | Market::Fx => chrono_tz::Asia::Shanghai,
            Market::Hk => chrono_tz::Asia::Hong_Kong,
            Market::Us => chrono_tz::America::New_York,
        }
    }

    /// The market of a suffix in any spelling `FromStr` takes, or `None`.
    pub fn from_suffix(s: &str) -> Option<Market> {
        s.parse().ok()
    }
}

/// The currencies the product converts between. Parsed in any case; `RMB` is CNY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "UPPERCASE")]
#[strum(serialize_all = "UPPERCASE", ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_currency)]
pub enum Currency {
    #[strum(to_string = "CNY", serialize = "RMB")]
    Cny,
    Hkd,
    Usd,
}

fn unknown_currency(text: &str) -> String {
    format!("unknown currency `{text}` (expected {})", crate::text::one_of(<Currency as strum::VariantNames>::VARIANTS))
}

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Cny, Currency::Hkd, Currency::Usd];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The FX series that converts this currency into CNY, or `None` for CNY itself.
    pub fn cny_pair(self) -> Option<Symbol> {
        match self {
            Currency::Cny => None,
            Currency::Hkd => Some(Symbol::new_unchecked("HKDCNY", Market::Fx)),
            Currency::Usd => Some(Symbol::new_unchecked("USDCNY", Market::Fx)),
        }
    }
}

/// A Hong Kong or US index the product can price: its canonical code (with the caret), its
/// market and names, and the other spellings parsing accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct GlobalIndex {
    /// The canonical code, `^HSI`.
    pub code: &'static str,
    pub market: Market,
    /// The Chinese name reports use, `恒生指数`.
    pub name: &'static str,
    pub name_en: &'static str,
    /// Codes accepted after an index marker (`^X`, Sina's `.X`, `X.HK`), besides the code itself.
    marked: &'static [&'static str],
    /// Codes accepted with no marker at all (`HSI`, `SPX`, `X.US`): only those no share uses.
    bare: &'static [&'static str],
    /// Tencent's own spelling (`hkHSI`, `usINX`): what `providers::tencent` requests, and
    /// accepted as input, also with a dot (`us.INX`).
    pub tencent: &'static str,
    /// Eastmoney's code under its global-index market `100` (secid `100.HSI`). Eastmoney's
    /// `NDX` is the NASDAQ **Composite** (its quote centre lists it as 纳斯达克, next to
    /// `100.NDX100`, 纳斯达克100), not the NASDAQ-100 other vendors call NDX; the Dow is `DJIA`.
    pub eastmoney: &'static str,
}

/// The Hong Kong and US indices the product knows: the benchmarks Chinese reports name for
/// those markets. `DJIA` is only taken after a marker (`^DJIA`): bare, it is a US ETF.
/// NASDAQ-100 (`^NDX`) is deliberately absent: reports benchmark US stocks on the Composite.
pub const GLOBAL_INDICES: [GlobalIndex; 4] = [
    GlobalIndex {
        code: "^HSI",
        market: Market::Hk,
        name: "恒生指数",
        name_en: "Hang Seng Index",
        marked: &["HSI"],
        bare: &["HSI"],
        tencent: "hkHSI",
        eastmoney: "HSI",
    },
    GlobalIndex {
        code: "^GSPC",
        market: Market::Us,
        name: "标普500",
        name_en: "S&P 500",
        marked: &["GSPC", "SPX", "INX"],
        bare: &["GSPC", "SPX"],
        tencent: "usINX",
        eastmoney: "SPX",
    },
    GlobalIndex {
        code: "^IXIC",
        market: Market::Us,
        name: "纳斯达克综合指数",
        name_en: "NASDAQ Composite",
        marked: &["IXIC"],
        bare: &["IXIC"],
        tencent: "usIXIC",
        eastmoney: "NDX",
    },
    GlobalIndex {
        code: "^DJI",
        market: Market::Us,
        name: "道琼斯工业平均指数",
        name_en: "Dow Jones Industrial Average",
        marked: &["DJI", "DJIA"],
        bare: &[],
        tencent: "usDJI",
        eastmoney: "DJIA",
    },
];

impl GlobalIndex {
    /// The canonical symbol, `^HSI.HK`.
    pub fn symbol(&self) -> Symbol {
        Symbol::new_unchecked(self.code, self.market)
    }

    fn accepts(&self, code: &str, marked: bool) -> bool {
        let code = code.to_ascii_uppercase();
        let without_caret = code.strip_prefix('^').unwrap_or(&code);
        let aliases = if marked || code.starts_with('^') { self.marked } else { self.bare };
        self.code[1..] == *without_caret || aliases.contains(&without_caret)
    }

    /// The index a code names on a market: `^HSI`/`HSI` on HK, `^GSPC`/`SPX` on US.
    /// `marked` says the input carried an index marker (`^`, a leading `.`, `.HK` on letters).
    fn find(code: &str, market: Option<Market>, marked: bool) -> Option<&'static GlobalIndex> {
        GLOBAL_INDICES.iter().find(|index| market.is_none_or(|m| m == index.market) && index.accepts(code, marked))
    }

    /// The index Tencent spells `hkHSI`, `usINX` or `us.INX`.
    fn from_tencent(text: &str) -> Option<&'static GlobalIndex> {
        GLOBAL_INDICES.iter().find(|index| {
            let (prefix, code) = index.tencent.split_at(2);
            text.eq_ignore_ascii_case(index.tencent) || text.eq_ignore_ascii_case(&format!("{prefix}.{code}"))
        })
    }

    /// Every known index's canonical symbol, for messages: `^HSI.HK, ^GSPC.US, …`.
    fn known() -> String {
        GLOBAL_INDICES.iter().map(|index| format!("{}.{}", index.code, index.market)).collect::<Vec<_>>().join(", ")
    }
}

/// Why a piece of text is not a symbol. The message always shows valid examples.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a symbol: {reason} (valid forms: 600941.SH, 300308.SZ, 0700.HK, MSFT.US, USDCNY.FX, ^HSI.HK)")]
pub struct SymbolError {
    pub input: String,
    pub reason: String,
}

/// A canonical `CODE.MARKET` symbol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    code: String,
    market: Market,
}

const KNOWN_CURRENCIES: [&str; 10] = ["USD", "CNY", "HKD", "CNH", "EUR", "JPY", "GBP", "AUD", "CAD", "CHF"];

impl Symbol {
    fn new_unchecked(code: &str, market: Market) -> Symbol {
        Symbol { code: code.to_string(), market }
    }

    /// Builds a symbol from a code and a market, validating and normalising the code
    /// (`700` on HK becomes `0700`).
    pub fn new(code: &str, market: Market) -> Result<Symbol, SymbolError> {
        let err = |reason: &str| SymbolError { input: crate::text::quote(&format!("{code}.{market}")), reason: reason.to_string() };
        let code = code.trim();
        match market {
            Market::Sh | Market::Sz => {
                if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(Symbol::new_unchecked(code, market))
                } else {
                    Err(err("Shanghai and Shenzhen codes have 6 digits"))
                }
            }
            Market::Hk if code.bytes().any(|b| !b.is_ascii_digit()) => match GlobalIndex::find(code, Some(market), true) {
                Some(index) => Ok(index.symbol()),
                None => Err(err(&format!(
                    "Hong Kong codes have 1 to 5 digits; the Hong Kong index is ^HSI (known indices: {})",
                    GlobalIndex::known()
                ))),
            },
            Market::Us if code.starts_with('^') => match GlobalIndex::find(code, Some(market), true) {
                Some(index) => Ok(index.symbol()),
                None => Err(err(&format!("unknown index (known indices: {})", GlobalIndex::known()))),
            },
            Market::Hk => {
                // Only digits reach here (letters are an index, above).
                if code.is_empty() || code.len() > 5 {
                    return Err(err("Hong Kong codes have 1 to 5 digits"));
                }
                let trimmed = code.trim_start_matches('0');
                if trimmed.is_empty() {
                    return Err(err("Hong Kong code 0 does not exist"));
                }
                Ok(Symbol { code: format!("{trimmed:0>4}"), market })
            }
            Market::Us => {
                if let Some(index) = GlobalIndex::find(code, Some(market), false) {
                    return Ok(index.symbol());
                }
                let valid = !code.is_empty()
                    && code.len() <= 10
                    && code.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if valid {
                    Ok(Symbol { code: code.to_ascii_uppercase().replace('.', "-"), market })
                } else {
                    Err(err("US tickers are letters, optionally with a class suffix like BRK-B"))
                }
            }
            Market::Fx => {
                let upper = code.to_ascii_uppercase();
                let valid = upper.len() == 6
                    && upper.is_ascii()
                    && KNOWN_CURRENCIES.contains(&&upper[..3])
                    && KNOWN_CURRENCIES.contains(&&upper[3..]);
                if valid { Ok(Symbol { code: upper, market }) } else { Err(err("FX pairs are two currency codes, like USDCNY")) }
            }
        }
    }

    /// Parses any of the forms users and providers write:
    /// `600941.SH`, `600941.SS`, `sh600941`, `600941` (SH for 6/9 codes, SZ for 0/2/3),
    /// `0700.HK`, `00700.HK`, `700.hk`, `hk00700`, `MSFT.US`, `msft`, `usMSFT.OQ`, `BABA.N`,
    /// `USDCNY.FX`, `usdcny`, `CNY=X`, `HKDCNY=X`.
    pub fn parse(input: &str) -> Result<Symbol, SymbolError> {
        let raw = input.trim();
        let fail = |reason: &str| SymbolError { input: crate::text::quote(raw), reason: reason.to_string() };
        if raw.is_empty() {
            return Err(fail("empty"));
        }
        if let Some(found) = Symbol::parse_index(raw) {
            return found.map_err(|reason| fail(&reason));
        }
        // Yahoo FX spellings.
        if let Some(pair) = raw.strip_suffix("=X").or_else(|| raw.strip_suffix("=x")) {
            let pair = if pair.len() == 3 { format!("USD{pair}") } else { pair.to_string() };
            return Symbol::new(&pair, Market::Fx).map_err(|e| fail(&e.reason));
        }
        // CODE.SUFFIX forms; the suffix names the market.
        if let Some((code, suffix)) = raw.rsplit_once('.') {
            if let Some(market) = Market::from_suffix(suffix) {
                // Tencent's US form `usMSFT.OQ` carries a prefix as well.
                let code = if market == Market::Us {
                    code.strip_prefix("us").or_else(|| code.strip_prefix("US")).filter(|c| !c.is_empty()).unwrap_or(code)
                } else {
                    code
                };
                return Symbol::new(code, market).map_err(|e| fail(&e.reason));
            }
            // `BRK.B` style class suffixes on US tickers.
            if suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_alphabetic()) && code.chars().all(|c| c.is_ascii_alphabetic()) {
                return Symbol::new(&format!("{code}-{suffix}"), Market::Us).map_err(|e| fail(&e.reason));
            }
            return Err(fail(&format!("unknown market suffix `.{suffix}`")));
        }
        // Prefix forms: sh600941, sz300308, hk00700, wh/fx pairs.
        let lower = raw.to_ascii_lowercase();
        for (prefix, market) in [("sh", Market::Sh), ("sz", Market::Sz), ("hk", Market::Hk)] {
            if let Some(code) = lower.strip_prefix(prefix)
                && !code.is_empty()
                && code.bytes().all(|b| b.is_ascii_digit())
            {
                return Symbol::new(code, market).map_err(|e| fail(&e.reason));
            }
        }
        if let Some(pair) = lower.strip_prefix("wh")
            && let Ok(symbol) = Symbol::new(pair, Market::Fx)
        {
            return Ok(symbol);
        }
        // Bare digits: six-digit mainland codes by their first digit.
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            if raw.len() == 6 {
                let market = match raw.as_bytes()[0] {
                    b'6' | b'9' => Market::Sh,
                    b'0' | b'2' | b'3' => Market::Sz,
                    _ => return Err(fail("cannot tell the exchange of this 6-digit code; add .SH or .SZ")),
                };
                return Symbol::new(raw, market);
            }
            return Err(fail("a bare number needs a market; add .SH, .SZ or .HK"));
        }
        // Bare letters: a currency pair if both halves are currencies, else a US ticker.
        if raw.len() == 6
            && let Ok(symbol) = Symbol::new(raw, Market::Fx)
        {
            return Ok(symbol);
        }
        if let Some(index) = GlobalIndex::find(raw, None, false) {
            return Ok(index.symbol());
        }
        if raw.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Symbol::new(raw, Market::Us).map_err(|e| fail(&e.reason));
        }
        Err(fail("unrecognised form"))
    }

    /// Index spellings with a marker: `^HSI`, `^HSI.HK`, Sina's `.INX`, Tencent's `hkHSI`,
    /// `usINX`, `us.IXIC`. `None` when the text carries no index marker.
    fn parse_index(raw: &str) -> Option<Result<Symbol, String>> {
        if let Some(index) = GlobalIndex::from_tencent(raw) {
            return Some(Ok(index.symbol()));
        }
        let (body, market) = match raw.rsplit_once('.') {
            Some((body, suffix)) if !body.is_empty() => match Market::from_suffix(suffix) {
                Some(market @ (Market::Hk | Market::Us)) => (body, Some(market)),
                _ => (raw, None),
            },
            _ => (raw, None),
        };
        let code = body.strip_prefix('^').or_else(|| body.strip_prefix('.'))?;
        Some(
            GlobalIndex::find(code, market, true)
                .map(GlobalIndex::symbol)
                .ok_or_else(|| format!("unknown index `{}` (known indices: {})", crate::text::quote(body), GlobalIndex::known())),
        )
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn market(&self) -> Market {
        self.market
    }

    /// The currency this security's prices are quoted in.
    pub fn currency(&self) -> Currency {
        self.market.currency()
    }

    pub fn is_fx(&self) -> bool {
        self.market == Market::Fx
    }

    /// Whether this is an exchange index rather than a share: SSE indices are `000xxx.SH`
    /// (Shanghai shares start with 6 or 9), SZSE indices `399xxx.SZ`, Hong Kong and US
    /// indices carry a caret (`^HSI.HK`). Indices have no corporate actions: they are fetched
    /// once, unadjusted, and never match a company name.
    pub fn is_index(&self) -> bool {
        match self.market {
            Market::Sh => self.code.starts_with("000"),
            Market::Sz => self.code.starts_with("399"),
            Market::Hk | Market::Us => self.code.starts_with('^'),
            Market::Fx => false,
        }
    }

    /// The Hong Kong or US index this symbol is, with its names.
    pub fn global_index(&self) -> Option<&'static GlobalIndex> {
        GLOBAL_INDICES.iter().find(|index| index.code == self.code && index.market == self.market)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.code, self.market)
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::parse(s)
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Symbol::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn markets_and_currencies_keep_their_text_and_aliases() {
        use strum::IntoEnumIterator;
        // The suffixes in every stored symbol and the currency codes in JSON: they must never change.
        let markets = ["SH", "SZ", "HK", "US", "FX"];
        assert_eq!(Market::iter().collect::<Vec<_>>(), Market::ALL);
        for (market, text) in Market::iter().zip(markets) {
            assert_eq!((market.as_str(), market.to_string()), (text, text.to_string()));
            assert_eq!(text.parse::<Market>(), Ok(market));
            assert_eq!(text.to_lowercase().parse::<Market>(), Ok(market));
        }
        for (alias, market) in [
            ("ss", Market::Sh),
            ("SSE", Market::Sh),
            ("szse", Market::Sz),
            ("HKEX", Market::Hk),
            ("o", Market::Us),
            ("Nasdaq", Market::Us),
            ("NYSE", Market::Us),
            ("AM", Market::Us),
        ] {
            assert_eq!(Market::from_suffix(alias), Some(market), "{alias}");
        }
        assert_eq!(Market::from_suffix("SHH"), None);
        let currencies = ["CNY", "HKD", "USD"];
        assert_eq!(Currency::iter().collect::<Vec<_>>(), Currency::ALL);
        for (currency, text) in Currency::iter().zip(currencies) {
            assert_eq!((currency.as_str(), currency.to_string()), (text, text.to_string()));
            assert_eq!(text.parse::<Currency>(), Ok(currency));
            assert_eq!(text.to_lowercase().parse::<Currency>(), Ok(currency));
            assert_eq!(serde_json::to_string(&currency).unwrap(), format!("\"{text}\""));
        }
        assert_eq!("rmb".parse::<Currency>(), Ok(Currency::Cny));
    }

    #[test]
    fn market_and_currency_errors_list_the_accepted_values() {
        assert_eq!("XX".parse::<Market>(), Err("unknown market `XX` (expected SH, SZ, HK, US or FX)".to_string()));
        assert_eq!("eur".parse::<Currency>(), Err("unknown currency `eur` (expected CNY, HKD or USD)".to_string()));
    }

    #[test]
    fn six_bytes_of_non_ascii_text_are_an_error_not_a_panic() {
        // "aＷAa" is six bytes; slicing it at byte 3 as a currency pair used to panic.
        assert!(Symbol::parse("aＷAa").is_err());
        assert!(Symbol::new("aＷAa", Market::Fx).is_err());
    }

    #[rstest]
    #[case("600941.SH", "600941.SH")]
    #[case("600941.SS", "600941.SH")]
    #[case("600941.ss", "600941.SH")]
    #[case("sh600941", "600941.SH")]
    #[case("SH600941", "600941.SH")]
    #[case("600941", "600941.SH")]
    #[case("688041", "688041.SH")]
    #[case("300308", "300308.SZ")]
    #[case("002049", "002049.SZ")]
    #[case("sz300308", "300308.SZ")]
    #[case("300308.SZ", "300308.SZ")]
    #[case("000300.SH", "000300.SH")]
    #[case("0700.HK", "0700.HK")]
    #[case("00700.HK", "0700.HK")]
    #[case("700.hk", "0700.HK")]
    #[case("hk00700", "0700.HK")]
    #[case("9988.HK", "9988.HK")]
    #[case("09988.HK", "9988.HK")]
    #[case("20.HK", "0020.HK")]
    #[case("msft", "MSFT.US")]
    #[case("MSFT.US", "MSFT.US")]
    #[case("usMSFT.OQ", "MSFT.US")]
    #[case("BABA.N", "BABA.US")]
    #[case("BRK.B", "BRK-B.US")]
    #[case("brk-b", "BRK-B.US")]
    #[case("usdcny", "USDCNY.FX")]
    #[case("USDCNY.FX", "USDCNY.FX")]
    #[case("CNY=X", "USDCNY.FX")]
    #[case("HKDCNY=X", "HKDCNY.FX")]
    #[case("whHKDCNY", "HKDCNY.FX")]
    #[case("  googl ", "GOOGL.US")]
    // Hong Kong and US indices: canonical caret forms, Yahoo, Sina, Tencent and bare spellings.
    #[case("^HSI.HK", "^HSI.HK")]
    #[case("^HSI", "^HSI.HK")]
    #[case("HSI", "^HSI.HK")]
    #[case("hsi.hk", "^HSI.HK")]
    #[case("hkHSI", "^HSI.HK")]
    #[case("^GSPC.US", "^GSPC.US")]
    #[case("^GSPC", "^GSPC.US")]
    #[case("^spx", "^GSPC.US")]
    #[case("SPX", "^GSPC.US")]
    #[case("SPX.US", "^GSPC.US")]
    #[case(".INX", "^GSPC.US")]
    #[case("usINX", "^GSPC.US")]
    #[case("us.INX", "^GSPC.US")]
    #[case("^IXIC", "^IXIC.US")]
    #[case("IXIC", "^IXIC.US")]
    #[case(".IXIC", "^IXIC.US")]
    #[case("us.IXIC", "^IXIC.US")]
    #[case("^DJI", "^DJI.US")]
    #[case("^DJIA", "^DJI.US")]
    #[case(".DJI", "^DJI.US")]
    #[case("usDJI", "^DJI.US")]
    // A bare DJIA is a US ETF's ticker, not the index.
    #[case("DJIA", "DJIA.US")]
    #[case("DJIA.US", "DJIA.US")]
    fn parses_forgiving_forms(#[case] input: &str, #[case] canonical: &str) {
        assert_eq!(Symbol::parse(input).unwrap().to_string(), canonical);
    }

    #[rstest]
    #[case("", "empty")]
    #[case("60094.SH", "6 digits")]
    #[case("600941.XX", "unknown market suffix `.XX`")]
    #[case("123456789.HK", "1 to 5 digits")]
    #[case("0.HK", "does not exist")]
    #[case("12345", "needs a market")]
    #[case("800001", "cannot tell the exchange")]
    #[case("ABCDEF.FX", "two currency codes")]
    #[case("ms$ft", "unrecognised form")]
    // Six bytes of non-ASCII text once reached a byte slice at 3, inside `é` (exit 101).
    #[case("ééé", "unrecognised form")]
    #[case("ééé.FX", "two currency codes")]
    #[case("ééé=X", "two currency codes")]
    #[case("whééé", "unrecognised form")]
    #[case("腾讯控股", "unrecognised form")]
    #[case("0700.港股", "unknown market suffix")]
    #[case("^NDX", "unknown index `^NDX` (known indices: ^HSI.HK, ^GSPC.US, ^IXIC.US, ^DJI.US)")]
    #[case("^GSPC.HK", "unknown index")]
    #[case(".XYZ", "unknown index")]
    #[case("SPX.HK", "the Hong Kong index is ^HSI")]
    #[case("^", "unknown index")]
    fn rejects_with_example(#[case] input: &str, #[case] reason: &str) {
        let err = Symbol::parse(input).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(reason), "{message}");
        assert!(message.contains("600941.SH"), "error must show a valid example: {message}");
    }

    #[test]
    fn currency_follows_market() {
        assert_eq!(Symbol::parse("0700.HK").unwrap().currency(), Currency::Hkd);
        assert_eq!(Symbol::parse("MSFT").unwrap().currency(), Currency::Usd);
        assert_eq!(Symbol::parse("600941.SH").unwrap().currency(), Currency::Cny);
        assert_eq!(Currency::Hkd.cny_pair().unwrap().to_string(), "HKDCNY.FX");
        assert_eq!(Currency::Cny.cny_pair(), None);
    }

    #[rstest]
    #[case("^HSI.HK", Currency::Hkd, true)]
    #[case("^GSPC.US", Currency::Usd, true)]
    #[case("^IXIC.US", Currency::Usd, true)]
    #[case("000300.SH", Currency::Cny, true)]
    #[case("399006.SZ", Currency::Cny, true)]
    #[case("600941.SH", Currency::Cny, false)]
    #[case("000063.SZ", Currency::Cny, false)]
    #[case("0700.HK", Currency::Hkd, false)]
    #[case("MSFT.US", Currency::Usd, false)]
    #[case("DJIA.US", Currency::Usd, false)]
    #[case("USDCNY.FX", Currency::Cny, false)]
    fn indices_are_known_and_quoted_in_their_market_currency(#[case] input: &str, #[case] currency: Currency, #[case] index: bool) {
        let symbol = Symbol::parse(input).unwrap();
        assert_eq!((symbol.currency(), symbol.is_index()), (currency, index), "{input}");
    }

    #[test]
    fn every_global_index_round_trips_and_names_itself() {
        for index in &GLOBAL_INDICES {
            let symbol = index.symbol();
            assert_eq!(Symbol::parse(&symbol.to_string()), Ok(symbol.clone()));
            assert_eq!(Symbol::new(index.code, index.market), Ok(symbol.clone()));
            assert_eq!(Symbol::parse(index.tencent).unwrap(), symbol);
            assert_eq!(symbol.global_index(), Some(index));
        }
        assert_eq!(Symbol::parse("0700.HK").unwrap().global_index(), None);
    }

    #[test]
    fn a_huge_input_is_quoted_in_part() {
        let huge = "x".repeat(1_000_000) + "$";
        let message = Symbol::parse(&huge).unwrap_err().to_string();
        assert!(message.len() < 600, "{} bytes", message.len());
    }

    proptest::proptest! {
        /// Any text parses to a canonical symbol or a clean error, never a panic; a parsed
        /// symbol's text parses back to itself.
        #[test]
        fn parse_never_panics_and_round_trips(input in "\\PC{0,12}|[a-zA-Z0-9.=éü数-]{0,12}") {
            if let Ok(symbol) = Symbol::parse(&input) {
                proptest::prop_assert_eq!(Symbol::parse(&symbol.to_string()), Ok(symbol));
            }
        }

        #[test]
        fn new_never_panics(code in "\\PC{0,8}", market in 0..5usize) {
            let _ = Symbol::new(&code, Market::ALL[market]);
        }
    }

    #[test]
    fn serde_round_trips_canonical_text() {
        let symbol: Symbol = serde_json::from_str("\"00700.HK\"").unwrap();
        assert_eq!(serde_json::to_string(&symbol).unwrap(), "\"0700.HK\"");
    }
}
