//! Deciding how an incremental answer is applied: pure functions over stored and fetched bars.
//! (A full history always replaces the stored series whole; nothing to decide there.)

use std::collections::HashMap;

use crate::prices::{AdjBasis, Bar};

/// Relative difference above which two prices of the same date count as different. Providers
/// send a handful of decimals and SQLite stores the same `f64` back, so real agreement is exact;
/// the tolerance only absorbs float noise.
pub const PRICE_TOLERANCE: f64 = 1e-6;

/// What to do with an incremental answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// Write it over the stored bars of the same dates (revisions win).
    Upsert,
    /// Discard it, fetch the full history from the same provider and replace.
    RefetchFull(RefetchReason),
}

/// Why an incremental answer cannot be merged into the stored series (`Display`: the phrase
/// sync summaries and logs show).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display)]
pub enum RefetchReason {
    /// The provider's adjusted series now has another basis than the stored one.
    #[strum(to_string = "adjustment basis changed")]
    BasisChanged,
    /// The provider re-based its adjusted history (a dividend under Yahoo `adjclose`, or a
    /// split that rescaled every earlier price).
    #[strum(to_string = "adjusted history re-based")]
    Rebased,
}

/// Decides how to apply an incremental answer: upserted unless its basis differs from the
/// stored one or the overlap shows a re-based history (see [`adjusted_history_rebased`]).
pub fn decide(stored_basis: Option<AdjBasis>, fetched_basis: AdjBasis, stored_overlap: &[Bar], fetched: &[Bar]) -> Apply {
    if stored_basis != Some(fetched_basis) {
        Apply::RefetchFull(RefetchReason::BasisChanged)
    } else if adjusted_history_rebased(stored_overlap, fetched) {
        Apply::RefetchFull(RefetchReason::Rebased)
    } else {
        Apply::Upsert
    }
}

fn differs(a: f64, b: f64) -> bool {
    (a - b).abs() > PRICE_TOLERANCE * a.abs().max(b.abs())
}

/// Whether the fetched bars show that the provider rewrote the adjusted history the stored
/// bars belong to, judged on the dates both hold:
/// - a date whose raw close agrees but whose adjusted close differs: the adjustment factor of
///   that day changed (Yahoo `adjclose` after a dividend), or
/// - two or more dates whose adjusted close differs: more than a lone revised bar changed
///   (a split rescales Yahoo's `close` and `adjclose` of every earlier day together).
///
/// One date whose raw and adjusted closes both changed is a revision of that bar (a session
/// stored before it closed, a vendor fix); upserting it is enough.
pub fn adjusted_history_rebased(stored_overlap: &[Bar], fetched: &[Bar]) -> bool {
    let fetched_by_date: HashMap<_, _> = fetched.iter().map(|bar| (bar.date, bar)).collect();
    let mut adjusted_changes = 0;
    for stored in stored_overlap {
        let Some(fetched) = fetched_by_date.get(&stored.date) else { continue };
        if differs(stored.adj_close, fetched.adj_close) {
            if !differs(stored.close, fetched.close) {
                return true;
            }
            adjusted_changes += 1;
        }
    }
    adjusted_changes >= 2
}

/// What a security does when the provider that holds its series (its sticky provider)
/// failed it this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnProviderFailed {
    /// Keep the provider and try again next run (the security is deferred, not failed).
    Defer,
    /// Move on along the market's fallback chain now.
    Switch,
}

