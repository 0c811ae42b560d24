//! One integration-test binary (faster to link than one per file). Each module owns a feature.

mod analysis;
mod cli;
mod draft;
mod exchange;
mod instruments;
mod notify;
mod pipe;
mod providers;
mod report;
mod service;
mod support;
mod sync;
mod web;
