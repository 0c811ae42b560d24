//! Integration tests for providers.
