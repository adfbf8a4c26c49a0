//! The formula: attested events in, one [`ScoreCard`] per identity out.
//!
//! [`Engine::add`] folds events into per-account sums (an account is a `(platform, worker
//! reference)` pair) and per-platform rating totals. Every sum is commutative, so the order in
//! which attestations arrive cannot change a result. [`Engine::finish`] resolves each account's
//! identity from its latest `account_linked` event, scores every account against its platform's
//! reference (the other accounts' ratings, with a Bayesian prior), combines the accounts of one
//! identity by recency-weighted activity, and derives credit, tier, limit and reasons.
//!
//! The README of this crate states the formula; this file is its only implementation.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::fixed::{PPM, decay_ppm, isqrt};
use crate::input::{Activity, Attested, Commitment, Currency, Dispute};
use crate::params::Params;
use crate::reasons::{self, Reason, ReasonCode};

const BPU: u128 = 10_000;

/// Credit tier, A (best) to E. In a worker leaf it is the number [`Tier::leaf_value`], 5 for A
/// down to 1 for E, so that "tier >= minimum" reads naturally in a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Best.
    A,
    /// Good.
    B,
    /// Fair.
    C,
    /// Weak.
    D,
    /// Poor or unknown.
    E,
}

impl Tier {
    /// The number the worker leaf commits to: A = 5 ... E = 1.
    pub fn leaf_value(self) -> u64 {
        match self {
            Tier::A => 5,
            Tier::B => 4,
            Tier::C => 3,
            Tier::D => 2,
            Tier::E => 1,
        }
    }

    /// The tier named by its letter (what [`Tier::as_str`] writes), `A` to `E`.
    pub fn from_letter(letter: &str) -> Option<Self> {
        [Tier::A, Tier::B, Tier::C, Tier::D, Tier::E].into_iter().find(|t| t.as_str() == letter)
    }

    /// `A` to `E`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
            Tier::D => "D",
            Tier::E => "E",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// One platform account's part in a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformBreakdown {
    /// On-chain platform id.
    pub platform_id: u64,
    /// The worker's account reference on the platform.
    pub worker_ref: String,
    /// Completed tasks (all time).
    pub gigs: u64,
    /// Reviews counted.
    pub reviews: u64,
    /// Cancellations by the worker (all time).
    pub cancellations: u64,
    /// Disputes lost (all time).
    pub lost_disputes: u64,
    /// The platform's reference mean rating (others' reviews, with the prior), bp of the scale.
    pub reference_mean_bp: u32,
    /// The platform's reference standard deviation, bp.
    pub reference_sd_bp: u32,
    /// The worker's recency-weighted normalised rating without the prior (None: no reviews).
    pub normalised_rating_bp: Option<u32>,
    /// Rating quality after the Bayesian prior, bp.
    pub rating_quality_bp: u32,
    /// Completion rate after its prior, bp.
    pub completion_bp: u32,
    /// Points deducted for cancellations and lost disputes, bp.
    pub penalties_bp: u32,
    /// The platform score, bp.
    pub platform_score_bp: u32,
    /// Share of this account in the combined score (recency-weighted tasks), bp.
    pub weight_bp: u32,
}

/// The credit components, each in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditComponents {
    /// Reputation x 10.
    pub reputation_bp: u32,
    /// Tenure.
    pub tenure_bp: u32,
    /// Income regularity.
    pub income_regularity_bp: u32,
    /// Savings.
    pub savings_bp: u32,
    /// Repayment record.
    pub repayment_bp: u32,
    /// Dispute record.
    pub disputes_bp: u32,
}

