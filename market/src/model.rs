//! What a client posts and what the two sides agree on, with their bounds.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, check_amount};
use crate::{Error, Result};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description or message, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest short note (a delivery note, a reason), in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Most proposals a gig takes.
pub const MAX_PROPOSALS: usize = 200;
/// Most milestones a contract has.
pub const MAX_MILESTONES: usize = 20;
/// Most counter-offers in one negotiation.
pub const MAX_ROUNDS: usize = 20;
/// Most deliveries of one milestone (a delivery, then changes asked for, again...).
pub const MAX_DELIVERIES: u32 = 10;
/// Largest search or service radius, in metres.
pub const MAX_RADIUS_M: u32 = 500_000;
/// Most hours an hourly gig may cap its work at.
pub const MAX_HOURS: u32 = 10_000;
/// The longest time a gig, an offer or a policy period may run, in seconds (about two years).
pub const MAX_PERIOD_SECS: i64 = 2 * 366 * 86_400;

/// A credit tier, A (best) to E, as the scoring engine publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// The best tier.
    A,
    /// Second.
    B,
    /// Third.
    C,
    /// Fourth.
    D,
    /// The lowest tier.
    E,
}

impl Tier {
    /// The tier's letter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
            Self::E => "E",
        }
    }

    /// 1 for A .. 5 for E: a worker of tier `t` meets a requirement `r` when `t.rank() <= r.rank()`.
    pub fn rank(self) -> i64 {
        self as i64 + 1
    }
}

/// Where the work happens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Location {
    /// Anywhere.
    Remote,
    /// At a place, within a radius; physical work, delivered with proof-of-reality evidence.
    OnSite {
        /// Latitude in degrees, -90 to 90.
        lat: f64,
        /// Longitude in degrees, -180 to 180.
        lon: f64,
        /// How far from the point the work may be, in metres (1 to 500,000).
        radius_m: u32,
    },
}

impl Location {
    /// Whether the work is physical (evidence required on delivery).
    pub fn is_physical(&self) -> bool {
        matches!(self, Self::OnSite { .. })
    }

    fn validate(&self) -> Result<()> {
        if let Self::OnSite { lat, lon, radius_m } = *self {
            crate::geo::check_point(lat, lon)?;
            if radius_m == 0 || radius_m > MAX_RADIUS_M {
                return Err(Error::invalid("location.radius_m", format!("1 to {MAX_RADIUS_M} metres")));
            }
        }
        Ok(())
    }
}

/// How the gig pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pay {
    /// A fixed budget for the whole gig.
    Fixed {
        /// The budget, in minor units.
        budget_minor: i64,
    },
    /// An hourly rate with a cap on hours.
    Hourly {
        /// The rate per hour, in minor units.
        rate_minor: i64,
        /// The most hours paid (1 to 10,000).
        max_hours: u32,
    },
}

impl Pay {
    /// The most the gig pays, in minor units (what search compares).
    pub fn ceiling_minor(&self) -> i64 {
        match *self {
            Self::Fixed { budget_minor } => budget_minor,
            // 10^15 times 10^4 exceeds i64: saturate, and validation refuses what passes the largest amount.
            Self::Hourly { rate_minor, max_hours } => rate_minor.saturating_mul(i64::from(max_hours)),
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            Self::Fixed { budget_minor } => check_amount("pay.budget_minor", budget_minor),
            Self::Hourly { rate_minor, max_hours } => {
                check_amount("pay.rate_minor", rate_minor)?;
                if max_hours == 0 || max_hours > MAX_HOURS {
                    return Err(Error::invalid("pay.max_hours", format!("1 to {MAX_HOURS}")));
                }
                check_amount("pay.rate_minor", self.ceiling_minor())
                    .map_err(|_| Error::invalid("pay.max_hours", "rate times hours exceeds the largest amount"))
            }
        }
    }
}

/// The reputation a worker needs to take the gig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Lowest reputation score (0 to 1000).
    #[serde(default)]
    pub min_score: u16,
    /// Fewest completed gigs.
    #[serde(default)]
    pub min_gigs: u32,
    /// Worst credit tier accepted (none: any).
    #[serde(default)]
    pub min_tier: Option<Tier>,
}

/// The timer periods a gig runs under, fixed when it is posted so its history replays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Delivered work is accepted automatically after this many seconds without an answer.
    pub auto_accept_secs: i64,
    /// Reviews are published this many seconds after the contract ends even if one side is silent.
    pub review_window_secs: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { auto_accept_secs: 7 * 86_400, review_window_secs: 14 * 86_400 }
    }
}

impl Policy {
    /// Checks both periods are positive and at most [`MAX_PERIOD_SECS`].
    pub fn validate(&self) -> Result<()> {
        for (field, v) in [("auto_accept_secs", self.auto_accept_secs), ("review_window_secs", self.review_window_secs)]
        {
            if v <= 0 || v > MAX_PERIOD_SECS {
                return Err(Error::invalid(field, format!("1 to {MAX_PERIOD_SECS} seconds")));
            }
        }
        Ok(())
    }
}

/// What a client posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GigSpec {
    /// A one-line title (1 to 200 characters).
    pub title: String,
    /// What the work is (up to 10,000 characters).
    #[serde(default)]
    pub description: String,
    /// A category slug: lower-case letters, digits and `-`, 1 to 64 characters (`delivery`).
    pub category: String,
    /// Remote or on site.
    pub location: Location,
    /// Fixed budget or hourly.
    pub pay: Pay,
    /// The currency of every amount of the gig.
    pub currency: Currency,
    /// When the gig stops taking proposals (unix seconds).
    pub deadline: i64,
    /// The reputation a worker needs.
    #[serde(default)]
    pub requirement: Requirement,
}

