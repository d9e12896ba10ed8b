//! Endorsements and invitations: the signed edges the trust engine computes with.
//!
//! An [`Endorsement`] says "`from` trusts `to` on `topic`, this much (-1.0 ..= 1.0), until
//! `expires`". A newer endorsement from the same member for the same `(to, topic, scope)`
//! supersedes the older one; weight 0 revokes. Negative weights are for the holder's own local
//! filtering; the trust engine never propagates them (see `qun-trust`).
//!
//! An [`Invitation`] is the community-scoped kind: a member invites someone (named, or the
//! bearer of a code) into a community. Once used, it stands as an endorsement edge from the
//! inviter to the new member in that community, with topic [`Topic::INVITE`].

use crate::device::{Attributed, Capabilities};
use crate::envelope::{Signed, SignedBody};
use crate::error::{Error, Result};
use crate::{ContentId, MemberId, PublicIdentity, SecretIdentity, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

/// Longest note on an endorsement or invitation, in bytes.
pub const MAX_NOTE_BYTES: usize = 512;
/// Longest topic, in bytes.
pub const MAX_TOPIC_BYTES: usize = 64;

/// What an endorsement is about: `*` for general trust, or a lower-case name such as `rust`,
/// `sellers`, `moderation` (`[a-z0-9][a-z0-9._-]*`, at most 64 bytes).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Topic(String);

impl Topic {
    /// General trust.
    pub const GENERAL: &'static str = "*";
    /// The topic of edges that come from used invitations.
    pub const INVITE: &'static str = "invite";

    /// Parse and check a topic name.
    pub fn new(name: &str) -> Result<Self> {
        let ok_first = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let ok_rest = |c: char| ok_first(c) || matches!(c, '.' | '_' | '-');
        let valid = name == Self::GENERAL
            || (!name.is_empty()
                && name.len() <= MAX_TOPIC_BYTES
                && name.chars().next().is_some_and(ok_first)
                && name.chars().all(ok_rest));
        if valid {
            Ok(Topic(name.to_string()))
        } else {
            Err(Error::invalid(
                "topic",
                format!(
                    "{:?}: use '*' or [a-z0-9][a-z0-9._-]* up to 64 bytes",
                    name.chars().take(80).collect::<String>()
                ),
            ))
        }
    }

    /// General trust (`*`).
    pub fn general() -> Self {
        Topic(Self::GENERAL.to_string())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Topic {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Topic::new(&s)
    }
}

impl From<Topic> for String {
    fn from(t: Topic) -> String {
        t.0
    }
}

impl std::str::FromStr for Topic {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Topic::new(s)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic({})", self.0)
    }
}

/// Endorsement weight in thousandths, -1000 ..= 1000 (exact, so encodings are canonical).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i16", into = "i16")]
pub struct Weight(i16);

impl Weight {
    /// Full trust.
    pub const FULL: Weight = Weight(1000);
    /// Revocation.
    pub const ZERO: Weight = Weight(0);
    /// Full distrust.
    pub const DISTRUST: Weight = Weight(-1000);

    /// From thousandths; fails outside -1000 ..= 1000.
    pub fn from_millis(m: i16) -> Result<Self> {
        if (-1000..=1000).contains(&m) {
            Ok(Weight(m))
        } else {
            Err(Error::invalid(
                "weight",
                format!("{m}/1000 is outside [-1, 1]"),
            ))
        }
    }

    /// From a float in [-1.0, 1.0], rounded to thousandths; NaN and out-of-range fail.
    pub fn from_f64(w: f64) -> Result<Self> {
        if !w.is_finite() || !(-1.0..=1.0).contains(&w) {
            return Err(Error::invalid("weight", format!("{w} is outside [-1, 1]")));
        }
        Ok(Weight((w * 1000.0).round() as i16))
    }

    /// As a float.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1000.0
    }

    /// In thousandths.
    pub fn millis(self) -> i16 {
        self.0
    }
}

impl TryFrom<i16> for Weight {
    type Error = Error;
    fn try_from(m: i16) -> Result<Self> {
        Weight::from_millis(m)
    }
}

impl From<Weight> for i16 {
    fn from(w: Weight) -> i16 {
        w.0
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.as_f64())
    }
}

impl fmt::Debug for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Weight({self})")
    }
}

/// Where an endorsement applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// Only inside one community (its id).
    Community(ContentId),
}

/// "`from` trusts `to` on `topic` with `weight`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endorsement {
    /// The endorsing member.
    pub from: MemberId,
    /// The endorsed member.
    pub to: MemberId,
    /// What about.
    pub topic: Topic,
    /// Where.
    pub scope: Scope,
    /// How much; 0 revokes an earlier endorsement.
    pub weight: Weight,
    /// When it was made (signer's claim).
    pub created: Timestamp,
    /// When it lapses (exclusive), if ever.
    pub expires: Option<Timestamp>,
    /// Free text for humans, at most 512 bytes.
    pub note: String,
}