/// Everything the formula says about one identity at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreCard {
    /// Reputation, 0 to 1000.
    pub reputation: u32,
    /// Credit score, 300 to 850.
    pub credit: u32,
    /// Credit tier.
    pub tier: Tier,
    /// Completed tasks on all linked platforms (all time).
    pub gigs: u64,
    /// Recommended credit limit in the currency of most recent earnings (None without earnings).
    pub credit_limit: Option<Money>,
    /// Months with completed work (longevity).
    pub active_months: u32,
    /// Months since the first completed task.
    pub tenure_months: u32,
    /// The credit components.
    pub credit_components: CreditComponents,
    /// Top reasons that lowered the reputation.
    pub reputation_reasons: Vec<Reason>,
    /// Top reasons that lowered the credit score.
    pub credit_reasons: Vec<Reason>,
    /// Per platform account, by platform id then reference.
    pub platforms: Vec<PlatformBreakdown>,
}

/// The rating totals of one platform, over every included review (linked accounts or not).
/// Published in each snapshot manifest, so a worker's leaf can be recomputed from their own
/// disclosed attestations alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformTotals {
    /// Reviews.
    pub reviews: u64,
    /// Sum of ratings, bp.
    pub rating_sum_bp: u64,
    /// Sum of squared ratings, bp², as a decimal string (it outgrows what JSON numbers carry
    /// exactly).
    #[serde(with = "u128_string")]
    pub rating_sq_sum: u128,
}

mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom("expected a canonical decimal integer"));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One identity's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerScore {
    /// The identity commitment.
    pub commitment: Commitment,
    /// Its score card.
    pub card: ScoreCard,
}

/// Per-account sums.
#[derive(Debug, Clone, Default)]
struct Account {
    /// Latest link: (occurred_at, digest, commitment).
    link: Option<(i64, [u8; 32], Commitment)>,
    completed_w: u64,
    completed_n: u64,
    cancelled_w: u64,
    cancelled_n: u64,
    /// (recency weight ppm, rating bp).
    reviews: Vec<(u32, u16)>,
    review_sum: u64,
    review_sq: u128,
    lost_w: u64,
    lost_n: u64,
    first_task: Option<i64>,
    /// Months (counted back from `as_of`, 0 = the latest) with a completed task, sorted.
    task_months: Vec<u32>,
    /// Earnings per currency within the income window.
    earnings: Vec<(Currency, i128)>,
    /// Bit m: savings in month m, within the savings window.
    savings_months: u64,
    repaid_on_time: u64,
    repaid_late: u64,
    defaults_n: u64,
    defaults_w: u64,
}

/// The accounts whose key hashes to one shard, and the reviews they contributed.
#[derive(Debug, Default)]
struct Shard {
    /// Platform id, then the worker reference (nested so a lookup borrows the event's `&str`).
    accounts: HashMap<u64, HashMap<String, Account>>,
    platforms: BTreeMap<u64, PlatformTotals>,
    ignored_future: u64,
}