impl GigSpec {
    /// Checks every bound; `now` (unix seconds) for the deadline, which must lie ahead by at most
    /// [`MAX_PERIOD_SECS`].
    pub fn validate(&self, now: i64) -> Result<()> {
        check_text("title", &self.title, 1, MAX_TITLE_CHARS)?;
        check_text("description", &self.description, 0, MAX_TEXT_CHARS)?;
        check_slug("category", &self.category)?;
        self.location.validate()?;
        self.pay.validate()?;
        if self.deadline <= now || self.deadline - now > MAX_PERIOD_SECS {
            return Err(Error::invalid("deadline", "the deadline lies ahead, by at most two years"));
        }
        if self.requirement.min_score > 1000 {
            return Err(Error::invalid("requirement.min_score", "0 to 1000"));
        }
        Ok(())
    }

    /// The terms a worker agrees to when taking the gig as posted: one milestone of the whole
    /// budget (or the rate times the hours cap).
    pub fn posted_terms(&self) -> Terms {
        Terms { milestones: vec![MilestoneSpec { title: "Whole gig".into(), amount_minor: self.pay.ceiling_minor() }] }
    }
}

/// One milestone as proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSpec {
    /// What is delivered (1 to 200 characters).
    pub title: String,
    /// What it pays, in minor units of the gig's currency.
    pub amount_minor: i64,
}

/// Terms of a proposal or counter-offer: the milestones and what each pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// One to [`MAX_MILESTONES`] milestones, in order.
    pub milestones: Vec<MilestoneSpec>,
}

impl Terms {
    /// Checks the milestones and that their total is an amount.
    pub fn validate(&self) -> Result<()> {
        if self.milestones.is_empty() || self.milestones.len() > MAX_MILESTONES {
            return Err(Error::invalid("milestones", format!("1 to {MAX_MILESTONES} milestones")));
        }
        for m in &self.milestones {
            check_text("milestones.title", &m.title, 1, MAX_TITLE_CHARS)?;
            check_amount("milestones.amount_minor", m.amount_minor)?;
        }
        check_amount("milestones.amount_minor", self.total_minor())
            .map_err(|_| Error::invalid("milestones.amount_minor", "the milestones' total exceeds the largest amount"))
    }

    /// The sum of the milestones (saturating; [`Terms::validate`] bounds it).
    pub fn total_minor(&self) -> i64 {
        self.milestones.iter().fold(0i64, |a, m| a.saturating_add(m.amount_minor))
    }
}

/// Checks a text's length in characters and that it holds no control characters but newlines
/// and tabs.
pub(crate) fn check_text(field: &'static str, s: &str, min: usize, max: usize) -> Result<()> {
    // Count at most max + 1 characters: a 4 MiB string is not walked to the end.
    let n = s.chars().take(max + 1).count();
    if n < min || n > max {
        return Err(Error::invalid(field, format!("{min} to {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid(field, "no control characters"));
    }
    Ok(())
}

fn check_slug(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(Error::invalid(field, "1 to 64 characters of a-z, 0-9 and -"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> GigSpec {
        GigSpec {
            title: "Deliver a parcel".into(),
            description: String::new(),
            category: "delivery".into(),
            location: Location::OnSite { lat: -6.2, lon: 106.8, radius_m: 5_000 },
            pay: Pay::Fixed { budget_minor: 5_000_000 },
            currency: Currency::parse("IDR").unwrap(),
            deadline: 2_000,
            requirement: Requirement::default(),
        }
    }

    #[test]
    fn a_good_spec_passes_and_each_bad_field_is_named() {
        spec().validate(1_000).unwrap();
        type Change = Box<dyn Fn(&mut GigSpec)>;
        let cases: Vec<(&str, Change)> = vec![
            ("title", Box::new(|s| s.title = String::new())),
            ("title", Box::new(|s| s.title = "x".repeat(201))),
            ("title", Box::new(|s| s.title = "a\u{0}b".into())),
            ("category", Box::new(|s| s.category = "Delivery".into())),
            ("location.lat", Box::new(|s| s.location = Location::OnSite { lat: 91.0, lon: 0.0, radius_m: 1 })),
            ("location.lon", Box::new(|s| s.location = Location::OnSite { lat: 0.0, lon: f64::NAN, radius_m: 1 })),
            ("location.radius_m", Box::new(|s| s.location = Location::OnSite { lat: 0.0, lon: 0.0, radius_m: 0 })),
            ("pay.budget_minor", Box::new(|s| s.pay = Pay::Fixed { budget_minor: -5 })),
            ("pay.max_hours", Box::new(|s| s.pay = Pay::Hourly { rate_minor: 10, max_hours: 0 })),
            ("pay.max_hours", Box::new(|s| s.pay = Pay::Hourly { rate_minor: crate::MAX_AMOUNT_MINOR, max_hours: 10 })),
            ("deadline", Box::new(|s| s.deadline = 1_000)),
            ("deadline", Box::new(|s| s.deadline = i64::MAX)),
            ("requirement.min_score", Box::new(|s| s.requirement.min_score = 1001)),
        ];
        for (field, change) in cases {
            let mut s = spec();
            change(&mut s);
            match s.validate(1_000) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn terms_are_bounded() {
        let m = |a| MilestoneSpec { title: "m".into(), amount_minor: a };
        assert!(Terms { milestones: vec![m(1)] }.validate().is_ok());
        assert!(Terms { milestones: vec![] }.validate().is_err());
        assert!(Terms { milestones: vec![m(1); MAX_MILESTONES + 1] }.validate().is_err());
        assert!(Terms { milestones: vec![m(crate::MAX_AMOUNT_MINOR); 2] }.validate().is_err());
    }
}
