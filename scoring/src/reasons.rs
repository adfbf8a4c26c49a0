//! Stable reason codes: what lowered a score, and by how many points.
//!
//! Codes never change meaning and are never reused; a new reason gets a new code (and a new
//! parameters version if the formula changes). Each reason carries the points it cost, so the
//! list sorted by points is "the top reasons".

use serde::{Deserialize, Serialize};

/// How many reasons a score card lists.
pub const TOP_REASONS: usize = 4;

/// Why a score is lower than it could be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    // Reputation.
    /// Ratings below the average of the worker's peers on the same platform.
    RatingsBelowPlatformAverage,
    /// Ratings at or above the platform average but short of its best.
    RatingsShortOfPlatformBest,
    /// Few recent ratings: the Bayesian prior still weighs more than the worker's own record.
    FewRecentRatings,
    /// Tasks cancelled by the worker lower the completion rate.
    LowCompletionRate,
    /// Recent cancellations by the worker.
    WorkerCancellations,
    /// Recent disputes resolved against the worker.
    LostDisputes,
    /// Fewer months with completed work than the longevity bonus rewards in full.
    ShortWorkHistory,
    // Credit.
    /// The reputation score.
    LowReputation,
    /// Little time since the first completed task.
    ShortTenure,
    /// Months without completed work in the recent income window.
    IrregularIncome,
    /// Few months with savings in the savings window.
    LowSavings,
    /// No (or little) repayment record yet.
    ThinRepaymentHistory,
    /// Late repayments or defaults in the repayment record.
    LateOrMissedRepayments,
    /// A recent loan default.
    LoanDefault,
    /// Disputes lost (credit side).
    DisputeRecord,
}

impl ReasonCode {
    /// The wire name, e.g. `few_recent_ratings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RatingsBelowPlatformAverage => "ratings_below_platform_average",
            Self::RatingsShortOfPlatformBest => "ratings_short_of_platform_best",
            Self::FewRecentRatings => "few_recent_ratings",
            Self::LowCompletionRate => "low_completion_rate",
            Self::WorkerCancellations => "worker_cancellations",
            Self::LostDisputes => "lost_disputes",
            Self::ShortWorkHistory => "short_work_history",
            Self::LowReputation => "low_reputation",
            Self::ShortTenure => "short_tenure",
            Self::IrregularIncome => "irregular_income",
            Self::LowSavings => "low_savings",
            Self::ThinRepaymentHistory => "thin_repayment_history",
            Self::LateOrMissedRepayments => "late_or_missed_repayments",
            Self::LoanDefault => "loan_default",
            Self::DisputeRecord => "dispute_record",
        }
    }
}

/// A reason and the points it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// Points lost (of 1000 for reputation, of the 550 between 300 and 850 for credit).
    pub points: u32,
}

/// The top reasons: those that cost at least a point, most points first, ties in code order.
pub fn top(mut all: Vec<Reason>) -> Vec<Reason> {
    all.retain(|r| r.points > 0);
    all.sort_by(|a, b| b.points.cmp(&a.points).then(a.code.cmp(&b.code)));
    all.truncate(TOP_REASONS);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in [
            ReasonCode::RatingsBelowPlatformAverage,
            ReasonCode::RatingsShortOfPlatformBest,
            ReasonCode::FewRecentRatings,
            ReasonCode::LowCompletionRate,
            ReasonCode::WorkerCancellations,
            ReasonCode::LostDisputes,
            ReasonCode::ShortWorkHistory,
            ReasonCode::LowReputation,
            ReasonCode::ShortTenure,
            ReasonCode::IrregularIncome,
            ReasonCode::LowSavings,
            ReasonCode::ThinRepaymentHistory,
            ReasonCode::LateOrMissedRepayments,
            ReasonCode::LoanDefault,
            ReasonCode::DisputeRecord,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn top_sorts_and_drops_zero() {
        let r = |code, points| Reason { code, points };
        let t = top(vec![
            r(ReasonCode::ShortTenure, 3),
            r(ReasonCode::LowSavings, 0),
            r(ReasonCode::LowReputation, 9),
            r(ReasonCode::IrregularIncome, 3),
        ]);
        assert_eq!(
            t,
            vec![r(ReasonCode::LowReputation, 9), r(ReasonCode::ShortTenure, 3), r(ReasonCode::IrregularIncome, 3)]
        );
    }
}
