//! One integration-test binary (faster to link than one per file). Each module owns a feature.

mod analysis;
mod cli;
mod draft;
mod exchange;
mod indices;
mod instruments;
mod layers;
mod notify;
mod pipe;
// The provider server example's formats, routing and failure injection, serving `exchange`'s model.
#[allow(dead_code)]
#[path = "../../examples/provider_server/server.rs"]
mod provider_server;
mod providers;
mod ratings;
mod report;
mod service;
mod support;
mod sync;
mod web;
mod weekly_ratings;
