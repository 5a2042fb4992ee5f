//! Temporary: runs tests/it/sagemaker.rs alone while other modules of `it` are in progress.
#[path = "it/sagemaker.rs"]
mod sagemaker;
