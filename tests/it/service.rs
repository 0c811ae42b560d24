//! Integration tests for service.
