//! An economy on the ledger (issue 16): members trading for weeks of virtual time, every
//! payment a real signed governance change judged by the real `qun_crdt` ledger book, with a
//! fixed credit limit against a trust-scaled one.
//!
//! Model (one ChaCha12 RNG per run; no wall clock):
//! * `members` join an open community; the founder endorses 10 of them, and each later
//!   member is endorsed by two earlier ones (so trust reaches everyone in a few steps).
//! * Each member has a skill (how often others buy from it: Pareto-distributed) and an
//!   appetite (how likely it buys on a day). A tenth are free riders: they buy every day they
//!   can and nobody buys from them.
//! * Each day, each member buys with its appetite from a seller chosen by skill, at 1-10
//!   units, if its own account allows it (balance + limit, as its node's wallet says).
//! * A member stuck at its limit (unable to buy anything) for 14 days leaves the community:
//!   a *default*, its debt stays unpaid.
//! * Every week the book is folded from the signed changes and compared with what the members
//!   believe their balances are (they must agree: every payment here is sequential), and the
//!   week's figures are recorded.
//!
//! Run: `qun-sim economy --members 1000 --weeks 8 --out out/economy`.

use crate::error::Error;
use crate::plot::{Labels, Series, line_chart};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ReadDoc};
use qun_crdt::community::action::ChangeMeta;
use qun_crdt::ledger::{CreditLimit, LedgerPolicy};
use qun_crdt::test_utils::{T0, genesis, key, key_n, replica};
use qun_crdt::{Action, AdmissionPolicy, Community, CommunityGenesis, DocId, signing_message};
use qun_identity::{Endorsement, MemberId, SecretIdentity, Signed, Weight};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};

const DAY_MS: u64 = 24 * 3600 * 1000;
/// Days at the limit after which a member leaves.
const STUCK_DAYS: u32 = 14;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct EconomyConfig {
    /// Members, the founder included.
    pub members: u32,
    /// Weeks of virtual time.
    pub weeks: u32,
    /// The seed.
    pub seed: u64,
    /// The credit limit policy.
    pub limit: CreditLimit,
}

/// One week's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Week {
    /// Week number (1-based).
    pub week: u32,
    /// Payments this week.
    pub payments: u64,
    /// Units paid this week.
    pub volume: u64,
    /// Purchases members wanted and their limit refused.
    pub refused: u64,
    /// Standard deviation of the balances of members still in.
    pub spread: f64,
    /// 10th and 90th percentile balances of members still in.
    pub p10: i64,
    /// 90th percentile.
    pub p90: i64,
    /// Members at their limit.
    pub at_limit: u32,
    /// Members who left in default so far.
    pub defaults: u32,
    /// Their unpaid debt so far.
    pub defaulted_debt: u64,
}

/// A run's result.
#[derive(Clone, Debug, Serialize)]
pub struct EconomyResult {
    /// The limit policy, as text.
    pub limit: String,
    /// Members.
    pub members: u32,
    /// Week by week.
    pub weeks: Vec<Week>,
    /// Total units paid.
    pub volume: u64,
    /// Share of members who defaulted.
    pub default_share: f64,
    /// Defaulted debt as a share of all volume.
    pub defaulted_debt_share: f64,
    /// Free riders who defaulted, of all free riders.
    pub free_rider_defaults: u32,
    /// Free riders.
    pub free_riders: u32,
}

struct Member {
    key: SecretIdentity,
    skill: f64,
    appetite: f64,
    free_rider: bool,
    balance: i64,
    limit: i64,
    stuck: u32,
    gone: bool,
}

struct Ledger {
    g: CommunityGenesis,
    c: Community,
    am: Automerge,
    t: u64,
}

