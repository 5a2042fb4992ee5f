//! Provisioning through the real control-plane SDK (`aws-sdk-sagemaker`, built with
//! `--features provision`) against the emulator's control plane on 127.0.0.1.

mod async_s3;
mod cleanup;
mod control;
mod moto;
mod run;
