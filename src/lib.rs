//! ratingwatch: track a research report's sector ratings against CSI 300.
//!
//! See ARCHITECTURE.md for the codemap and the invariants each module keeps.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_import;
pub mod draft;
pub mod ids;
pub mod lock;
pub mod names;
pub mod notify;
pub mod pipeline;
pub mod prices;
pub mod providers;
pub mod ratings;
pub mod report;
pub mod schedule;
pub mod service;
pub mod status;
pub mod store;
pub mod symbol;
pub mod sync;
pub mod text;
pub mod web;