impl Shard {
    /// Adds one event. Events after `as_of` are not part of this score and are ignored.
    fn add(&mut self, params: &Params, as_of: i64, e: &Attested) {
        if e.occurred_at > as_of {
            self.ignored_future += 1;
            return;
        }
        let age = (as_of - e.occurred_at) as u64;
        let w = decay_ppm(age, params.half_life_secs());
        let month = u32::try_from(age / params.month_secs()).unwrap_or(u32::MAX);
        let credit = &params.credit;
        let (income_window, savings_window) = (credit.income_window_months, credit.savings_window_months);
        let platform = self.accounts.entry(e.platform_id).or_default();
        let acc = match platform.get_mut(e.worker_ref.as_str()) {
            Some(a) => a,
            None => platform.entry(e.worker_ref.clone()).or_default(),
        };
        match e.activity {
            Activity::Completed { earnings } => {
                acc.completed_w += w;
                acc.completed_n += 1;
                acc.first_task = Some(acc.first_task.map_or(e.occurred_at, |t| t.min(e.occurred_at)));
                if let Err(i) = acc.task_months.binary_search(&month) {
                    acc.task_months.insert(i, month);
                }
                if let Some((currency, amount)) = earnings
                    && month < income_window
                {
                    match acc.earnings.iter_mut().find(|(c, _)| *c == currency) {
                        Some((_, total)) => *total += i128::from(amount),
                        None => acc.earnings.push((currency, i128::from(amount))),
                    }
                }
            }
            Activity::Cancelled { by_worker: true } => {
                acc.cancelled_w += w;
                acc.cancelled_n += 1;
            }
            Activity::Cancelled { by_worker: false } | Activity::Unscored => {}
            Activity::Review { rating_bp } => {
                let r = rating_bp.min(10_000) as u16;
                acc.reviews.push((w as u32, r));
                acc.review_sum += u64::from(r);
                acc.review_sq += u128::from(r) * u128::from(r);
                let t = self.platforms.entry(e.platform_id).or_default();
                t.reviews += 1;
                t.rating_sum_bp += u64::from(r);
                t.rating_sq_sum += u128::from(r) * u128::from(r);
            }
            Activity::Dispute(Dispute::Lost) => {
                acc.lost_w += w;
                acc.lost_n += 1;
            }
            Activity::Dispute(Dispute::Won | Dispute::Settled) => {}
            Activity::Linked { commitment } => {
                let candidate = (e.occurred_at, e.digest, commitment);
                // The latest link wins; two in the same second are ordered by their digest, so
                // the outcome never depends on the order attestations are read in.
                if acc.link.is_none_or(|cur| (candidate.0, candidate.1) > (cur.0, cur.1)) {
                    acc.link = Some(candidate);
                }
            }
            Activity::Savings => {
                if month < savings_window {
                    acc.savings_months |= 1 << month;
                }
            }
            Activity::Repaid { on_time: true } => acc.repaid_on_time += 1,
            Activity::Repaid { on_time: false } => acc.repaid_late += 1,
            Activity::Defaulted => {
                acc.defaults_n += 1;
                acc.defaults_w += w;
            }
        }
    }
}

/// Folds attested events into scores.
///
/// Accounts are spread over shards by a hash of their key so that [`Engine::add_batch`] folds on
/// every core; an account lives in exactly one shard and every sum is commutative, so the number
/// of shards never changes a result (a test asserts it).
#[derive(Debug)]
pub struct Engine {
    params: Params,
    as_of: i64,
    shards: Vec<Shard>,
}

/// FNV-1a over the account key: cheap, stable, and only used to pick a shard.
fn shard_of(platform_id: u64, worker_ref: &str, shards: usize) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in platform_id.to_le_bytes().iter().chain(worker_ref.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % shards as u64) as usize
}

impl Engine {
    /// An engine scoring as of `as_of` (unix seconds) with `params`, one shard per core.
    pub fn new(params: Params, as_of: i64) -> Self {
        Self::with_shards(params, as_of, rayon::current_num_threads())
    }

    /// An engine with `shards` shards (at least one).
    pub fn with_shards(params: Params, as_of: i64, shards: usize) -> Self {
        Self { params, as_of, shards: (0..shards.max(1)).map(|_| Shard::default()).collect() }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Events ignored because they happened after `as_of`.
    pub fn ignored_future(&self) -> u64 {
        self.shards.iter().map(|s| s.ignored_future).sum()
    }

    /// The rating totals so far, per platform.
    pub fn platform_totals(&self) -> BTreeMap<u64, PlatformTotals> {
        let mut out: BTreeMap<u64, PlatformTotals> = BTreeMap::new();
        for shard in &self.shards {
            for (p, t) in &shard.platforms {
                let o = out.entry(*p).or_default();
                o.reviews += t.reviews;
                o.rating_sum_bp += t.rating_sum_bp;
                o.rating_sq_sum += t.rating_sq_sum;
            }
        }
        out
    }

    /// Adds one event. Events after `as_of` are not part of this score and are ignored.
    pub fn add(&mut self, e: &Attested) {
        let i = shard_of(e.platform_id, &e.worker_ref, self.shards.len());
        self.shards[i].add(&self.params, self.as_of, e);
    }

    /// Adds many events, folding each shard on its own core.
    pub fn add_batch(&mut self, events: &[Attested]) {
        let (params, as_of, n) = (&self.params, self.as_of, self.shards.len());
        if n == 1 {
            for e in events {
                self.shards[0].add(params, as_of, e);
            }
            return;
        }
        self.shards.par_iter_mut().enumerate().for_each(|(i, shard)| {
            for e in events {
                if shard_of(e.platform_id, &e.worker_ref, n) == i {
                    shard.add(params, as_of, e);
                }
            }
        });
    }

    /// Adds many events.
    pub fn extend<'a>(&mut self, events: impl IntoIterator<Item = &'a Attested>) {
        for e in events {
            self.add(e);
        }
    }

