//! Which US exchange a ticker trades on, for the two providers whose US codes carry it
//! (Tencent's suffix `usMSFT.OQ`, Eastmoney's market prefix `105.MSFT`): the one table of
//! known listings and the one probe order, with what probing found remembered per process.

use std::collections::HashMap;
use std::sync::Mutex;

/// A US exchange as the providers distinguish them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsExchange {
    Nasdaq,
    Nyse,
    /// NYSE American (and Arca, which both providers file under the same code).
    NyseAmerican,
}

/// The seed report's US listings, so they need no probing.
const KNOWN: [(&str, UsExchange); 6] = [
    ("MSFT", UsExchange::Nasdaq),
    ("GOOGL", UsExchange::Nasdaq),
    ("META", UsExchange::Nasdaq),
    ("BIDU", UsExchange::Nasdaq),
    ("NTES", UsExchange::Nasdaq),
    ("BABA", UsExchange::Nyse),
];

/// The order unknown tickers are probed in.
pub const PROBE_ORDER: [UsExchange; 3] = [UsExchange::Nasdaq, UsExchange::Nyse, UsExchange::NyseAmerican];

/// The exchanges to try for `ticker` (the symbol's code, `BRK-B`) from the table alone: its
/// known exchange, or every exchange in probe order.
pub fn candidates(ticker: &str) -> Vec<UsExchange> {
    match KNOWN.iter().find(|(known, _)| *known == ticker) {
        Some((_, exchange)) => vec![*exchange],
        None => PROBE_ORDER.to_vec(),
    }
}

/// What probing found, by ticker, for one provider client's lifetime.
#[derive(Debug, Default)]
pub struct ProbedExchanges(Mutex<HashMap<String, UsExchange>>);

impl ProbedExchanges {
    /// The exchanges to try for `ticker`: the one probing found, else [`candidates`].
    pub fn candidates(&self, ticker: &str) -> Vec<UsExchange> {
        match self.0.lock().ok().and_then(|found| found.get(ticker).copied()) {
            Some(exchange) => vec![exchange],
            None => candidates(ticker),
        }
    }

    /// The provider codes to try for `symbol`, each with the US exchange it stands for: for a
    /// US share (not an index) one per candidate exchange, spelt by `us_code`; for anything
    /// else the codes `others` gives, standing for no exchange. Tencent and Eastmoney both
    /// probe through this.
    pub fn codes_to_try<E>(
        &self,
        symbol: &crate::symbol::Symbol,
        us_code: impl Fn(&str, UsExchange) -> String,
        others: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<Vec<(String, Option<UsExchange>)>, E> {
        Ok(match symbol.market() {
            crate::symbol::Market::Us if symbol.global_index().is_none() => {
                let code = symbol.code();
                self.candidates(code).into_iter().map(|exchange| (us_code(code, exchange), Some(exchange))).collect()
            }
            _ => others()?.into_iter().map(|code| (code, None)).collect(),
        })
    }

    /// Records that `ticker` answered on `exchange`, when it had to be probed.
    pub fn remember(&self, ticker: &str, exchange: UsExchange, probed: bool) {
        if probed && let Ok(mut found) = self.0.lock() {
            found.insert(ticker.to_string(), exchange);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tickers_need_no_probe_and_a_probed_answer_is_remembered() {
        assert_eq!(candidates("BABA"), vec![UsExchange::Nyse]);
        assert_eq!(candidates("AAPL"), PROBE_ORDER.to_vec());
        let probed = ProbedExchanges::default();
        assert_eq!(probed.candidates("AAPL"), PROBE_ORDER.to_vec());
        probed.remember("AAPL", UsExchange::Nyse, false);
        assert_eq!(probed.candidates("AAPL"), PROBE_ORDER.to_vec(), "a known listing is not recorded");
        probed.remember("AAPL", UsExchange::Nasdaq, true);
        assert_eq!(probed.candidates("AAPL"), vec![UsExchange::Nasdaq]);
    }
}
