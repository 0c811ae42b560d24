//! Domain types for daily prices, shared by providers, the store, sync, import and analysis.
//!
//! Invariants: a [`Bar`]'s `date` is the exchange-local trading date; volume is in shares
//! (never lots); `close` is the price as traded; `adj_close` belongs to exactly one adjusted
//! series whose [`AdjBasis`] and source are recorded once per security, never per bar mix.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One trading day of one security (or one FX fixing, where only `close` is meaningful).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub date: NaiveDate,
    pub open: Option<f64>,
    pub high: Option<f64>,
    pub low: Option<f64>,
    /// The close as traded (raw).
    pub close: f64,
    /// Shares traded, where known.
    pub volume: Option<f64>,
    /// The close on this security's one adjusted series (equal to `close` when the
    /// security has no corporate actions, and for indices and FX).
    pub adj_close: f64,
}

impl Bar {
    /// A bar with only a close (FX rates, indices imported without OHLC).
    pub fn close_only(date: NaiveDate, close: f64) -> Bar {
        Bar { date, open: None, high: None, low: None, close, volume: None, adj_close: close }
    }
}

/// How a security's `adj_close` series was produced. One basis per security.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = String, parse_err_fn = unknown_basis)]
pub enum AdjBasis {
    /// Not adjusted: indices and FX, used as published.
    None,
    /// Back-adjusted (后复权, `hfq`) from Tencent or Eastmoney: history never moves.
    Hfq,
    /// Yahoo's split- and dividend-adjusted `adjclose`: re-based after each dividend.
    YahooAdjclose,
    /// An `adj_close` column imported from CSV; its basis is whatever the file used.
    Imported,
    /// Imported without an `adj_close` column: `close` is taken as already adjusted.
    CloseAsAdjusted,
}

impl AdjBasis {
    /// The stored text (`securities.adj_basis`, `daily_bars.adj_basis`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_basis(text: &str) -> String {
    format!("unknown adjustment basis `{text}`")
}

/// Why a set of bars must not be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BarError {
    #[error("{date}: {field} is {value}, prices must be finite and positive")]
    NonPositive { date: NaiveDate, field: &'static str, value: f64 },
    #[error("{date}: high {high} is below low {low}")]
    HighBelowLow { date: NaiveDate, high: f64, low: f64 },
    #[error("{date}: date appears twice")]
    Duplicate { date: NaiveDate },
    #[error("{date}: date is after today ({today})")]
    Future { date: NaiveDate, today: NaiveDate },
    #[error("{date}: volume {value} is negative or not finite")]
    BadVolume { date: NaiveDate, value: f64 },
}

/// Checks one bar on its own: finite positive prices, high ≥ low, sane volume.
pub fn validate_bar(bar: &Bar) -> Result<(), BarError> {
    let prices = [("open", bar.open), ("high", bar.high), ("low", bar.low), ("close", Some(bar.close)), ("adj_close", Some(bar.adj_close))];
    for (field, value) in prices {
        if let Some(value) = value
            && !(value.is_finite() && value > 0.0)
        {
            return Err(BarError::NonPositive { date: bar.date, field, value });
        }
    }
    if let (Some(high), Some(low)) = (bar.high, bar.low)
        && high < low
    {
        return Err(BarError::HighBelowLow { date: bar.date, high, low });
    }
    if let Some(volume) = bar.volume
        && !(volume.is_finite() && volume >= 0.0)
    {
        return Err(BarError::BadVolume { date: bar.date, value: volume });
    }
    Ok(())
}

/// The gate every series passes before it is stored: each bar valid, dates strictly
/// unique and not after `today`. Bars may come in any order.
pub fn validate_series(bars: &[Bar], today: NaiveDate) -> Result<(), BarError> {
    let mut seen = std::collections::HashSet::with_capacity(bars.len());
    for bar in bars {
        validate_bar(bar)?;
        if bar.date > today {
            return Err(BarError::Future { date: bar.date, today });
        }
        if !seen.insert(bar.date) {
            return Err(BarError::Duplicate { date: bar.date });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 2, d).unwrap()
    }

    fn bar(d: u32, high: f64, low: f64, close: f64) -> Bar {
        Bar { date: day(d), open: Some(close), high: Some(high), low: Some(low), close, volume: Some(100.0), adj_close: close }
    }

    #[test]
    fn gate_accepts_a_clean_series() {
        assert_eq!(validate_series(&[bar(13, 11.0, 9.0, 10.0), bar(14, 12.0, 10.0, 11.0)], day(14)), Ok(()));
    }

    #[test]
    fn gate_names_each_fault() {
        let today = day(20);
        let mut zero = bar(13, 11.0, 9.0, 10.0);
        zero.close = 0.0;
        assert!(matches!(validate_series(&[zero], today), Err(BarError::NonPositive { field: "close", .. })));
        let mut nan = bar(13, 11.0, 9.0, 10.0);
        nan.open = Some(f64::NAN);
        assert!(matches!(validate_series(&[nan], today), Err(BarError::NonPositive { field: "open", .. })));
        assert!(matches!(validate_series(&[bar(13, 9.0, 11.0, 10.0)], today), Err(BarError::HighBelowLow { .. })));
        assert!(matches!(validate_series(&[bar(13, 11.0, 9.0, 10.0), bar(13, 11.0, 9.0, 10.0)], today), Err(BarError::Duplicate { .. })));
        assert!(matches!(validate_series(&[bar(21, 11.0, 9.0, 10.0)], today), Err(BarError::Future { .. })));
        let mut negative_volume = bar(13, 11.0, 9.0, 10.0);
        negative_volume.volume = Some(-1.0);
        assert!(matches!(validate_series(&[negative_volume], today), Err(BarError::BadVolume { .. })));
    }

    #[test]
    fn basis_round_trips_through_text() {
        for basis in [AdjBasis::None, AdjBasis::Hfq, AdjBasis::YahooAdjclose, AdjBasis::Imported, AdjBasis::CloseAsAdjusted] {
            assert_eq!(basis.as_str().parse::<AdjBasis>().unwrap(), basis);
        }
    }

    #[test]
    fn every_basis_keeps_its_stored_text() {
        use strum::{IntoEnumIterator, VariantNames};
        // The text in existing databases: it must never change.
        let stored = ["none", "hfq", "yahoo_adjclose", "imported", "close_as_adjusted"];
        assert_eq!(AdjBasis::VARIANTS, stored);
        for (basis, text) in AdjBasis::iter().zip(stored) {
            assert_eq!((basis.as_str(), basis.to_string()), (text, text.to_string()));
            assert_eq!(text.parse::<AdjBasis>(), Ok(basis));
            assert_eq!(serde_json::to_string(&basis).unwrap(), format!("\"{text}\""));
        }
        assert_eq!("HFQ".parse::<AdjBasis>(), Err("unknown adjustment basis `HFQ`".to_string()));
    }
}