    /// Scores every linked identity against the platform totals this engine gathered. The
    /// result is sorted by commitment (the snapshot's leaf order).
    pub fn finish(self) -> (Vec<WorkerScore>, BTreeMap<u64, PlatformTotals>) {
        let totals = self.platform_totals();
        let scores = self.finish_with_totals(&totals);
        (scores, totals)
    }

    /// Scores every linked identity against given platform totals (the ones a snapshot
    /// published, when only some workers' attestations are at hand).
    pub fn finish_with_totals(self, totals: &BTreeMap<u64, PlatformTotals>) -> Vec<WorkerScore> {
        let mut by_identity: BTreeMap<Commitment, Vec<AccountRef<'_>>> = BTreeMap::new();
        for (platform, accounts) in self.shards.iter().flat_map(|s| &s.accounts) {
            for (worker_ref, acc) in accounts {
                if let Some((_, _, c)) = acc.link {
                    by_identity.entry(c).or_default().push((*platform, worker_ref.as_str(), acc));
                }
            }
        }
        let groups: Vec<(Commitment, Vec<AccountRef<'_>>)> = by_identity
            .into_iter()
            .map(|(c, mut accounts)| {
                accounts.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
                (c, accounts)
            })
            .collect();
        let scorer = Scorer { p: &self.params, as_of: self.as_of, totals };
        groups
            .par_iter()
            .with_min_len(64)
            .map(|(commitment, accounts)| WorkerScore { commitment: *commitment, card: scorer.card(accounts) })
            .collect()
    }
}

/// (platform id, worker reference, sums).
type AccountRef<'a> = (u64, &'a str, &'a Account);

struct Scorer<'a> {
    p: &'a Params,
    as_of: i64,
    totals: &'a BTreeMap<u64, PlatformTotals>,
}

/// An account's platform score and how its shortfall splits into reasons (bp of 10,000).
struct AccountResult {
    breakdown: PlatformBreakdown,
    score: u128,
    weight: u128,
    losses: [(ReasonCode, u128); 6],
}

