//! Reporters: render results, never compute them.

pub mod table;
