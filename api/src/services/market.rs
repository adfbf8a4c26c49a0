//! The marketplace behind `/v1/market/...`: every transition of a gig in one transaction that
//! locks the gig, replays nothing (the stored state is the fold of its history), applies the
//! action with [`jejak_market::Gig::apply`], writes the new state over the version it read,
//! appends the history entry, stores the work events the transition brings about as attestations
//! of the marketplace's own platform (the same rows `POST /v1/events` writes, batched and anchored
//! like any platform's) and the answer to the request's `Idempotency-Key`. Timers run as a job
//! ([`MarketTimers`]).

use std::sync::Arc;
use std::time::Duration;

use jejak_core::attestation::{self, Salt};
use jejak_core::event::WorkEvent;
use jejak_market::{Action, Actor, Clock, Entry, Gig, GigSpec, Outcome, Policy, Role, work_events};
use jejak_runtime::{Classify, Job, Pace, Severity};
use jejak_store::attestations::{self, NewAttestation};
use jejak_store::market::{self as db, GigRow, HistoryRow, IdempotencyRow};
use jejak_store::{Store, Tx};
use serde_json::{Value, json};

/// How the marketplace runs.
#[derive(Debug, Clone)]
pub struct MarketSettings {
    /// The timer periods of newly posted gigs.
    pub policy: Policy,
    /// The marketplace's platform id on chain: its outcomes become that platform's work events.
    /// None: the marketplace runs but sends no events.
    pub platform_id: Option<i64>,
    /// Key ids that may resolve disputes (the arbiter role).
    pub arbiter_keys: Vec<String>,
    /// How often the timer job looks for due timers.
    pub timer_interval: Duration,
}

impl Default for MarketSettings {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            platform_id: None,
            arbiter_keys: Vec::new(),
            timer_interval: Duration::from_secs(5),
        }
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        jejak_store::now_secs()
    }
}

/// Who calls, as the marketplace sees a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account the key acts for (a worker's id, `platform-N`, `admin-KEYID`).
    pub account: String,
    /// Whether the key may act as a worker (a worker key).
    pub worker: bool,
    /// Whether the key may act as a client (worker, platform and admin keys).
    pub client: bool,
    /// The operator (an admin key).
    pub admin: bool,
    /// Listed in `market.arbiter_keys`.
    pub arbiter: bool,
}

/// What can go wrong in a marketplace request.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// Input or authority refused by the model.
    #[error(transparent)]
    Model(jejak_market::Error),
    /// The transition is illegal in the gig's current state (which goes with it).
    #[error("{error}")]
    Illegal {
        /// Why.
        error: jejak_market::Error,
        /// The gig as it stands.
        gig: Box<Gig>,
    },
    /// No such gig.
    #[error("no such gig")]
    NotFound,
    /// The key was used for another request.
    #[error("this Idempotency-Key was used with a different request")]
    KeyReused,
    /// Writers kept moving the gig under this one.
    #[error("the gig is changing; retry")]
    Busy,
    /// The database.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
    /// A stored state or event that does not parse (a corrupt store).
    #[error("corrupt marketplace row: {0}")]
    Corrupt(String),
}

impl Classify for MarketError {
    fn severity(&self) -> Severity {
        match self {
            Self::Store(e) => e.severity(),
            Self::Corrupt(_) => Severity::Fatal,
            _ => Severity::Transient,
        }
    }
}

/// A request's `Idempotency-Key`, with what the request was.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The key.
    pub key: String,
    /// SHA-256 of the method, path and body.
    pub request_hash: [u8; 32],
}

/// The answer of a write: fresh, or the first answer to the same `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Applied now.
    Fresh {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Value,
    },
    /// Recorded before.
    Replayed {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Value,
    },
}

/// The marketplace service.
#[derive(Debug, Clone)]
pub struct Market {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: MarketSettings,
}

