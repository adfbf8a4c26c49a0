//! The published, versioned parameters of the formula.
//!
//! A [`Params`] document is serialised with RFC 8785 (canonical JSON) and published as one
//! IPFS raw block; every snapshot manifest names its CID and every on-chain root names its
//! `version`. Changing any number means a new version: [`Params::v1`] is what version 1 *is*,
//! and a document claiming version 1 with other numbers is refused.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Document kind tag.
pub const PARAMS_KIND: &str = "jejak.scoring-params";

/// The parameters version this build computes by default.
pub const CURRENT_VERSION: u32 = 1;

/// Everything the formula needs besides the attestations and the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Always [`PARAMS_KIND`].
    pub kind: String,
    /// Version number, named by every root published with these parameters.
    pub version: u32,
    /// Reputation (0-1000).
    pub reputation: ReputationParams,
    /// Credit (300-850).
    pub credit: CreditParams,
}

/// Reputation parameters. Rates and scores are in basis points (10,000 = all) unless named
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationParams {
    /// Recency half-life in days: an event this old counts half.
    pub half_life_days: u32,
    /// Length of a "month" in days, for longevity, tenure and the income and savings windows.
    pub month_days: u32,
    /// Platform reference: prior mean rating (bp of the scale) a platform's mean is shrunk to.
    pub platform_prior_mean_bp: u32,
    /// Platform reference: prior standard deviation (bp).
    pub platform_prior_sd_bp: u32,
    /// Platform reference: how many reviews the platform prior is worth.
    pub platform_prior_reviews: u32,
    /// Smallest standard deviation used, so a platform where everyone has 4.9 does not turn a
    /// 0.01 difference into a gulf.
    pub rating_sd_floor_bp: u32,
    /// Normalised rating of a review exactly at the platform mean.
    pub normalised_centre_bp: u32,
    /// Normalised points per standard deviation above or below the platform mean.
    pub normalised_bp_per_sd: u32,
    /// Bayesian prior: normalised rating assumed before any review.
    pub rating_prior_bp: u32,
    /// Bayesian prior: how many (fresh) reviews the prior is worth.
    pub rating_prior_reviews: u32,
    /// Completion prior: completion rate assumed before any task.
    pub completion_prior_bp: u32,
    /// Completion prior: how many (fresh) tasks it is worth.
    pub completion_prior_tasks: u32,
    /// Penalty per fresh cancellation by the worker.
    pub cancellation_penalty_bp: u32,
    /// Cap of the cancellation penalty.
    pub cancellation_penalty_cap_bp: u32,
    /// Penalty per fresh dispute lost.
    pub lost_dispute_penalty_bp: u32,
    /// Cap of the lost-dispute penalty.
    pub lost_dispute_penalty_cap_bp: u32,
    /// Points (of 1000) the combined platform score maps onto.
    pub base_points: u32,
    /// Longevity bonus per month with completed work.
    pub longevity_points_per_month: u32,
    /// Cap of the longevity bonus; `base_points + longevity_cap` must be 1000.
    pub longevity_cap: u32,
}

/// Credit parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditParams {
    /// Weight (percent) of reputation.
    pub weight_reputation: u32,
    /// Weight (percent) of tenure.
    pub weight_tenure: u32,
    /// Weight (percent) of income regularity.
    pub weight_income: u32,
    /// Weight (percent) of savings.
    pub weight_savings: u32,
    /// Weight (percent) of the repayment record.
    pub weight_repayment: u32,
    /// Weight (percent) of the dispute record. The six weights add up to 100.
    pub weight_disputes: u32,
    /// Months since the first completed task for full tenure.
    pub tenure_full_months: u32,
    /// Months looked back for income regularity and the credit limit.
    pub income_window_months: u32,
    /// Months looked back for savings.
    pub savings_window_months: u32,
    /// Months with savings (within the window) for a full savings component.
    pub savings_full_months: u32,
    /// Repayment prior: the component before any repayment record (a thin file).
    pub repayment_prior_bp: u32,
    /// Repayment prior: how many repayments it is worth.
    pub repayment_prior_count: u32,
    /// Value of one late repayment (an on-time one is 10,000, a default 0).
    pub late_repayment_bp: u32,
    /// How many repayments one default weighs as.
    pub default_weight: u32,
    /// Points off the credit score per fresh default.
    pub default_penalty_points: u32,
    /// Cap of the default penalty.
    pub default_penalty_cap: u32,
    /// Dispute component lost per fresh lost dispute.
    pub lost_dispute_bp: u32,
    /// Lowest credit score of tier A.
    pub tier_a: u32,
    /// Lowest credit score of tier B.
    pub tier_b: u32,
    /// Lowest credit score of tier C.
    pub tier_c: u32,
    /// Lowest credit score of tier D; below it, E.
    pub tier_d: u32,
    /// Recommended limit as a percentage of average monthly earnings, tiers A to E.
    pub limit_percent: [u32; 5],
}

