#![doc = include_str!("../README.md")]

pub mod engine;
mod error;
pub mod fixed;
pub mod input;
pub mod params;
pub mod reasons;
pub mod snapshot;

pub use engine::{CreditComponents, Engine, Money, PlatformBreakdown, PlatformTotals, ScoreCard, Tier, WorkerScore};
pub use error::{Error, Result};
pub use input::{Activity, Attested, Commitment};
pub use params::Params;
pub use reasons::{Reason, ReasonCode};
