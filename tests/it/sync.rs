//! Integration tests for sync.