impl Params {
    /// Version 1, the parameters `DESIGN.md` "Scoring v1" describes.
    pub fn v1() -> Self {
        Self {
            kind: PARAMS_KIND.to_string(),
            version: 1,
            reputation: ReputationParams {
                half_life_days: 180,
                month_days: 30,
                platform_prior_mean_bp: 8500,
                platform_prior_sd_bp: 1000,
                platform_prior_reviews: 50,
                rating_sd_floor_bp: 200,
                normalised_centre_bp: 5000,
                normalised_bp_per_sd: 2500,
                rating_prior_bp: 4500,
                rating_prior_reviews: 10,
                completion_prior_bp: 9000,
                completion_prior_tasks: 10,
                cancellation_penalty_bp: 150,
                cancellation_penalty_cap_bp: 2000,
                lost_dispute_penalty_bp: 800,
                lost_dispute_penalty_cap_bp: 5000,
                base_points: 850,
                longevity_points_per_month: 5,
                longevity_cap: 150,
            },
            credit: CreditParams {
                weight_reputation: 35,
                weight_tenure: 10,
                weight_income: 20,
                weight_savings: 10,
                weight_repayment: 20,
                weight_disputes: 5,
                tenure_full_months: 24,
                income_window_months: 6,
                savings_window_months: 12,
                savings_full_months: 6,
                repayment_prior_bp: 6000,
                repayment_prior_count: 3,
                late_repayment_bp: 3000,
                default_weight: 3,
                default_penalty_points: 100,
                default_penalty_cap: 200,
                lost_dispute_bp: 2500,
                tier_a: 740,
                tier_b: 670,
                tier_c: 580,
                tier_d: 500,
                limit_percent: [200, 150, 100, 50, 0],
            },
        }
    }

    /// The parameters of a published version this build knows.
    pub fn by_version(version: u32) -> Option<Self> {
        (version == 1).then(Self::v1)
    }

    /// The canonical (RFC 8785) bytes, as published on IPFS.
    pub fn to_bytes(&self) -> Vec<u8> {
        jejak_core::jcs::to_vec(self).expect("parameters serialise")
    }

    /// Parses a published document and checks it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let p: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidParams(format!("not a parameters document: {e}")))?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the document is usable and, for a version this build knows, that it is exactly
    /// that version.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidParams(m));
        if self.kind != PARAMS_KIND {
            return bad(format!("kind `{}`, expected `{PARAMS_KIND}`", self.kind));
        }
        if self.version == 0 {
            return bad("version 0".into());
        }
        if let Some(known) = Self::by_version(self.version)
            && known != *self
        {
            return bad(format!("the numbers differ from published version {}; use a new version", self.version));
        }
        let r = &self.reputation;
        if r.half_life_days == 0 || r.month_days == 0 {
            return bad("half_life_days and month_days must be positive".into());
        }
        if r.platform_prior_reviews == 0 || r.rating_prior_reviews == 0 || r.completion_prior_tasks == 0 {
            return bad("prior weights must be positive".into());
        }
        if r.rating_sd_floor_bp == 0 {
            return bad("rating_sd_floor_bp must be positive".into());
        }
        for (name, v) in [
            ("platform_prior_mean_bp", r.platform_prior_mean_bp),
            ("normalised_centre_bp", r.normalised_centre_bp),
            ("rating_prior_bp", r.rating_prior_bp),
            ("completion_prior_bp", r.completion_prior_bp),
            ("cancellation_penalty_cap_bp", r.cancellation_penalty_cap_bp),
            ("lost_dispute_penalty_cap_bp", r.lost_dispute_penalty_cap_bp),
        ] {
            if v > 10_000 {
                return bad(format!("{name} above 10,000"));
            }
        }
        if r.base_points + r.longevity_cap != 1000 {
            return bad("base_points + longevity_cap must be 1000".into());
        }
        let c = &self.credit;
        let weights = [
            c.weight_reputation,
            c.weight_tenure,
            c.weight_income,
            c.weight_savings,
            c.weight_repayment,
            c.weight_disputes,
        ];
        if weights.iter().sum::<u32>() != 100 {
            return bad("credit weights must add up to 100".into());
        }
        if c.tenure_full_months == 0 || c.savings_full_months == 0 {
            return bad("tenure_full_months and savings_full_months must be positive".into());
        }
        if c.income_window_months == 0 || c.income_window_months > 64 || c.savings_window_months > 64 {
            return bad("windows must be 1 to 64 months".into());
        }
        if c.repayment_prior_count == 0 || c.repayment_prior_bp > 10_000 || c.late_repayment_bp > 10_000 {
            return bad("repayment prior and late value must be within 0-10,000 with a positive weight".into());
        }
        if !(850 >= c.tier_a && c.tier_a > c.tier_b && c.tier_b > c.tier_c && c.tier_c > c.tier_d && c.tier_d > 300) {
            return bad("tier thresholds must fall strictly from A to D within 300-850".into());
        }
        Ok(())
    }

    /// Half-life in seconds.
    pub fn half_life_secs(&self) -> u64 {
        u64::from(self.reputation.half_life_days) * 86_400
    }

    /// Month length in seconds.
    pub fn month_secs(&self) -> u64 {
        u64::from(self.reputation.month_days) * 86_400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_round_trips_canonically() {
        let p = Params::v1();
        p.validate().unwrap();
        let bytes = p.to_bytes();
        assert_eq!(Params::from_bytes(&bytes).unwrap(), p);
        assert_eq!(
            jejak_core::jcs::to_vec(&serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()).unwrap(),
            bytes
        );
    }

    #[test]
    fn a_changed_number_needs_a_new_version() {
        let mut p = Params::v1();
        p.reputation.half_life_days = 90;
        assert!(matches!(p.validate(), Err(Error::InvalidParams(m)) if m.contains("new version")));
        p.version = 2;
        p.validate().unwrap();
        let mut q = Params::v1();
        q.credit.weight_savings += 1;
        q.version = 7;
        assert!(q.validate().is_err(), "weights no longer add up to 100");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v: serde_json::Value = serde_json::from_slice(&Params::v1().to_bytes()).unwrap();
        v["reputation"]["surprise"] = 1.into();
        assert!(Params::from_bytes(v.to_string().as_bytes()).is_err());
    }
}
