//! The comparison of a drafted report with the shipped one, shared by the draft's unit tests
//! (`src/draft/tests.rs`) and the `reports draft` integration tests (`tests/it/draft.rs`),
//! each of which includes this file with `#[path]` and has `ReportDef` in scope.

use super::ReportDef;

/// A report as the parts a draft must get right: everything but the sectors' English names
/// (a report's text has none), with each member's tags sorted.
pub fn structure(report: &ReportDef) -> ReportDef {
    let mut report = report.clone();
    for sector in &mut report.sectors {
        sector.name_en.clear();
        for member in &mut sector.members {
            member.tags.sort();
        }
    }
    report
}