impl Market {
    /// A marketplace over `store`, reading the time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: MarketSettings) -> Self {
        Self { store, clock, settings }
    }

    /// Its settings.
    pub fn settings(&self) -> &MarketSettings {
        &self.settings
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Posts a gig for `caller`; `render` makes the answer's body.
    pub async fn post(
        &self,
        caller: &Caller,
        spec: GigSpec,
        idem: Option<&Idempotency>,
        render: impl Fn(&Gig) -> Value,
    ) -> Result<Answer, MarketError> {
        if !caller.client {
            return Err(MarketError::Model(jejak_market::Error::Forbidden("this key cannot post gigs".into())));
        }
        let actor = Actor { role: Role::Client, id: caller.account.clone() };
        let id = format!("gig_{}", uuid::Uuid::now_v7().simple());
        let entry =
            Entry { seq: 1, at: self.now(), actor, action: Action::Post { spec, policy: self.settings.policy } };
        let (gig, _) = Gig::post(&id, &entry).map_err(MarketError::Model)?;
        for attempt in 0..2 {
            let mut tx = self.store.begin().await?;
            if let Some(answer) = replayed(&mut tx, caller, idem).await? {
                return Ok(answer);
            }
            let Action::Post { spec, .. } = &entry.action else { unreachable!("built above") };
            let body = render(&gig);
            let result = async {
                db::insert_gig(
                    &mut tx,
                    self.store.backend(),
                    &row_of(&gig)?,
                    &history_row(&id, &entry)?,
                    &spec.title,
                    &spec.description,
                )
                .await?;
                record(&mut tx, caller, idem, 201, &body).await?;
                jejak_store::commit(tx).await?;
                Ok::<_, MarketError>(())
            }
            .await;
            match result {
                Ok(()) => return Ok(Answer::Fresh { status: 201, body }),
                // A concurrent request with the same key recorded its answer first: read it.
                Err(MarketError::Store(e)) if e.is_unique_violation() && attempt == 0 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(MarketError::Busy)
    }

    /// The gig.
    pub async fn get(&self, id: &str) -> Result<Gig, MarketError> {
        let mut c = self.store.conn().await?;
        let row = db::get_gig(&mut c, id).await?.ok_or(MarketError::NotFound)?;
        parse_state(&row)
    }

    /// The gig's history.
    pub async fn history(&self, id: &str) -> Result<Vec<Entry>, MarketError> {
        let mut c = self.store.conn().await?;
        db::history(&mut c, id)
            .await?
            .iter()
            .map(|h| {
                let action: Action =
                    serde_json::from_str(&h.action).map_err(|e| MarketError::Corrupt(e.to_string()))?;
                let role: Role =
                    serde_json::from_value(json!(h.actor_role)).map_err(|e| MarketError::Corrupt(e.to_string()))?;
                Ok(Entry { seq: h.seq as u64, at: h.at, actor: Actor { role, id: h.actor_id.clone() }, action })
            })
            .collect()
    }

    /// The role `caller` takes `action` in on `gig`.
    pub fn actor_for(&self, caller: &Caller, gig: &Gig, action: &Action) -> Result<Actor, MarketError> {
        let refuse = |m: &str| MarketError::Model(jejak_market::Error::Forbidden(m.into()));
        let role = match action {
            Action::Post { .. } => {
                return Err(MarketError::Model(jejak_market::Error::Invalid {
                    field: "type",
                    message: "gigs are posted with POST /v1/market/gigs".into(),
                }));
            }
            Action::ExpireProposal { .. } | Action::ExpireGig | Action::AutoAccept { .. } | Action::CloseReviews => {
                return Err(MarketError::Model(jejak_market::Error::Invalid {
                    field: "type",
                    message: "timer actions are the node's own".into(),
                }));
            }
            Action::Fund { .. } | Action::Release { .. } | Action::Refund { .. } if caller.admin => Role::Admin,
            Action::Fund { .. } | Action::Release { .. } | Action::Refund { .. } => {
                return Err(refuse("only the operator asserts escrow states"));
            }
            Action::Resolve { .. } if caller.arbiter => Role::Arbiter,
            Action::Resolve { .. } if caller.admin => Role::Admin,
            Action::Resolve { .. } => return Err(refuse("only an arbiter or the operator resolves disputes")),
            _ if caller.client && caller.account == gig.client => Role::Client,
            _ if caller.worker => Role::Worker,
            _ => return Err(refuse("only the gig's client and workers act on a gig")),
        };
        Ok(Actor { role, id: caller.account.clone() })
    }

    /// Applies `action` by `caller` to the gig `id`; `render` makes the answer's body.
    pub async fn act(
        &self,
        id: &str,
        caller: &Caller,
        action: Action,
        idem: Option<&Idempotency>,
        render: impl Fn(&Gig) -> Value,
    ) -> Result<Answer, MarketError> {
        for _ in 0..3 {
            let mut tx = self.store.begin().await?;
            let Some(row) = db::lock_gig(&mut tx, self.store.backend(), id).await? else {
                return Err(MarketError::NotFound);
            };
            // After the lock: a concurrent retry of this request waits for the first and reads its answer.
            if let Some(answer) = replayed(&mut tx, caller, idem).await? {
                return Ok(answer);
            }
            let gig = parse_state(&row)?;
            let actor = self.actor_for(caller, &gig, &action)?;
            match self.transition(&mut tx, &row, gig, actor, action.clone()).await? {
                Some(gig) => {
                    let body = render(&gig);
                    match record(&mut tx, caller, idem, 200, &body).await {
                        Err(MarketError::Store(e)) if e.is_unique_violation() => continue,
                        r => r?,
                    }
                    jejak_store::commit(tx).await?;
                    return Ok(Answer::Fresh { status: 200, body });
                }
                None => continue,
            }
        }
        Err(MarketError::Busy)
    }

    /// Applies one entry inside `tx`: None when another writer moved the gig first.
    async fn transition(
        &self,
        tx: &mut Tx,
        row: &GigRow,
        mut gig: Gig,
        actor: Actor,
        action: Action,
    ) -> Result<Option<Gig>, MarketError> {
        // Time never runs backwards in a gig, even between instances whose clocks differ.
        let at = self.now().max(gig.updated_at);
        let entry = Entry { seq: gig.version + 1, at, actor, action };
        let outcomes = match gig.apply(&entry) {
            Ok(o) => o,
            Err(error @ jejak_market::Error::Illegal { .. }) => {
                return Err(MarketError::Illegal { error, gig: Box::new(gig) });
            }
            Err(e) => return Err(MarketError::Model(e)),
        };
        if !db::update_gig(tx, self.store.backend(), &row_of(&gig)?, row.version).await? {
            return Ok(None);
        }
        db::append_history(tx, &history_row(&gig.id, &entry)?).await?;
        self.store_events(tx, &gig, &entry, &outcomes).await?;
        Ok(Some(gig))
    }

    /// The work events of a transition, stored as attestations of the marketplace's platform.
    async fn store_events(
        &self,
        tx: &mut Tx,
        gig: &Gig,
        entry: &Entry,
        outcomes: &[Outcome],
    ) -> Result<(), MarketError> {
        let Some(platform_id) = self.settings.platform_id else { return Ok(()) };
        // No `account_linked` here: a link needs the worker's consent (a link token), which the
        // marketplace does not collect yet, so outcomes score once the worker links the account.
        let events = work_events(gig, entry.seq, entry.at, outcomes);
        let now = time::OffsetDateTime::from_unix_timestamp(entry.at.saturating_add(60))
            .map_err(|e| MarketError::Corrupt(e.to_string()))?;
        for raw in events {
            let e =
                WorkEvent::from_raw(raw, now).map_err(|e| MarketError::Corrupt(format!("a marketplace event: {e}")))?;
            insert_event(tx, platform_id, &e, entry.at).await?;
        }
        Ok(())
    }

    /// Applies every timer due now to up to `limit` gigs; how many entries were applied.
    pub async fn run_timers(&self, limit: i64) -> Result<usize, MarketError> {
        let now = self.now();
        let mut conn = self.store.conn().await?;
        let ids = db::due(&mut conn, now, limit).await?;
        drop(conn);
        let mut applied = 0;
        for id in ids {
            loop {
                let mut tx = self.store.begin().await?;
                let Some(row) = db::lock_gig(&mut tx, self.store.backend(), &id).await? else { break };
                let gig = parse_state(&row)?;
                let Some(action) = gig.due(now).into_iter().next() else {
                    jejak_store::rollback(tx).await?;
                    break;
                };
                match self.transition(&mut tx, &row, gig, Actor::system(), action).await {
                    Ok(Some(_)) => {
                        jejak_store::commit(tx).await?;
                        applied += 1;
                    }
                    Ok(None) => continue,
                    // A timer that is no longer legal (a race with a party's action) is moot.
                    Err(MarketError::Illegal { .. }) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(applied)
    }
}

/// Stores one work event as an attestation of `platform_id`, as `POST /v1/events` does; an
/// event id stored before is left alone (the same outcome is never counted twice).
async fn insert_event(tx: &mut Tx, platform_id: i64, e: &WorkEvent, received_at: i64) -> Result<(), MarketError> {
    if let Some(event_id) = &e.raw.event_id
        && attestations::by_event_id(tx, platform_id, event_id).await?.is_some()
    {
        return Ok(());
    }
    let canonical = e.canonical_bytes();
    let digest = attestation::event_digest(&canonical);
    let salt = Salt::random();
    let leaf = attestation::leaf_hash(&salt, &digest);
    attestations::insert(
        tx,
        &NewAttestation {
            id: format!("att_{}", uuid::Uuid::now_v7().simple()),
            platform_id,
            event_type: e.kind.as_str().to_string(),
            event_id: e.raw.event_id.clone(),
            worker_ref: e.raw.worker.clone(),
            occurred_at: e.occurred_at.unix_timestamp(),
            received_at,
            body: String::from_utf8(canonical).map_err(|e| MarketError::Corrupt(e.to_string()))?,
            event_digest: digest,
            salt: salt.0,
            leaf,
        },
    )
    .await?;
    Ok(())
}

async fn replayed(tx: &mut Tx, caller: &Caller, idem: Option<&Idempotency>) -> Result<Option<Answer>, MarketError> {
    let Some(idem) = idem else { return Ok(None) };
    let Some(prev) = db::idempotency_get(tx, &caller.account, &idem.key).await? else { return Ok(None) };
    if prev.request_hash != idem.request_hash {
        return Err(MarketError::KeyReused);
    }
    let body = serde_json::from_str(&prev.response).map_err(|e| MarketError::Corrupt(e.to_string()))?;
    Ok(Some(Answer::Replayed { status: prev.status as u16, body }))
}

async fn record(
    tx: &mut Tx,
    caller: &Caller,
    idem: Option<&Idempotency>,
    status: u16,
    body: &Value,
) -> Result<(), MarketError> {
    let Some(idem) = idem else { return Ok(()) };
    db::idempotency_put(
        tx,
        &IdempotencyRow {
            principal: caller.account.clone(),
            key: idem.key.clone(),
            request_hash: idem.request_hash,
            status: i64::from(status),
            response: body.to_string(),
            created_at: jejak_store::now_secs(),
        },
    )
    .await?;
    Ok(())
}

fn parse_state(row: &GigRow) -> Result<Gig, MarketError> {
    serde_json::from_str(&row.state).map_err(|e| MarketError::Corrupt(format!("gig {}: {e}", row.id)))
}

fn row_of(gig: &Gig) -> Result<GigRow, MarketError> {
    let (lat, lon) = match gig.spec.location {
        jejak_market::Location::OnSite { lat, lon, .. } => (Some(lat), Some(lon)),
        jejak_market::Location::Remote => (None, None),
    };
    Ok(GigRow {
        id: gig.id.clone(),
        client: gig.client.clone(),
        worker: gig.contract.as_ref().map(|c| c.worker.clone()),
        status: gig.status.as_str().into(),
        version: gig.version as i64,
        state: serde_json::to_string(gig).map_err(|e| MarketError::Corrupt(e.to_string()))?,
        category: gig.spec.category.clone(),
        lat,
        lon,
        currency: gig.spec.currency.code().into(),
        pay_max_minor: gig.spec.pay.ceiling_minor(),
        req_tier_rank: gig.spec.requirement.min_tier.map_or(5, |t| t.rank()),
        req_min_score: i64::from(gig.spec.requirement.min_score),
        deadline: gig.spec.deadline,
        posted_at: gig.posted_at,
        updated_at: gig.updated_at,
        next_timer_at: gig.next_timer(),
    })
}

fn history_row(gig_id: &str, e: &Entry) -> Result<HistoryRow, MarketError> {
    let role = serde_json::to_value(e.actor.role).map_err(|e| MarketError::Corrupt(e.to_string()))?;
    Ok(HistoryRow {
        gig_id: gig_id.into(),
        seq: e.seq as i64,
        at: e.at,
        actor_role: role.as_str().unwrap_or_default().into(),
        actor_id: e.actor.id.clone(),
        action: serde_json::to_string(&e.action).map_err(|e| MarketError::Corrupt(e.to_string()))?,
    })
}

/// The timers of every gig (offers lapse, deliveries accepted, reviews published, deadlines),
/// a supervised job.
#[derive(Debug)]
pub struct MarketTimers {
    market: Market,
}

impl MarketTimers {
    /// The job over a marketplace.
    pub fn new(market: Market) -> Self {
        Self { market }
    }
}

/// Gigs handled per step of the timer job.
const TIMER_BATCH: i64 = 256;

impl Job for MarketTimers {
    type Error = MarketError;

    async fn step(&mut self) -> Result<Pace, MarketError> {
        let applied = self.market.run_timers(TIMER_BATCH).await?;
        if applied > 0 {
            tracing::debug!(target: "jejak::market", applied, "marketplace timers applied");
        }
        Ok(if applied as i64 >= TIMER_BATCH { Pace::Busy } else { Pace::Idle(self.market.settings.timer_interval) })
    }
}