impl Ledger {
    /// A governance change by `k` carrying `a`, made on the current heads, signed, ingested.
    fn act(&mut self, k: &SecretIdentity, a: &Action) -> Result<(), Error> {
        self.am
            .set_actor(ActorId::from(&k.device_id().to_bytes()[..]));
        let hash = self.am.empty_commit(
            CommitOptions::default()
                .with_message(ChangeMeta::encode(a, &[]))
                .with_time(i64::try_from(self.t).unwrap_or(i64::MAX)),
        );
        let bytes = self
            .am
            .get_change_by_hash(&hash)
            .map(|c| c.raw_bytes().to_vec())
            .ok_or_else(|| Error::Economy("the change just made is missing".into()))?;
        let sig = k.sign_raw(&signing_message(&self.g.id(), &DocId::Governance, &hash));
        self.c.ingest(&DocId::Governance, &bytes, &sig)?;
        Ok(())
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Run one economy.
pub fn run(cfg: &EconomyConfig) -> Result<EconomyResult, Error> {
    let mut rng = ChaCha12Rng::seed_from_u64(cfg.seed);
    let founder = key(1);
    let g = genesis(&founder, AdmissionPolicy::Open);
    let mut c = replica(&g, &founder);
    let am = Automerge::load(&c.export_doc(&DocId::Governance)?)
        .map_err(|e| Error::Economy(e.to_string()))?;
    let mut l = Ledger {
        g,
        c,
        am,
        t: T0.as_millis(),
    };
    let n = cfg.members.max(3) as usize;
    let mut members: Vec<Member> = Vec::with_capacity(n);
    for i in 0..n {
        let k = if i == 0 {
            founder.clone()
        } else {
            key_n(3, i as u32)
        };
        let free_rider = i > 0 && rng.random_bool(0.1);
        // Pareto(1, 1.5) skill; free riders sell nothing.
        let u: f64 = rng.random_range(0.0001..1.0);
        let skill = if free_rider { 0.0 } else { u.powf(-1.0 / 1.5) };
        let appetite = if free_rider {
            1.0
        } else {
            rng.random_range(0.05..0.25)
        };
        members.push(Member {
            key: k,
            skill,
            appetite,
            free_rider,
            balance: 0,
            limit: 0,
            stuck: 0,
            gone: false,
        });
    }
    for m in members.iter().skip(1) {
        l.t += 1_000;
        l.act(
            &m.key,
            &Action::Join {
                cert: None,
                invitation: None,
                proof: None,
            },
        )?;
    }
    // The web of trust: the founder endorses 10, each later member is endorsed by 2 earlier.
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for to in 1..n.min(11) {
        edges.push((0, to));
    }
    for to in 11..n {
        for _ in 0..2 {
            edges.push((rng.random_range(1..to), to));
        }
    }
    for (from, to) in edges {
        l.t += 1_000;
        let e = Endorsement::new(
            members[from].key.member_id(),
            members[to].key.member_id(),
            Weight::FULL,
            qun_identity::Timestamp::from_millis(l.t),
        );
        let signed =
            Signed::sign(&members[from].key, e).map_err(|e| Error::Economy(e.to_string()))?;
        let fk = members[from].key.clone();
        l.act(
            &fk,
            &Action::Endorse {
                endorsement: signed.to_bytes(),
            },
        )?;
    }
    l.t += 1_000;
    l.act(
        &founder,
        &Action::LedgerPolicy {
            policy: LedgerPolicy {
                on: true,
                unit: "hours".into(),
                limit: cfg.limit,
            },
        },
    )?;
    let ids: Vec<MemberId> = members.iter().map(|m| m.key.member_id()).collect();
    let mut weeks = Vec::new();
    let (mut defaults, mut defaulted_debt, mut total_volume) = (0u32, 0u64, 0u64);
    let start = l.t;
    for week in 1..=cfg.weeks {
        // Limits as the book says at the start of the week (they follow trust).
        let book = l.c.ledger_book();
        for (i, m) in members.iter_mut().enumerate() {
            let a = book.account(&ids[i]);
            if a.balance != m.balance {
                return Err(Error::Economy(format!(
                    "member {i}: the book says {}, the member {}",
                    a.balance, m.balance
                )));
            }
            m.limit = a.limit as i64;
        }
        let (mut payments, mut volume, mut refused) = (0u64, 0u64, 0u64);
        for day in 0..7u64 {
            l.t = start + (u64::from(week - 1) * 7 + day) * DAY_MS;
            let total_skill: f64 = members.iter().filter(|m| !m.gone).map(|m| m.skill).sum();
            for b in 0..n {
                if members[b].gone || !rng.random_bool(members[b].appetite) {
                    continue;
                }
                // A seller by skill.
                let mut x = rng.random_range(0.0..total_skill.max(1e-9));
                let mut seller = None;
                for (s, m) in members.iter().enumerate() {
                    if m.gone || m.skill <= 0.0 {
                        continue;
                    }
                    x -= m.skill;
                    if x <= 0.0 {
                        seller = Some(s);
                        break;
                    }
                }
                let Some(s) = seller.filter(|s| *s != b) else {
                    continue;
                };
                let price = rng.random_range(1..=10i64);
                if members[b].balance - price < -members[b].limit {
                    refused += 1;
                    continue;
                }
                l.t += 1_000;
                let bk = members[b].key.clone();
                l.act(
                    &bk,
                    &Action::Pay {
                        to: ids[s],
                        amount: price as u64,
                        note: String::new(),
                        deal: None,
                    },
                )?;
                members[b].balance -= price;
                members[s].balance += price;
                payments += 1;
                volume += price as u64;
            }
            // Defaults: stuck at the limit for too long, a member leaves owing.
            for m in members.iter_mut().skip(1) {
                if m.gone {
                    continue;
                }
                if m.balance - 1 < -m.limit {
                    m.stuck += 1;
                } else {
                    m.stuck = 0;
                }
                if m.stuck >= STUCK_DAYS && m.balance < 0 {
                    m.gone = true;
                    defaults += 1;
                    defaulted_debt += m.balance.unsigned_abs();
                    let k = m.key.clone();
                    l.t += 1_000;
                    l.act(&k, &Action::Leave)?;
                }
            }
        }
        total_volume += volume;
        let mut bal: Vec<i64> = members
            .iter()
            .filter(|m| !m.gone)
            .map(|m| m.balance)
            .collect();
        bal.sort_unstable();
        let mean = bal.iter().sum::<i64>() as f64 / bal.len().max(1) as f64;
        let var =
            bal.iter().map(|b| (*b as f64 - mean).powi(2)).sum::<f64>() / bal.len().max(1) as f64;
        weeks.push(Week {
            week,
            payments,
            volume,
            refused,
            spread: var.sqrt(),
            p10: percentile(&bal, 0.1),
            p90: percentile(&bal, 0.9),
            at_limit: members
                .iter()
                .filter(|m| !m.gone && m.balance - 1 < -m.limit)
                .count() as u32,
            defaults,
            defaulted_debt,
        });
    }
    // The book at the end agrees with everyone, and sums to zero.
    let book = l.c.ledger_book();
    if book.imbalance() != 0 {
        return Err(Error::Economy("the book does not sum to zero".into()));
    }
    let free_riders = members.iter().filter(|m| m.free_rider).count() as u32;
    Ok(EconomyResult {
        limit: cfg.limit.to_string(),
        members: n as u32,
        weeks,
        volume: total_volume,
        default_share: f64::from(defaults) / n as f64,
        defaulted_debt_share: defaulted_debt as f64 / total_volume.max(1) as f64,
        free_rider_defaults: members.iter().filter(|m| m.free_rider && m.gone).count() as u32,
        free_riders,
    })
}

/// Write `summary.json`, `weeks.csv` and the plots comparing runs into `dir`.
pub fn write(dir: &Path, runs: &[EconomyResult]) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let summary = dir.join("summary.json");
    let json = serde_json::to_string_pretty(runs)?;
    std::fs::write(&summary, json).map_err(|e| Error::Io {
        path: summary.clone(),
        source: e,
    })?;
    let csv = dir.join("weeks.csv");
    let mut w = csv::Writer::from_path(&csv)?;
    for r in runs {
        for wk in &r.weeks {
            w.write_record([
                r.limit.clone(),
                wk.week.to_string(),
                wk.payments.to_string(),
                wk.volume.to_string(),
                wk.refused.to_string(),
                format!("{:.2}", wk.spread),
                wk.p10.to_string(),
                wk.p90.to_string(),
                wk.at_limit.to_string(),
                wk.defaults.to_string(),
                wk.defaulted_debt.to_string(),
            ])?;
        }
    }
    w.flush().map_err(|e| Error::Io {
        path: csv.clone(),
        source: e,
    })?;
    let mut out = vec![summary, csv];
    let series = |f: &dyn Fn(&Week) -> f64| -> Vec<Series> {
        runs.iter()
            .map(|r| Series {
                name: format!("limit {}", r.limit),
                points: r.weeks.iter().map(|w| (f64::from(w.week), f(w))).collect(),
            })
            .collect()
    };
    for (stem, title, y, f) in [
        (
            "balance_spread",
            "Spread of balances (standard deviation)",
            "units",
            &(|w: &Week| w.spread) as &dyn Fn(&Week) -> f64,
        ),
        ("volume", "Volume per week", "units", &|w: &Week| {
            w.volume as f64
        }),
        (
            "defaults",
            "Members who left in default (cumulative)",
            "members",
            &|w: &Week| f64::from(w.defaults),
        ),
    ] {
        out.extend(line_chart(
            &dir.join(stem),
            &Labels {
                title,
                x: "week",
                y,
            },
            &series(f),
            None,
        )?);
    }
    Ok(out)
}
