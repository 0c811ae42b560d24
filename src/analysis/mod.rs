//! Pure analysis: price series, FX series and a report's rule in; verdicts and weekly
//! summaries out. No SQL, no HTTP, no clock. (Placeholder: being written.)

pub mod model;