/// The slot an endorsement occupies: a newer one in the same slot supersedes it.
pub type EndorsementKey = (MemberId, MemberId, Topic, Scope);

impl Endorsement {
    /// A general, global endorsement with no expiry and no note.
    pub fn new(from: MemberId, to: MemberId, weight: Weight, created: Timestamp) -> Self {
        Endorsement {
            from,
            to,
            topic: Topic::general(),
            scope: Scope::Global,
            weight,
            created,
            expires: None,
            note: String::new(),
        }
    }

    /// The supersession slot.
    pub fn key(&self) -> EndorsementKey {
        (self.from, self.to, self.topic.clone(), self.scope)
    }

    /// Whether this is a revocation (weight 0).
    pub fn is_revocation(&self) -> bool {
        self.weight == Weight::ZERO
    }
}

impl SignedBody for Endorsement {
    const KIND: &'static str = "endorsement";
    const VERSION: u16 = 1;
    const MAX_BODY_BYTES: usize = 1024;

    fn check(&self) -> Result<()> {
        if self.from == self.to {
            return Err(Error::invalid(
                "endorsement",
                "a member cannot endorse itself",
            ));
        }
        if self.note.len() > MAX_NOTE_BYTES {
            return Err(Error::invalid("endorsement", "note longer than 512 bytes"));
        }
        if self.expires.is_some_and(|e| e <= self.created) {
            return Err(Error::invalid(
                "endorsement",
                "expires before it was created",
            ));
        }
        Ok(())
    }

    fn validity(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (None, self.expires)
    }
}

impl Attributed for Endorsement {
    const CAPABILITY: Capabilities = Capabilities::ENDORSE;
    fn claimed_member(&self) -> MemberId {
        self.from
    }
    fn made_at(&self) -> Timestamp {
        self.created
    }
}

impl Signed<Endorsement> {
    /// Whether `self` replaces `other`: same slot, and later — by `created`, then by content id
    /// so that every node picks the same one of two endorsements made in the same millisecond.
    pub fn supersedes(&self, other: &Signed<Endorsement>) -> bool {
        let (a, b) = (self.value(), other.value());
        a.key() == b.key() && (a.created, self.id()) > (b.created, other.id())
    }
}

/// What happened when an endorsement went into an [`EndorsementBook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// First endorsement in its slot.
    New,
    /// It replaced an older one.
    Superseded,
    /// An equal or newer one was already there; nothing changed.
    Stale,
}

/// The latest endorsement per slot, whatever order they arrive in.
#[derive(Clone, Debug, Default)]
pub struct EndorsementBook {
    latest: BTreeMap<EndorsementKey, Signed<Endorsement>>,
}

impl EndorsementBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep `e` if it is the newest in its slot.
    pub fn insert(&mut self, e: Signed<Endorsement>) -> Inserted {
        match self.latest.entry(e.value().key()) {
            Entry::Vacant(v) => {
                v.insert(e);
                Inserted::New
            }
            Entry::Occupied(mut o) => {
                if e.supersedes(o.get()) {
                    o.insert(e);
                    Inserted::Superseded
                } else {
                    Inserted::Stale
                }
            }
        }
    }

    /// The latest endorsement in each slot, revocations included.
    pub fn latest(&self) -> impl Iterator<Item = &Signed<Endorsement>> {
        self.latest.values()
    }

    /// The endorsements in force at `now`: latest per slot, not revoked, not expired.
    pub fn active(&self, now: Timestamp) -> impl Iterator<Item = &Signed<Endorsement>> {
        self.latest
            .values()
            .filter(move |e| !e.value().is_revocation() && e.valid_at(now))
    }

    /// Number of slots held.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

/// "`inviter` invites `invitee` (or whoever holds this code) into `community`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The community.
    pub community: ContentId,
    /// The inviting member.
    pub inviter: MemberId,
    /// The invited member, or `None` for a bearer invitation usable by whoever holds the code.
    pub invitee: Option<MemberId>,
    /// Random, so that two invitations are never the same object (and a bearer code is single-use).
    pub nonce: [u8; 16],
    /// The public half of the bearer key, for a bearer invitation (`invitee: None`). The invite
    /// code carries the secret half; a join proves possession by signing the joiner's member id
    /// with it (see [`Invitation::prove`]), so copying a join request gains nothing.
    pub key: Option<PublicIdentity>,
    /// When it was made.
    pub created: Timestamp,
    /// When it lapses, if ever.
    pub expires: Option<Timestamp>,
    /// Free text for humans, at most 512 bytes.
    pub note: String,
}

