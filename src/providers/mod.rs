//! Public daily-price providers. All HTTP in the product lives under this module.
//!
//! Invariants:
//! - Wire types stay in each provider's file; what leaves this module is [`FetchedSeries`]
//!   (domain [`Bar`]s: exchange-local dates, volume in shares, raw close plus the provider's
//!   own back-adjusted or `adjclose` series, never forward-adjusted `qfq`).
//! - Base URLs come from config; each client appends the real API path.
//! - Errors are classified ([`ProviderErrorKind`]) so sync can fall back and trip a provider.

use chrono::NaiveDate;

use crate::prices::{AdjBasis, Bar};
use crate::symbol::Symbol;

/// The providers the product knows, by their config name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProviderName {
    Tencent,
    Eastmoney,
    Yahoo,
}

impl ProviderName {
    pub const ALL: [ProviderName; 3] = [ProviderName::Tencent, ProviderName::Eastmoney, ProviderName::Yahoo];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderName::Tencent => "tencent",
            ProviderName::Eastmoney => "eastmoney",
            ProviderName::Yahoo => "yahoo",
        }
    }

    pub fn parse(name: &str) -> Option<ProviderName> {
        ProviderName::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Daily bars of one security over an inclusive date range.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchRequest {
    pub symbol: Symbol,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What a provider returned for one request, already in domain form.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedSeries {
    pub provider: ProviderName,
    /// The basis of every bar's `adj_close` in `bars` (`None` for indices and FX).
    pub basis: AdjBasis,
    /// Oldest first, dates unique, within the requested range, completed sessions only.
    pub bars: Vec<Bar>,
    /// The security's first trading date, when the provider tells it.
    pub first_trade_date: Option<NaiveDate>,
}

/// How a provider failed, which decides what sync does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// The provider does not know this symbol (Eastmoney `rc≠0`/`data:null`, Yahoo 404,
    /// Tencent empty `data`): try the next provider, the symbol may still exist elsewhere.
    NotFound,
    /// This provider cannot serve this market or symbol form at all.
    Unsupported,
    /// Ban signals: 429 after retries, HTML instead of JSON, empty body, connection dropped
    /// without a response. The provider is tripped for the rest of the run.
    Blocked,
    /// Timeouts and 5xx that outlived the retries.
    Transient,
    /// A response that does not parse or fails validation (truncated JSON, bad numbers).
    Malformed,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{symbol} via {provider}: {message}")]
pub struct ProviderError {
    pub provider: ProviderName,
    pub symbol: Symbol,
    pub kind: ProviderErrorKind,
    pub message: String,
}

/// The three provider clients behind one shared HTTP client, built from config.
/// (Placeholder body: the providers work replaces it.)
pub struct Providers {
    _private: (),
}

impl Providers {
    /// Builds every client from config: base URLs, timeouts, per-host rate limits, retries.
    pub fn from_config(_config: &crate::config::ProvidersConfig) -> Result<Providers, String> {
        Ok(Providers { _private: () })
    }

    /// Fetches raw and adjusted daily bars of `request.symbol` from one provider.
    pub async fn fetch(&self, provider: ProviderName, request: &FetchRequest) -> Result<FetchedSeries, ProviderError> {
        Err(ProviderError {
            provider,
            symbol: request.symbol.clone(),
            kind: ProviderErrorKind::Unsupported,
            message: "not implemented yet".to_string(),
        })
    }
}