/// The keep-or-switch rule: a provider that does not serve the symbol (not found,
/// unsupported) is left at once; any other failure keeps the provider until it has failed
/// `switch_after_runs` runs in a row, this one included (`failed_runs`). Switching replaces
/// the series whole, so one bad run must not move a security off its basis.
pub fn after_own_provider_failed(failed_runs: u32, switch_after_runs: u32, serves_symbol: bool) -> OwnProviderFailed {
    if serves_symbol && failed_runs < switch_after_runs { OwnProviderFailed::Defer } else { OwnProviderFailed::Switch }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rstest::rstest;

    #[test]
    fn refetch_reasons_read_as_before() {
        // Shown in sync summaries and logs.
        assert_eq!(RefetchReason::BasisChanged.to_string(), "adjustment basis changed");
        assert_eq!(RefetchReason::Rebased.to_string(), "adjusted history re-based");
    }

    fn bar(day: u32, close: f64, adj_close: f64) -> Bar {
        let date = NaiveDate::from_ymd_opt(2023, 3, day).unwrap();
        Bar { date, open: None, high: None, low: None, close, volume: None, adj_close }
    }

    // Stored: three days of a Yahoo series, adjclose = close × 0.98.
    fn stored() -> Vec<Bar> {
        vec![bar(1, 100.0, 98.0), bar(2, 101.0, 98.98), bar(3, 102.0, 99.96)]
    }

    #[rstest]
    // The same bars again plus a new day: nothing was rewritten.
    #[case::unchanged(vec![bar(1, 100.0, 98.0), bar(2, 101.0, 98.98), bar(3, 102.0, 99.96), bar(6, 103.0, 100.94)], false)]
    // Float noise far below the tolerance (1e-9 relative) is agreement.
    #[case::noise(vec![bar(2, 101.0, 98.98 * (1.0 + 1e-9)), bar(3, 102.0, 99.96)], false)]
    // A dividend on the 6th: Yahoo multiplies every earlier adjclose by (1 − 1/103 ≈ 0.99029);
    // raw closes agree while adjusted closes differ: re-based.
    #[case::dividend_rebase(vec![bar(1, 100.0, 98.0 * 0.99029), bar(2, 101.0, 98.98 * 0.99029), bar(3, 102.0, 99.96 * 0.99029), bar(6, 102.0, 100.0)], true)]
    // A 2:1 split on the 6th: Yahoo halves every earlier close and adjclose; two dates differ
    // in both: re-based.
    #[case::split_rebase(vec![bar(1, 50.0, 49.0), bar(2, 50.5, 49.49), bar(3, 51.0, 49.98), bar(6, 51.5, 50.47)], true)]
    // Only the last stored day was revised (stored mid-session): a revision, upsert.
    #[case::lone_revision(vec![bar(1, 100.0, 98.0), bar(2, 101.0, 98.98), bar(3, 102.5, 100.45)], false)]
    // No date in common: nothing to compare.
    #[case::no_overlap(vec![bar(6, 103.0, 100.94)], false)]
    fn rebase_detection(#[case] fetched: Vec<Bar>, #[case] expected: bool) {
        assert_eq!(adjusted_history_rebased(&stored(), &fetched), expected);
    }

    #[test]
    fn a_bonus_share_ex_date_in_the_overlap_is_not_a_rebase() {
        // hfq history never moves: the stored days come back identical although the raw close
        // drops a third on the ex-date (10送5: 30.00 → 20.10) while hfq stays continuous.
        let stored = vec![bar(1, 30.0, 300.0), bar(2, 30.3, 303.0)];
        let fetched = vec![bar(1, 30.0, 300.0), bar(2, 30.3, 303.0), bar(3, 20.1, 301.5)];
        assert!(!adjusted_history_rebased(&stored, &fetched));
        assert_eq!(decide(Some(AdjBasis::Hfq), AdjBasis::Hfq, &stored, &fetched), Apply::Upsert);
    }

    #[rstest]
    #[case::same_basis_upserts(Some(AdjBasis::Hfq), AdjBasis::Hfq, Apply::Upsert)]
    #[case::basis_change_refetches(Some(AdjBasis::Hfq), AdjBasis::None, Apply::RefetchFull(RefetchReason::BasisChanged))]
    #[case::unknown_stored_basis_refetches(None, AdjBasis::Hfq, Apply::RefetchFull(RefetchReason::BasisChanged))]
    fn decisions(#[case] stored_basis: Option<AdjBasis>, #[case] fetched_basis: AdjBasis, #[case] expected: Apply) {
        assert_eq!(decide(stored_basis, fetched_basis, &[], &[]), expected);
    }

    #[rstest]
    // failed_runs counts this run: the first failure with the default of 3 defers.
    #[case::first_failure_defers(1, 3, true, OwnProviderFailed::Defer)]
    #[case::second_failure_defers(2, 3, true, OwnProviderFailed::Defer)]
    #[case::third_failure_in_a_row_switches(3, 3, true, OwnProviderFailed::Switch)]
    #[case::beyond_the_limit_switches(7, 3, true, OwnProviderFailed::Switch)]
    #[case::a_limit_of_one_switches_at_once(1, 1, true, OwnProviderFailed::Switch)]
    #[case::not_serving_the_symbol_switches_at_once(1, 3, false, OwnProviderFailed::Switch)]
    fn keep_or_switch_a_failing_provider(
        #[case] failed_runs: u32,
        #[case] switch_after_runs: u32,
        #[case] serves_symbol: bool,
        #[case] expected: OwnProviderFailed,
    ) {
        assert_eq!(after_own_provider_failed(failed_runs, switch_after_runs, serves_symbol), expected);
    }
}