impl Invitation {
    /// A bearer invitation with a random nonce and a fresh bearer key; returns the invitation
    /// and the secret half of the key, which goes into the invite code (never into a join).
    pub fn bearer(
        community: ContentId,
        inviter: MemberId,
        created: Timestamp,
        expires: Option<Timestamp>,
    ) -> Result<(Self, SecretIdentity)> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        let secret = SecretIdentity::generate()?;
        Ok((
            Invitation {
                community,
                inviter,
                invitee: None,
                nonce,
                key: Some(secret.public()),
                created,
                expires,
                note: String::new(),
            },
            secret,
        ))
    }

    /// An invitation naming `invitee` (no bearer key: the joiner's own signature is the proof).
    pub fn named(
        community: ContentId,
        inviter: MemberId,
        invitee: MemberId,
        created: Timestamp,
        expires: Option<Timestamp>,
    ) -> Result<Self> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Invitation {
            community,
            inviter,
            invitee: Some(invitee),
            nonce,
            key: None,
            created,
            expires,
            note: String::new(),
        })
    }

    /// Whether `member` may use this invitation (a bearer invitation also needs a proof).
    pub fn admits(&self, member: &MemberId) -> bool {
        self.invitee.is_none_or(|i| i == *member)
    }

    /// The bytes a possession proof signs: `"qun/invitation-proof/v1" || 0 || community ||
    /// invitation nonce || joiner`.
    fn proof_message(&self, joiner: &MemberId) -> Vec<u8> {
        let mut m = Vec::with_capacity(INVITATION_PROOF_TAG.len() + 1 + 32 + 16 + 32);
        m.extend_from_slice(INVITATION_PROOF_TAG.as_bytes());
        m.push(0);
        m.extend_from_slice(self.community.as_bytes());
        m.extend_from_slice(&self.nonce);
        m.extend_from_slice(&joiner.to_bytes());
        m
    }

    /// Prove possession of a bearer invitation's secret for `joiner`: the signature binds the
    /// use of the code to one member id.
    pub fn prove(&self, secret: &SecretIdentity, joiner: &MemberId) -> [u8; 64] {
        secret.sign_raw(&self.proof_message(joiner))
    }

    /// Check that `joiner` may use this invitation: the named invitee, or (bearer) the holder
    /// of the bearer key's secret, shown by `proof`.
    pub fn check_use(&self, joiner: &MemberId, proof: Option<&[u8; 64]>) -> Result<()> {
        match (self.invitee, self.key) {
            (Some(i), _) if i == *joiner => Ok(()),
            (Some(_), _) => Err(Error::invalid("invitation", "names someone else")),
            (None, Some(key)) => {
                let sig = proof.ok_or_else(|| {
                    Error::invalid("invitation", "bearer invitation used without a proof")
                })?;
                crate::keys::verify_raw(&key, &self.proof_message(joiner), sig)
            }
            (None, None) => Err(Error::invalid(
                "invitation",
                "bearer invitation without a key",
            )),
        }
    }

    /// The (unsigned) endorsement edge a used invitation stands for.
    pub fn as_edge(&self, invitee: MemberId) -> Endorsement {
        Endorsement {
            from: self.inviter,
            to: invitee,
            topic: Topic(Topic::INVITE.to_string()),
            scope: Scope::Community(self.community),
            weight: Weight::FULL,
            created: self.created,
            expires: None,
            note: String::new(),
        }
    }
}

/// Domain tag of bearer-invitation possession proofs.
pub const INVITATION_PROOF_TAG: &str = "qun/invitation-proof/v1";

impl SignedBody for Invitation {
    const KIND: &'static str = "invitation";
    const VERSION: u16 = 2;
    const MAX_BODY_BYTES: usize = 1024;

    fn check(&self) -> Result<()> {
        if self.invitee == Some(self.inviter) {
            return Err(Error::invalid(
                "invitation",
                "a member cannot invite itself",
            ));
        }
        if self.invitee.is_none() == self.key.is_none() {
            return Err(Error::invalid(
                "invitation",
                "a bearer invitation needs a key; a named one has none",
            ));
        }
        if self.note.len() > MAX_NOTE_BYTES {
            return Err(Error::invalid("invitation", "note longer than 512 bytes"));
        }
        if self.expires.is_some_and(|e| e <= self.created) {
            return Err(Error::invalid(
                "invitation",
                "expires before it was created",
            ));
        }
        Ok(())
    }

    /// Only the inviter's root key signs its invitations (a device cannot invite in its
    /// member's name: a community judges the inviter's permission, so the signature must be
    /// the inviter's own).
    fn required_signer(&self) -> Option<crate::PublicIdentity> {
        Some(*self.inviter.key())
    }

    fn validity(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (None, self.expires)
    }
}

impl Attributed for Invitation {
    const CAPABILITY: Capabilities = Capabilities::ENDORSE;
    fn claimed_member(&self) -> MemberId {
        self.inviter
    }
    fn made_at(&self) -> Timestamp {
        self.created
    }
}