impl Scorer<'_> {
    /// Scores one account; `own` are the totals of every review the identity has on this
    /// platform (all its accounts there), which its reference leaves out.
    fn account(&self, platform_id: u64, worker_ref: &str, a: &Account, own: &PlatformTotals) -> AccountResult {
        let r = &self.p.reputation;
        // The platform's reference: everyone else's reviews there, shrunk toward the prior. The
        // identity's own reviews are left out, so that a worker's ratings on one account never
        // move the benchmark of their other account on the same platform.
        let t = self.totals.get(&platform_id).copied().unwrap_or_default();
        let n = u128::from(t.reviews.saturating_sub(own.reviews));
        let s = u128::from(t.rating_sum_bp.saturating_sub(own.rating_sum_bp));
        let ss = t.rating_sq_sum.saturating_sub(own.rating_sq_sum);
        let m0 = u128::from(r.platform_prior_reviews);
        let (mu0, sd0) = (u128::from(r.platform_prior_mean_bp), u128::from(r.platform_prior_sd_bp));
        let mean = (s + m0 * mu0) / (n + m0);
        let second = (ss + m0 * (sd0 * sd0 + mu0 * mu0)) / (n + m0);
        let sd = isqrt(second.saturating_sub(mean * mean)).max(u128::from(r.rating_sd_floor_bp));

        // Each review normalised against the reference and clamped, then averaged with the prior.
        let (centre, gain) = (i128::from(r.normalised_centre_bp), i128::from(r.normalised_bp_per_sd));
        let (mut w_sum, mut wn_sum) = (0u128, 0u128);
        for &(w, rating) in &a.reviews {
            let dev = i128::from(rating) - mean as i128;
            let norm = (centre + gain * dev / sd as i128).clamp(0, BPU as i128) as u128;
            w_sum += u128::from(w);
            wn_sum += u128::from(w) * norm;
        }
        let prior_w = u128::from(r.rating_prior_reviews) * u128::from(PPM);
        let prior = u128::from(r.rating_prior_bp);
        let quality = (wn_sum + prior_w * prior) / (w_sum + prior_w);
        let data = (w_sum > 0).then(|| wn_sum / w_sum);

        let (done, cancelled) = (u128::from(a.completed_w), u128::from(a.cancelled_w));
        let completion_prior_w = u128::from(r.completion_prior_tasks) * u128::from(PPM);
        let completion = (done * BPU + completion_prior_w * u128::from(r.completion_prior_bp))
            / (done + cancelled + completion_prior_w);
        let after_completion = quality * completion / BPU;
        let cancel_pen = (cancelled * u128::from(r.cancellation_penalty_bp) / u128::from(PPM))
            .min(u128::from(r.cancellation_penalty_cap_bp))
            .min(after_completion);
        let dispute_pen = (u128::from(a.lost_w) * u128::from(r.lost_dispute_penalty_bp) / u128::from(PPM))
            .min(u128::from(r.lost_dispute_penalty_cap_bp))
            .min(after_completion - cancel_pen);
        let score = after_completion - cancel_pen - dispute_pen;

        // Where the shortfall from 10,000 went; the six parts add up to 10,000 - score.
        let centre_u = centre as u128;
        let reference = data.unwrap_or(centre_u);
        let (few, anchor) = if reference > quality { (reference - quality, reference) } else { (0, quality) };
        let below = centre_u.saturating_sub(anchor);
        let short_of_best = BPU - anchor.max(centre_u);
        let losses = [
            (ReasonCode::RatingsBelowPlatformAverage, below),
            (ReasonCode::RatingsShortOfPlatformBest, short_of_best),
            (ReasonCode::FewRecentRatings, few),
            (ReasonCode::LowCompletionRate, quality - after_completion),
            (ReasonCode::WorkerCancellations, cancel_pen),
            (ReasonCode::LostDisputes, dispute_pen),
        ];
        AccountResult {
            breakdown: PlatformBreakdown {
                platform_id,
                worker_ref: worker_ref.to_string(),
                gigs: a.completed_n,
                reviews: a.reviews.len() as u64,
                cancellations: a.cancelled_n,
                lost_disputes: a.lost_n,
                reference_mean_bp: mean as u32,
                reference_sd_bp: sd.min(u128::from(u32::MAX)) as u32,
                normalised_rating_bp: data.map(|d| d as u32),
                rating_quality_bp: quality as u32,
                completion_bp: completion as u32,
                penalties_bp: (cancel_pen + dispute_pen) as u32,
                platform_score_bp: score as u32,
                weight_bp: 0,
            },
            score,
            weight: done + cancelled,
            losses,
        }
    }

    fn card(&self, accounts: &[AccountRef<'_>]) -> ScoreCard {
        let (r, c) = (&self.p.reputation, &self.p.credit);
        let mut own: BTreeMap<u64, PlatformTotals> = BTreeMap::new();
        for (platform, _, a) in accounts {
            let o = own.entry(*platform).or_default();
            o.reviews += a.reviews.len() as u64;
            o.rating_sum_bp += a.review_sum;
            o.rating_sq_sum += a.review_sq;
        }
        let mut results: Vec<AccountResult> = accounts
            .iter()
            .map(|(platform, worker_ref, a)| self.account(*platform, worker_ref, a, &own[platform]))
            .collect();
        let total_weight: u128 = results.iter().map(|x| x.weight).sum();
        let n_accounts = results.len() as u128;
        // Recency-weighted activity decides each account's share; with no tasks at all, equal shares.
        let share = |x: &AccountResult| if total_weight > 0 { (x.weight, total_weight) } else { (1, n_accounts) };
        let mut losses: BTreeMap<ReasonCode, u128> = BTreeMap::new();
        let mut weighted_sum = 0u128;
        for x in &results {
            let (num, _) = share(x);
            weighted_sum += x.score * num;
            for (code, loss) in x.losses {
                *losses.entry(code).or_default() += loss * num;
            }
        }
        let den = if total_weight > 0 { total_weight } else { n_accounts.max(1) };
        let combined = weighted_sum / den;
        for x in results.iter_mut() {
            let (num, den) = share(x);
            x.breakdown.weight_bp = (num * BPU / den.max(1)) as u32;
        }

        // Longevity: distinct months with completed work on any platform.
        let mut months: Vec<u32> = accounts.iter().flat_map(|(_, _, a)| a.task_months.iter().copied()).collect();
        months.sort_unstable();
        months.dedup();
        let active_months = months.len() as u32;
        let bonus =
            (u128::from(active_months) * u128::from(r.longevity_points_per_month)).min(u128::from(r.longevity_cap));
        let base_points = u128::from(r.base_points);
        let reputation = (combined * base_points / BPU + bonus).min(1000) as u32;
        let mut rep_reasons: Vec<Reason> = losses
            .into_iter()
            .map(|(code, loss)| Reason { code, points: (loss / den * base_points / BPU) as u32 })
            .collect();
        rep_reasons
            .push(Reason { code: ReasonCode::ShortWorkHistory, points: (u128::from(r.longevity_cap) - bonus) as u32 });

        // Credit components.
        let gigs: u64 = accounts.iter().map(|(_, _, a)| a.completed_n).sum();
        let month_secs = self.p.month_secs() as i64;
        let first_task = accounts.iter().filter_map(|(_, _, a)| a.first_task).min();
        let tenure_months = first_task.map_or(0, |t| ((self.as_of - t) / month_secs) as u32);
        let rep_c = u128::from(reputation) * 10;
        let tenure_c = (u128::from(tenure_months) * BPU / u128::from(c.tenure_full_months)).min(BPU);
        let recent_work = months.iter().filter(|m| **m < c.income_window_months).count() as u128;
        let income_c = recent_work * BPU / u128::from(c.income_window_months);
        let savings_mask = accounts.iter().fold(0u64, |m, (_, _, a)| m | a.savings_months);
        let savings_c = (u128::from(savings_mask.count_ones()) * BPU / u128::from(c.savings_full_months)).min(BPU);
        let on_time: u64 = accounts.iter().map(|(_, _, a)| a.repaid_on_time).sum();
        let late: u64 = accounts.iter().map(|(_, _, a)| a.repaid_late).sum();
        let defaults: u64 = accounts.iter().map(|(_, _, a)| a.defaults_n).sum();
        let defaults_w: u128 = accounts.iter().map(|(_, _, a)| u128::from(a.defaults_w)).sum();
        let lost_w: u128 = accounts.iter().map(|(_, _, a)| u128::from(a.lost_w)).sum();
        let prior_n = u128::from(c.repayment_prior_count);
        let repay_c = (u128::from(on_time) * BPU
            + u128::from(late) * u128::from(c.late_repayment_bp)
            + prior_n * u128::from(c.repayment_prior_bp))
            / (u128::from(on_time) + u128::from(late) + u128::from(defaults) * u128::from(c.default_weight) + prior_n);
        let disputes_c = BPU.saturating_sub(lost_w * u128::from(c.lost_dispute_bp) / u128::from(PPM));
        let weighted = [
            (ReasonCode::LowReputation, c.weight_reputation, rep_c),
            (ReasonCode::ShortTenure, c.weight_tenure, tenure_c),
            (ReasonCode::IrregularIncome, c.weight_income, income_c),
            (ReasonCode::LowSavings, c.weight_savings, savings_c),
            (
                if on_time + late + defaults == 0 {
                    ReasonCode::ThinRepaymentHistory
                } else {
                    ReasonCode::LateOrMissedRepayments
                },
                c.weight_repayment,
                repay_c,
            ),
            (ReasonCode::DisputeRecord, c.weight_disputes, disputes_c),
        ];
        let composite: u128 = weighted.iter().map(|(_, w, v)| u128::from(*w) * v).sum::<u128>() / 100;
        let penalty = (defaults_w * u128::from(c.default_penalty_points) / u128::from(PPM))
            .min(u128::from(c.default_penalty_cap));
        let raw = 300 + composite * 550 / BPU;
        let credit = raw.saturating_sub(penalty).clamp(300, 850) as u32;
        let mut credit_reasons: Vec<Reason> = weighted
            .iter()
            .map(|(code, w, v)| Reason { code: *code, points: (u128::from(*w) * (BPU - v) / 100 * 550 / BPU) as u32 })
            .collect();
        credit_reasons.push(Reason { code: ReasonCode::LoanDefault, points: penalty.min(raw - 300) as u32 });

        let tier = if credit >= c.tier_a {
            Tier::A
        } else if credit >= c.tier_b {
            Tier::B
        } else if credit >= c.tier_c {
            Tier::C
        } else if credit >= c.tier_d {
            Tier::D
        } else {
            Tier::E
        };

        // Limit: average monthly earnings in the currency earned most in the window.
        let mut earnings: BTreeMap<Currency, i128> = BTreeMap::new();
        for (_, _, a) in accounts {
            for (cur, amount) in &a.earnings {
                *earnings.entry(*cur).or_default() += amount;
            }
        }
        let dominant = earnings.iter().filter(|(_, v)| **v > 0).max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        let credit_limit = dominant.map(|(cur, total)| {
            let monthly = total / i128::from(c.income_window_months);
            let limit = monthly * i128::from(c.limit_percent[tier.index()]) / 100;
            Money { amount_minor: limit.min(i128::from(i64::MAX)) as i64, currency: cur.as_str().to_string() }
        });

        ScoreCard {
            reputation,
            credit,
            tier,
            gigs,
            credit_limit,
            active_months,
            tenure_months,
            credit_components: CreditComponents {
                reputation_bp: rep_c as u32,
                tenure_bp: tenure_c as u32,
                income_regularity_bp: income_c as u32,
                savings_bp: savings_c as u32,
                repayment_bp: repay_c as u32,
                disputes_bp: disputes_c as u32,
            },
            reputation_reasons: reasons::top(rep_reasons),
            credit_reasons: reasons::top(credit_reasons),
            platforms: results.into_iter().map(|x| x.breakdown).collect(),
        }
    }
}

/// Scores a set of events in one call: parse-free convenience over [`Engine`].
pub fn score_all(
    params: &Params,
    as_of: i64,
    events: &[Attested],
) -> (Vec<WorkerScore>, BTreeMap<u64, PlatformTotals>) {
    let mut engine = Engine::new(params.clone(), as_of);
    engine.extend(events);
    engine.finish()
}
