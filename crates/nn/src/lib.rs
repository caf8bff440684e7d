//! Placeholder; being written.
pub mod functional;
